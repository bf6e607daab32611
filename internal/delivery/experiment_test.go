package delivery_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/memory"
)

// experimental is email content with an experiment: the control (the
// default content, with its French variant) 40 %, treatment B (its own
// content and French variant) 40 %, and a 20 % holdout.
var experimental = campaign.Content{
	Email:    &campaign.EmailContent{Subject: "A {{profile.firstName}}", Text: "a"},
	Variants: map[string]campaign.Variant{"fr": {Email: &campaign.EmailContent{Subject: "A-fr {{profile.firstName}}", Text: "a"}}},
	Experiment: &campaign.Experiment{Treatments: []campaign.Treatment{
		{Name: "control", Percent: 40},
		{Name: "B", Percent: 40, Email: &campaign.EmailContent{Subject: "B {{profile.firstName}}", Text: "b"},
			Variants: map[string]campaign.Variant{"fr": {Email: &campaign.EmailContent{Subject: "B-fr {{profile.firstName}}", Text: "b"}}}},
	}},
}

func experimentDispatcher(t *testing.T, content campaign.Content) (*memory.Store, *memory.Mailer, *delivery.Dispatcher) {
	t.Helper()
	ctx := context.Background()
	store, mailer := memory.New(), &memory.Mailer{}
	settings := defaultSettings
	cfg := campaign.ChannelConfig{ID: "cfg-1", Name: "cfg", Channel: campaign.Email, Category: campaign.Transactional, Email: &settings, Revision: 1}
	if err := store.CreateConfig(ctx, acme, cfg); err != nil {
		t.Fatalf("CreateConfig: %v", err)
	}
	spec := campaign.Spec{ChannelConfigID: "cfg-1", Content: content, Audience: campaign.Audience{Namespace: "email"}}
	c := campaign.Campaign{ID: "camp-1", Name: "c", Type: campaign.Transactional, Channel: campaign.Email, Status: campaign.StatusLive,
		Draft: spec, LiveVersion: 1, Revision: 1}
	if err := store.CreateCampaign(ctx, acme, c); err != nil {
		t.Fatalf("CreateCampaign: %v", err)
	}
	v := campaign.Version{CampaignID: "camp-1", Number: 1, Type: campaign.Transactional, Channel: campaign.Email, Spec: spec, ActivatedAt: t0}
	if err := store.Activate(ctx, acme, c, v, 1); err != nil {
		t.Fatalf("Activate: %v", err)
	}
	d := &delivery.Dispatcher{Campaigns: store, Profiles: store, Ledger: store, Mailer: mailer, Log: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return t0 }}
	return store, mailer, d
}

func TestDispatchSendsEachRecipientTheirTreatmentOnceAndHoldsTheHoldoutOut(t *testing.T) {
	ctx := context.Background()
	store, mailer, d := experimentDispatcher(t, experimental)
	var rs []delivery.Recipient
	for i := range 60 {
		p := map[string]any{"firstName": "P"}
		if i%2 == 1 {
			p["locale"] = "fr-CA"
		}
		rs = append(rs, delivery.Recipient{Type: "external", Namespace: "email", UserID: fmt.Sprintf("u%02d@example.com", i), Profile: toObject(p)})
	}
	for range 2 { // the same jobs delivered twice: nothing more is sent
		for i := 0; i < len(rs); i += 20 {
			if err := d.Dispatch(ctx, job(rs[i:i+20]...)); err != nil {
				t.Fatalf("Dispatch: %v", err)
			}
		}
	}
	subjects := map[string][]string{}
	for _, e := range mailer.Sent() {
		subjects[e.To] = append(subjects[e.To], e.Subject)
	}
	entries := map[string]delivery.Entry{}
	for _, e := range store.AllEntries() {
		entries[e.UserID] = e
	}
	wantLabels := map[string]int64{}
	for i, r := range rs {
		want := experimental.Experiment.Assign("camp-1", "email", r.UserID)
		e := entries[r.UserID]
		if e.Treatment != want {
			t.Errorf("%s: ledger treatment %q, want %q", r.UserID, e.Treatment, want)
		}
		if want == campaign.Holdout {
			if e.Outcome != delivery.ExcludedHoldout || len(subjects[r.UserID]) != 0 {
				t.Errorf("%s in the holdout: outcome %s, %d messages; want excluded:holdout and none", r.UserID, e.Outcome, len(subjects[r.UserID]))
			}
			wantLabels["v:holdout/#excluded:holdout"]++
			continue
		}
		prefix, variant := map[string]string{"control": "A", "B": "B"}[want], "default"
		if i%2 == 1 {
			prefix, variant = prefix+"-fr", "fr"
		}
		if got := subjects[r.UserID]; len(got) != 1 || got[0] != prefix+" P" {
			t.Errorf("%s (%s): sent %q, want exactly one %q", r.UserID, want, got, prefix+" P")
		}
		if e.Outcome != delivery.Sent || e.Variant != variant {
			t.Errorf("%s: outcome %s variant %q, want sent %q", r.UserID, e.Outcome, e.Variant, variant)
		}
		wantLabels["v:"+want+"/"+variant+"#sent"]++
	}
	if len(wantLabels) != 5 {
		t.Fatalf("the 60 recipients fell in %v; the test needs every treatment, locale and the holdout", wantLabels)
	}
	got, err := store.VariantCounts(ctx, acme, "ex-1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantLabels, got); diff != "" {
		t.Errorf("VariantCounts (-want +got):\n%s", diff)
	}
}

func TestAProofSendsTheTreatmentItNamesElseTheDefaultContent(t *testing.T) {
	ctx := context.Background()
	_, mailer, d := experimentDispatcher(t, experimental)
	// A recipient the experiment holds out.
	held := ""
	for i := 0; held == ""; i++ {
		if u := fmt.Sprintf("p%d@example.com", i); experimental.Experiment.Assign("camp-1", "email", u) == campaign.Holdout {
			held = u
		}
	}
	j := job(delivery.Recipient{Type: "external", Namespace: "email", UserID: held, Treatment: "B", Profile: toObject(map[string]any{"firstName": "P"})})
	j.Proof, j.ExecutionID = true, "proof-1"
	if err := d.Dispatch(ctx, j); err != nil {
		t.Fatalf("Dispatch: %v", err)
	}
	j = job(delivery.Recipient{Type: "external", Namespace: "email", UserID: held, Profile: toObject(map[string]any{"firstName": "P"})})
	j.Proof, j.ExecutionID = true, "proof-2"
	if err := d.Dispatch(ctx, j); err != nil {
		t.Fatalf("Dispatch: %v", err)
	}
	var got []string
	for _, e := range mailer.Sent() {
		got = append(got, strings.TrimPrefix(e.Subject, delivery.ProofPrefix))
	}
	if diff := cmp.Diff([]string{"B P", "A P"}, got); diff != "" {
		t.Errorf("proofs sent (-want +got):\n%s", diff)
	}
}
