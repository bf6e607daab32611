// Package experiments_test checks content experiments end to end: Herald
// runs as `make run` does (moto, the gateway, every function), a campaign
// whose content splits its recipients among two treatments and a holdout
// is triggered for a hundred recipients, and what moto really received,
// what the ledger recorded and what the reports count are read back; the
// winner is then promoted and goes live as a new version.
package experiments_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/infra/contract"
	"github.com/heraldhq/herald/infra/localcloud"
	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/status"
	"github.com/heraldhq/herald/internal/tenant"
)

var cloud *localcloud.Cloud

func TestMain(m *testing.M) {
	os.Exit(localcloud.RunSuite(m, &cloud, localcloud.Options{Timing: &localcloud.FastTiming, Contract: contract.MustLoad(),
		Log: localcloud.TestLog()}))
}

// experiment is the campaign's: the control (the default content) 40 %,
// B (its own content, with a French variant) 35 %, the holdout 25 %.
var experiment = campaign.Experiment{Treatments: []campaign.Treatment{{Name: "control", Percent: 40}, {Name: "B", Percent: 35}}}

func TestEachRecipientGetsTheirTreatmentOnceAndTheReportCountsEach(t *testing.T) {
	ctx := context.Background()
	acct, err := cloud.NewAccount(ctx, tenant.Tenant{Org: "EXP1@AdobeOrg", Sandbox: "prod"}, "exp1."+localcloud.DemoSenderDomain)
	if err != nil {
		t.Fatal(err)
	}
	var cfg, camp struct{ ID string }
	cloud.MustExpect(t, acct, "POST", "/channel-configurations", map[string]any{"name": "Offers", "channel": "email", "category": "transactional",
		"email": map[string]any{"fromName": "Shop", "fromAddress": "offers@" + acct.Domain, "trackOpens": true, "trackClicks": true}}, 201, &cfg)
	cloud.MustExpect(t, acct, "POST", "/campaigns", map[string]any{"name": "Offer", "type": "transactional", "channel": "email",
		"channelConfigurationId": cfg.ID, "audience": map[string]any{"namespace": "email"},
		"content": map[string]any{
			"email": map[string]any{"subject": "A {{context.n}}", "html": `<p>Offer A <a href="https://shop.example/a">see</a></p>`},
			"experiment": map[string]any{"treatments": []any{
				map[string]any{"name": "control", "percent": 40},
				map[string]any{"name": "B", "percent": 35,
					"email":    map[string]any{"subject": "B {{context.n}}", "html": `<p>Offer B <a href="https://shop.example/b">see</a></p>`},
					"variants": map[string]any{"fr": map[string]any{"email": map[string]any{"subject": "B-fr {{context.n}}", "html": `<p>Offre B <a href="https://shop.example/b">voir</a></p>`}}}},
			}}}}, 201, &camp)
	var review struct {
		Errors []struct{ Code, Field string }
	}
	cloud.MustExpect(t, acct, "POST", "/campaigns/"+camp.ID+"/review", nil, 200, &review)
	if len(review.Errors) != 0 {
		t.Fatalf("review errors %+v, want none", review.Errors)
	}
	cloud.MustExpect(t, acct, "POST", "/campaigns/"+camp.ID+"/activate", nil, 200, nil)

	var preview struct {
		Email              struct{ Subject string }
		Treatment, Variant string
	}
	cloud.MustExpect(t, acct, "POST", "/campaigns/"+camp.ID+"/preview", map[string]any{"treatment": "B", "locale": "fr-CA",
		"context": map[string]any{"n": "0"}}, 200, &preview)
	if preview.Email.Subject != "B-fr 0" || preview.Treatment != "B" || preview.Variant != "fr" {
		t.Errorf("preview of B in fr-CA = %+v, want B's French variant", preview)
	}

	// A hundred recipients in five calls: every other one clicks (the
	// mailbox simulator's success+click), every third is French.
	type expect struct{ treatment, subject string }
	want := map[string]expect{}
	var executions []string
	for call := range 5 {
		var recipients []any
		for i := call * 20; i < call*20+20; i++ {
			local := fmt.Sprintf("success+%03d", i)
			if i%2 == 0 {
				local = fmt.Sprintf("success+click%03d", i)
			}
			addr := local + "@" + localcloud.SimulatorDomain
			p := map[string]any{}
			if i%3 == 0 {
				p["locale"] = "fr-CA"
			}
			recipients = append(recipients, map[string]any{"type": "external", "namespace": "email", "userId": addr, "profile": p,
				"context": map[string]any{"n": fmt.Sprint(i)}})
			tr := experiment.Assign(camp.ID, "email", addr)
			subject := map[string]string{"control": "A", "B": "B"}[tr]
			if tr == "B" && i%3 == 0 {
				subject = "B-fr"
			}
			want[addr] = expect{tr, subject + " " + fmt.Sprint(i)}
		}
		var accepted struct{ ExecutionID string }
		cloud.MustExpect(t, acct, "POST", "/im/executions/unitary", map[string]any{"requestId": fmt.Sprint("exp-", call), "campaignId": camp.ID,
			"recipients": recipients}, http.StatusAccepted, &accepted)
		executions = append(executions, accepted.ExecutionID)
	}
	drain(t)

	// What moto received: one message per recipient outside the holdout,
	// of their treatment; none for the holdout.
	all, err := cloud.Moto.SentEmails(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, e := range all {
		for _, to := range e.Destinations.To {
			if _, ok := want[to]; ok {
				got[to] = append(got[to], e.Subject)
			}
		}
	}
	per := map[string]int{}
	clicks := map[string]int64{}
	for addr, w := range want {
		per[w.treatment]++
		if w.treatment == campaign.Holdout {
			if len(got[addr]) != 0 {
				t.Errorf("%s is in the holdout but received %q", addr, got[addr])
			}
			continue
		}
		if diff := cmp.Diff([]string{w.subject}, got[addr]); diff != "" {
			t.Errorf("%s (%s): what moto received (-want +got):\n%s", addr, w.treatment, diff)
		}
		if strings.Contains(addr, "click") {
			clicks[w.treatment]++
		}
	}
	if per["control"] == 0 || per["B"] == 0 || per[campaign.Holdout] == 0 {
		t.Fatalf("the hundred recipients split %v; the test needs every treatment and the holdout", per)
	}

	// The ledger records each recipient's treatment.
	treatments := map[string]string{}
	for _, ex := range executions {
		var page struct {
			Recipients []struct{ UserID, Outcome, Treatment string }
		}
		cloud.MustExpect(t, acct, "GET", "/executions/"+ex+"/recipients", nil, 200, &page)
		for _, r := range page.Recipients {
			treatments[r.UserID] = r.Treatment
			if w := want[r.UserID]; (w.treatment == campaign.Holdout) != (r.Outcome == "excluded:holdout") || r.Outcome != "sent" && r.Outcome != "excluded:holdout" {
				t.Errorf("%s (%s): outcome %s", r.UserID, w.treatment, r.Outcome)
			}
		}
	}
	for addr, w := range want {
		if treatments[addr] != w.treatment {
			t.Errorf("%s: the ledger's treatment %q, want %q", addr, treatments[addr], w.treatment)
		}
	}

	// The campaign report counts each treatment (from the counters the
	// Reports function keeps off the stream) with its click-through rate.
	var r status.Report
	cloud.MustExpect(t, acct, "GET", "/campaigns/"+camp.ID+"/report", nil, 200, &r)
	byTreatment := map[string]status.VariantReport{}
	for _, v := range r.Treatments {
		byTreatment[v.Treatment] = v
	}
	for _, tr := range []string{"control", "B"} {
		v, n := byTreatment[tr], int64(per[tr])
		if v.Sent != n || v.Delivered != n || v.Clicked != clicks[tr] {
			t.Errorf("%s: sent %d delivered %d clicked %d, want %d %d %d", tr, v.Sent, v.Delivered, v.Clicked, n, n, clicks[tr])
		}
		if !(v.ClickRateLow < v.ClickRate && v.ClickRate < v.ClickRateHigh) {
			t.Errorf("%s: click rate %v outside its interval [%v, %v]", tr, v.ClickRate, v.ClickRateLow, v.ClickRateHigh)
		}
	}
	if h := byTreatment[campaign.Holdout]; h.Excluded != int64(per[campaign.Holdout]) || h.Sent != 0 || r.Excluded["holdout"] != h.Excluded {
		t.Errorf("holdout: %+v, report excluded %v; want %d excluded, none sent", h, r.Excluded, per[campaign.Holdout])
	}
	var frB int64
	for _, v := range r.Variants {
		if v.Treatment == "B" && v.Locale == "fr" {
			frB = v.Sent
		}
	}
	if frB == 0 {
		t.Errorf("variants %+v, want B's French variant counted", r.Variants)
	}

	// Each execution's report counts its own recipients per treatment
	// (read from its counter items); together they are the campaign's.
	sum := map[string]int64{}
	for _, ex := range executions {
		var er status.Report
		cloud.MustExpect(t, acct, "GET", "/executions/"+ex+"/report", nil, 200, &er)
		for _, v := range er.Treatments {
			sum[v.Treatment] += v.Sent + v.Excluded
		}
	}
	if diff := cmp.Diff(map[string]int64{"control": int64(per["control"]), "B": int64(per["B"]), campaign.Holdout: int64(per[campaign.Holdout])}, sum); diff != "" {
		t.Errorf("the executions' reports per treatment, summed (-want +got):\n%s", diff)
	}

	// B wins: promoted, reviewed and activated as version 2, it is what a
	// recipient the experiment held out now gets.
	var promoted struct {
		DraftPending bool
	}
	cloud.MustExpect(t, acct, "POST", "/campaigns/"+camp.ID+"/promote", map[string]any{"treatment": "B"}, 200, &promoted)
	var live struct{ LiveVersion int }
	cloud.MustExpect(t, acct, "POST", "/campaigns/"+camp.ID+"/activate", nil, 200, &live)
	if !promoted.DraftPending || live.LiveVersion != 2 {
		t.Fatalf("promote then activate: pending %t, live version %d; want a pending draft, then version 2", promoted.DraftPending, live.LiveVersion)
	}
	held := ""
	for addr, w := range want {
		if w.treatment == campaign.Holdout && !strings.Contains(addr, "click") {
			held = addr
			break
		}
	}
	cloud.MustExpect(t, acct, "POST", "/im/executions/unitary", map[string]any{"requestId": "exp-after", "campaignId": camp.ID,
		"recipients": []any{map[string]any{"type": "external", "namespace": "email", "userId": held, "context": map[string]any{"n": "x"}}}},
		http.StatusAccepted, nil)
	drain(t)
	all, err = cloud.Moto.SentEmails(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var after []string
	for _, e := range all {
		if len(e.Destinations.To) == 1 && e.Destinations.To[0] == held {
			after = append(after, e.Subject)
		}
	}
	if diff := cmp.Diff([]string{"B x"}, after); diff != "" {
		t.Errorf("what the once held-out recipient received after the promotion (-want +got):\n%s", diff)
	}
}

func drain(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := cloud.Drain(ctx); err != nil {
		t.Fatal(err)
	}
}
