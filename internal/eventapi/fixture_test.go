package eventapi_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/audience"
	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/contextschema"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/tenant"
)

var (
	acme    = tenant.Tenant{Org: "acme", Sandbox: "prod"}
	now     = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	discard = slog.New(slog.DiscardHandler)
)

// fixture is the execution services on memory fakes, with a live
// transactional email campaign "tx" and a live marketing campaign "mk"
// whose audience "aud" has three members.
type fixture struct {
	store   *memory.Store
	queue   *memory.Queue
	sched   *memory.Scheduler
	unitary *execution.Unitary
	aud     *execution.AudienceExecutions
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{store: memory.New(), queue: &memory.Queue{}, sched: &memory.Scheduler{}}
	putCampaign(t, f.store, "tx", campaign.StatusLive, campaign.Transactional, campaign.Spec{Audience: campaign.Audience{Namespace: "email"}})
	putCampaign(t, f.store, "mk", campaign.StatusLive, campaign.Marketing, campaign.Spec{Audience: campaign.Audience{Namespace: "crmId", AudienceID: "aud"}})
	ctx := context.Background()
	if err := f.store.CreateAudience(ctx, acme, audience.Audience{ID: "aud", Name: "all"}); err != nil {
		t.Fatal(err)
	}
	ms := []audience.Member{{Namespace: "crmId", ID: "u1"}, {Namespace: "crmId", ID: "u2"}, {Namespace: "crmId", ID: "u3"}}
	if _, err := f.store.AddMembers(ctx, acme, "aud", ms); err != nil {
		t.Fatal(err)
	}
	ids := 0
	newID := func() string { ids++; return fmt.Sprintf("ex-%d", ids) }
	clock := func() time.Time { return now }
	f.unitary = &execution.Unitary{Schemas: contextschema.Compiler{}, Store: f.store, Campaigns: f.store, Profiles: f.store, Queue: f.queue, Log: discard, Now: clock, NewID: newID}
	f.aud = &execution.AudienceExecutions{Schemas: contextschema.Compiler{}, Records: f.store, Executions: f.store, Campaigns: f.store, Members: f.store, Queue: f.queue,
		Pacer: f.store, Schedules: f.sched, Log: discard, Now: clock, NewID: newID, InlineBudget: time.Minute}
	return f
}

// putCampaign stores campaign id in status st; unless st is draft it
// also stores version 1 of type typ with spec, activated at now.
func putCampaign(tb testing.TB, store *memory.Store, id string, st campaign.Status, typ campaign.Type, spec campaign.Spec) {
	tb.Helper()
	c := campaign.Campaign{ID: id, Name: id, Type: typ, Channel: campaign.Email, Status: st, Draft: spec}
	if st != campaign.StatusDraft {
		c.LiveVersion = 1
	}
	if err := store.SeedCampaign(acme, c, now); err != nil {
		tb.Fatal(err)
	}
}

// recipients lists the userIds of the queued jobs' recipients, in order.
func (f *fixture) recipients() []string {
	var out []string
	for _, j := range f.queue.Jobs() {
		for _, r := range j.Recipients {
			out = append(out, r.UserID)
		}
	}
	return out
}
