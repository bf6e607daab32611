package preview_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/capping"
	"github.com/heraldhq/herald/internal/preview"
	"github.com/heraldhq/herald/internal/profile"
)

// Preview with a userId says whether a message to that profile would be
// capped now: the channel's rules, the count in each window, the verdict.
func TestPreviewSaysWhetherTheProfileWouldBeCapped(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	caps := &capping.Service{Store: f.store}
	f.svc.Caps, f.svc.Now = caps, func() time.Time { return now }
	rules := []capping.Rule{{Channel: campaign.Email, Limit: 1, Window: capping.Rolling24h}, {Channel: campaign.Email, Limit: 5, Window: capping.CalendarMonth}}
	if _, err := caps.SetRules(ctx, acme, capping.RuleSet{Rules: rules}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Put(ctx, acme, profile.Profile{Namespace: "crmId", ID: "42"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := f.camps.CreateConfig(ctx, acme, campaign.ConfigInput{Name: "news", Channel: campaign.Email,
		Category: campaign.Marketing, Email: &campaign.EmailSettings{FromName: "Acme", FromAddress: "news@acme.example"}})
	if err != nil {
		t.Fatal(err)
	}
	create := func(typ campaign.Type, cfgID string, exempt bool) string {
		c, err := f.camps.CreateCampaign(ctx, acme, campaign.CampaignInput{Name: "n", Type: typ, Channel: campaign.Email, ChannelConfigID: cfgID,
			Audience: campaign.Audience{Namespace: "crmId"}, FrequencyCapExempt: exempt,
			Content: campaign.Content{Email: &campaign.EmailContent{Subject: "Sale", Text: "Now"}}})
		if err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	look := func(id string) *preview.FrequencyCap {
		t.Helper()
		res, err := f.svc.Preview(ctx, acme, id, preview.Request{UserID: "42"})
		if err != nil {
			t.Fatal(err)
		}
		return res.FrequencyCap
	}
	marketing := create(campaign.Marketing, cfg.ID, false)

	if got := look(marketing); got == nil || !got.Applies || got.Capped || len(got.Rules) != 2 || got.Rules[0].Count != 0 {
		t.Errorf("before any message: %+v, want applying, not capped, two rules at 0", got)
	}
	if _, err := caps.Reserve(ctx, acme, capping.Key{Channel: campaign.Email, Namespace: "crmId", UserID: "42"}, "earlier", now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	want := &preview.FrequencyCap{Applies: true, Capped: true, Rule: &rules[0], Rules: []capping.RuleCount{
		{Rule: rules[0], Count: 1, Since: now.Add(-24 * time.Hour), Full: true},
		{Rule: rules[1], Count: 1, Since: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)},
	}}
	if diff := cmp.Diff(want, look(marketing)); diff != "" {
		t.Errorf("after one message (-want +got):\n%s", diff)
	}
	if got := look(create(campaign.Marketing, cfg.ID, true)); got == nil || got.Applies || got.Reason != preview.CapExempt {
		t.Errorf("an exempt campaign: %+v, want not applying (exempt)", got)
	}
	if got := look(create(campaign.Transactional, f.cfgID, false)); got == nil || got.Applies || got.Reason != preview.CapNotMarketing {
		t.Errorf("a transactional campaign: %+v, want not applying (transactional)", got)
	}
	if res, err := f.svc.Preview(ctx, acme, marketing, preview.Request{}); err != nil || res.FrequencyCap != nil {
		t.Errorf("without a userId: %+v, %v; want no frequencyCap", res.FrequencyCap, err)
	}
}
