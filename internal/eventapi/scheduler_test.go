package eventapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/eventapi"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/recurrence"
	"github.com/heraldhq/herald/internal/schedule"
	"github.com/heraldhq/herald/internal/tenant"
)

// lifecycle records the campaign moves a schedule asks for and answers
// with c (at the asked id) or err.
type lifecycle struct {
	calls []string
	c     campaign.Campaign
	err   error
}

func (l *lifecycle) MarkLive(_ context.Context, _ tenant.Tenant, id string) (campaign.Campaign, error) {
	return l.mark("live "+id, id)
}

func (l *lifecycle) MarkCompleted(_ context.Context, _ tenant.Tenant, id string) (campaign.Campaign, error) {
	return l.mark("completed "+id, id)
}

func (l *lifecycle) mark(call, id string) (campaign.Campaign, error) {
	l.calls = append(l.calls, call)
	if l.err != nil {
		return campaign.Campaign{}, l.err
	}
	c := l.c
	c.ID = id
	return c, nil
}

func (f *fixture) schedules(l *lifecycle) *eventapi.Schedules {
	clock := func() time.Time { return now }
	rec := &recurrence.Service{Store: f.store, Campaigns: f.store, Schedules: f.sched, Audiences: f.aud, Log: discard, Now: clock,
		NewID: func() string { return "rec-1" }}
	return &eventapi.Schedules{Audiences: f.aud, Recurrences: rec, Campaigns: l, Log: discard, Budget: time.Minute}
}

func TestSchedulesRunEachKindOfSchedule(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// setup prepares the fixture and returns the input that fires.
		setup  func(t *testing.T, f *fixture) schedule.Input
		queued []string
	}{
		{
			name: "a scheduled execution fans out when its schedule fires",
			setup: func(t *testing.T, f *fixture) schedule.Input {
				at := now.Add(time.Hour)
				resp, err := f.aud.Start(ctx, acme, "hk", execution.AudienceRequest{RequestID: "later", CampaignID: "mk", Schedule: &execution.ScheduleRequest{ExecuteAt: &at}})
				if err != nil {
					t.Fatal(err)
				}
				f.aud.Now = func() time.Time { return at }
				return schedule.Input{Kind: schedule.KindExecution, Org: acme.Org, Sandbox: acme.Sandbox, CampaignID: "mk",
					ExecutionID: resp.(execution.ScheduledResponse).ScheduleID}
			},
			queued: []string{"u1", "u2", "u3"},
		},
		{
			name: "a continuation resumes a running fan-out from its cursor",
			setup: func(t *testing.T, f *fixture) schedule.Input {
				ex := execution.AudienceExecution{ID: "ex-run", RequestID: "run", CampaignID: "mk", Version: 1, Channel: campaign.Email,
					AudienceID: "aud", CreatedAt: now, CreatedBy: "hk", State: execution.StateRunning, StartedAt: now, Targeted: 1, Enqueued: 1,
					Cursor: cursorAfter(t, f, "u1")}
				if err := f.store.BeginAudience(ctx, acme, execution.Record{RequestID: "run", Response: execution.Response{ExecutionID: "ex-run"}}, ex); err != nil {
					t.Fatal(err)
				}
				return schedule.Input{Kind: schedule.KindContinue, Org: acme.Org, Sandbox: acme.Sandbox, CampaignID: "mk", ExecutionID: "ex-run"}
			},
			queued: []string{"u2", "u3"},
		},
		{
			name: "a recurrence's firing starts an audience execution",
			setup: func(t *testing.T, f *fixture) schedule.Input {
				if _, err := f.schedules(&lifecycle{}).Recurrences.Create(ctx, acme, "mk", recurrence.Input{Expression: "rate(1 day)"}); err != nil {
					t.Fatal(err)
				}
				return schedule.Input{Kind: schedule.KindRecurrence, Org: acme.Org, Sandbox: acme.Sandbox, CampaignID: "mk", RecurrenceID: "rec-1",
					ScheduledTime: "2026-03-02T12:00:00Z"}
			},
			queued: []string{"u1", "u2", "u3"},
		},
		{
			name: "an execution the schedule no longer knows is nothing to do",
			setup: func(*testing.T, *fixture) schedule.Input {
				return schedule.Input{Kind: schedule.KindExecution, Org: acme.Org, Sandbox: acme.Sandbox, ExecutionID: "gone"}
			},
		},
		{
			name: "a recurrence deleted before it fired is nothing to do",
			setup: func(t *testing.T, f *fixture) schedule.Input {
				var in schedule.Input
				if err := json.Unmarshal(loadEvent(t, "scheduler.recurrence-deleted.json"), &in); err != nil {
					t.Fatal(err)
				}
				return in
			},
		},
		{
			name: "an input Herald did not write is dropped",
			setup: func(*testing.T, *fixture) schedule.Input {
				return schedule.Input{Kind: "reboot", Org: acme.Org, Sandbox: acme.Sandbox}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			in := tt.setup(t, f)
			if err := f.schedules(&lifecycle{}).Handle(ctx, in); err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if diff := cmp.Diff(tt.queued, f.recipients()); diff != "" {
				t.Errorf("queued recipients (-want +got):\n%s", diff)
			}
		})
	}
}

// cursorAfter is the audience cursor that resumes after member id.
func cursorAfter(t *testing.T, f *fixture, id string) string {
	t.Helper()
	p, err := f.store.Members(context.Background(), acme, "aud", "", 1)
	if err != nil || len(p.Members) != 1 || p.Members[0].ID != id {
		t.Fatalf("first member page %+v, %v; want %s", p, err, id)
	}
	return p.Next
}

func TestSchedulesMoveTheCampaignTheyWereMadeFor(t *testing.T) {
	ctx := context.Background()
	startRef := schedule.Name(acme, "s2", "mk")
	tests := []struct {
		name  string
		in    schedule.Input
		err   error
		calls []string
		// refs are the campaign's schedule refs afterwards.
		refs    []string
		wantErr bool
	}{
		{
			name:  "a start schedule turns the campaign live and forgets its own ref",
			in:    schedule.Input{Kind: schedule.KindCampaignStart, Org: acme.Org, Sandbox: acme.Sandbox, CampaignID: "mk"},
			calls: []string{"live mk"},
		},
		{
			name:  "an end schedule completes the campaign",
			in:    schedule.Input{Kind: schedule.KindCampaignEnd, Org: acme.Org, Sandbox: acme.Sandbox, CampaignID: "mk"},
			calls: []string{"completed mk"},
			refs:  []string{startRef},
		},
		{
			name:  "a campaign already moved is nothing to do",
			in:    schedule.Input{Kind: schedule.KindCampaignStart, Org: acme.Org, Sandbox: acme.Sandbox, CampaignID: "mk"},
			err:   derrors.New(derrors.Conflict, "campaign is stopped"),
			calls: []string{"live mk"},
			refs:  []string{startRef},
		},
		{
			name:  "a deleted campaign is nothing to do",
			in:    schedule.Input{Kind: schedule.KindCampaignEnd, Org: acme.Org, Sandbox: acme.Sandbox, CampaignID: "mk"},
			err:   derrors.New(derrors.NotFound, "campaign not found"),
			calls: []string{"completed mk"},
			refs:  []string{startRef},
		},
		{
			name:    "a store failure is an error, so Scheduler retries",
			in:      schedule.Input{Kind: schedule.KindCampaignStart, Org: acme.Org, Sandbox: acme.Sandbox, CampaignID: "mk"},
			err:     errors.New("store down"),
			calls:   []string{"live mk"},
			refs:    []string{startRef},
			wantErr: true,
		},
		{
			name:    "an input without a valid tenant is an error and moves nothing",
			in:      schedule.Input{Kind: schedule.KindCampaignStart, Org: "", Sandbox: acme.Sandbox, CampaignID: "mk"},
			refs:    []string{startRef},
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if err := f.store.PutScheduleRef(ctx, acme, "mk", execution.ScheduleRef{Name: startRef, Kind: schedule.KindCampaignStart}); err != nil {
				t.Fatal(err)
			}
			l := &lifecycle{c: campaign.Campaign{Status: campaign.StatusLive, LiveVersion: 2}, err: tt.err}
			err := f.schedules(l).Handle(ctx, tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Handle = %v, want an error: %t", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.calls, l.calls); diff != "" {
				t.Errorf("campaign moves (-want +got):\n%s", diff)
			}
			refs, err := f.store.ScheduleRefs(ctx, acme, "mk")
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, r := range refs {
				names = append(names, r.Name)
			}
			if diff := cmp.Diff(tt.refs, names); diff != "" {
				t.Errorf("schedule refs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTheSchedulerFixtureFindsNothingToDo(t *testing.T) {
	f := newFixture(t)
	var in schedule.Input
	if err := json.Unmarshal(loadEvent(t, "scheduler.campaign-start-nothing-to-do.json"), &in); err != nil {
		t.Fatal(err)
	}
	l := &lifecycle{err: derrors.New(derrors.Conflict, "campaign is live")}
	if err := f.schedules(l).Handle(context.Background(), in); err != nil {
		t.Errorf("Handle = %v, want nil: a campaign already live is nothing to retry", err)
	}
	if diff := cmp.Diff([]string{"live tx"}, l.calls); diff != "" {
		t.Errorf("campaign moves (-want +got):\n%s", diff)
	}
}

// waker records the deferred jobs a schedule wakes.
type waker struct{ woken []string }

func (w *waker) Wake(_ context.Context, t tenant.Tenant, exec, id string) error {
	w.woken = append(w.woken, t.Org+" "+exec+" "+id)
	return nil
}

func TestADeferredJobsScheduleWakesIt(t *testing.T) {
	f := newFixture(t)
	in := schedule.Input{Kind: schedule.KindDeferred, Org: "acme", Sandbox: "prod", ExecutionID: "ex-1", CampaignID: "c1", JobID: "j1"}
	s := f.schedules(&lifecycle{})
	if err := s.Handle(context.Background(), in); err == nil {
		t.Error("Handle without a waker = nil; want an error, so Scheduler retries instead of losing the recipients")
	}
	w := &waker{}
	s.Deferred = w
	if err := s.Handle(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"acme ex-1 j1"}, w.woken); diff != "" {
		t.Errorf("woken (-want +got):\n%s", diff)
	}
}
