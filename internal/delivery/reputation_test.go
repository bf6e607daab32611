package delivery_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/reputation"
	"github.com/heraldhq/herald/internal/tenant"
)

// countingGuards is the store's guards, counting the reads.
type countingGuards struct {
	delivery.Guards
	reads atomic.Int32
}

func (c *countingGuards) ReputationGuard(ctx context.Context, t tenant.Tenant, ch campaign.Channel) (reputation.Guard, error) {
	c.reads.Add(1)
	return c.Guards.ReputationGuard(ctx, t, ch)
}

// withMarketing adds the live marketing email campaign mkt-1 to f.
func withMarketing(t *testing.T, f *fixture) {
	t.Helper()
	ctx := context.Background()
	spec := campaign.Spec{ChannelConfigID: "cfg-1", Content: campaign.Content{Email: &campaign.EmailContent{Subject: "Sale", Text: "Sale"}}, Audience: campaign.Audience{Namespace: "email"}}
	c := campaign.Campaign{ID: "mkt-1", Name: "m", Type: campaign.Marketing, Channel: campaign.Email, Status: campaign.StatusDraft, Draft: spec, Revision: 1}
	if err := f.store.CreateCampaign(ctx, acme, c); err != nil {
		t.Fatal(err)
	}
	c.Status, c.LiveVersion, c.Revision = campaign.StatusLive, 1, 2
	if err := f.store.Activate(ctx, acme, c, campaign.Version{CampaignID: "mkt-1", Number: 1, Type: campaign.Marketing, Channel: campaign.Email, Spec: spec}, 1); err != nil {
		t.Fatal(err)
	}
}

func TestDispatchUnderAPausedReputationGuard(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, defaultContent, defaultSettings)
	withMarketing(t, f)
	guards := &countingGuards{Guards: f.store}
	f.d.Guards = guards
	for _, id := range []string{"a@example.com", "b@example.com"} {
		f.putProfile(t, profile.Profile{Namespace: "email", ID: id, Attributes: map[string]any{"email": id}})
	}
	if _, err := f.store.PauseReputation(ctx, acme, reputation.Guard{Channel: campaign.Email, Paused: true, Since: t0,
		Reason: reputation.ReasonBounceRate}); err != nil {
		t.Fatal(err)
	}
	mkt := func(exec string) delivery.Job {
		return delivery.Job{Tenant: acme, ExecutionID: exec, CampaignID: "mkt-1", Version: 1, Recipients: []delivery.Recipient{
			{Type: "aep", Namespace: "email", UserID: "a@example.com"}, {Type: "aep", Namespace: "email", UserID: "b@example.com"}}}
	}

	if err := f.d.Dispatch(ctx, mkt("ex-m1")); err != nil {
		t.Fatal(err)
	}
	want := []outcome{{"a@example.com", delivery.Done, delivery.ExcludedReputationPaused}, {"b@example.com", delivery.Done, delivery.ExcludedReputationPaused}}
	if diff := cmp.Diff(want, f.ledger()); diff != "" {
		t.Errorf("marketing ledger (-want +got):\n%s", diff)
	}
	f.wantSent(t, 0, "sent %d marketing emails while paused, want 0")

	// Transactional goes out, and does not even read the guard.
	tx := delivery.Job{Tenant: acme, ExecutionID: "ex-t", CampaignID: "camp-1", Version: 1,
		Recipients: []delivery.Recipient{{Type: "external", Namespace: "email", UserID: "t1", Email: "t1@example.com"}}}
	if err := f.d.Dispatch(ctx, tx); err != nil {
		t.Fatal(err)
	}
	f.wantSent(t, 1, "sent %d transactional emails while paused, want 1")
	if n := guards.reads.Load(); n != 1 {
		t.Errorf("guard reads after one marketing and one transactional job = %d, want 1", n)
	}

	// Lifted: the warm function trusts its read for a minute, then sees it.
	if err := f.store.LiftReputation(ctx, acme, campaign.Email, t0, reputation.Counts{}); err != nil {
		t.Fatal(err)
	}
	if err := f.d.Dispatch(ctx, mkt("ex-m2")); err != nil {
		t.Fatal(err)
	}
	if n := guards.reads.Load(); n != 1 {
		t.Errorf("guard reads within a minute = %d, want 1 (cached)", n)
	}
	f.wantSent(t, 1, "sent %d emails, want still 1 within the cached minute")
	f.mu.Lock()
	f.now = f.now.Add(delivery.GuardTTL)
	f.mu.Unlock()
	if err := f.d.Dispatch(ctx, mkt("ex-m3")); err != nil {
		t.Fatal(err)
	}
	if n := guards.reads.Load(); n != 2 {
		t.Errorf("guard reads after a minute = %d, want 2", n)
	}
	f.wantSent(t, 3, "sent %d emails after the lift was seen, want 3")
}
