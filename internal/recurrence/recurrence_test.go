package recurrence_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/audience"
	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/contextschema"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/recurrence"
	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/internal/schedule"
	"github.com/heraldhq/herald/internal/tenant"
)

var (
	acme    = tenant.Tenant{Org: "acme", Sandbox: "prod"}
	now     = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) // a Sunday
	discard = slog.New(slog.DiscardHandler)
)

// fixture is a recurrence service on memory fakes. Its campaigns, all
// email, version 1:
//
//	mk      live marketing, audience aud (3 members)
//	paced   live marketing at 1 message/s, audience aud
//	later   scheduled marketing, audience aud
//	tx      live transactional
//	draft   never activated
//	stopped stopped marketing
//
// and audience big has 100 members.
type fixture struct {
	store *memory.Store
	queue *memory.Queue
	sched *memory.Scheduler
	aud   *execution.AudienceExecutions
	svc   *recurrence.Service
	clock time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{store: memory.New(), queue: &memory.Queue{}, sched: &memory.Scheduler{}, clock: now}
	onAud := campaign.Spec{Audience: campaign.Audience{Namespace: "crmId", AudienceID: "aud"}}
	putCampaign(t, f.store, "mk", campaign.StatusLive, campaign.Marketing, onAud)
	paced := onAud
	paced.Schedule.DeliveryRate = 1
	putCampaign(t, f.store, "paced", campaign.StatusLive, campaign.Marketing, paced)
	putCampaign(t, f.store, "later", campaign.StatusScheduled, campaign.Marketing, onAud)
	putCampaign(t, f.store, "tx", campaign.StatusLive, campaign.Transactional, campaign.Spec{})
	putCampaign(t, f.store, "draft", campaign.StatusDraft, campaign.Marketing, onAud)
	putCampaign(t, f.store, "stopped", campaign.StatusStopped, campaign.Marketing, onAud)
	addAudience(t, f.store, "aud", 3)
	addAudience(t, f.store, "big", 100)
	clock := func() time.Time { return f.clock }
	execs, recs := 0, 0
	f.aud = &execution.AudienceExecutions{Schemas: contextschema.Compiler{}, Records: f.store, Executions: f.store, Campaigns: f.store, Members: f.store, Queue: f.queue,
		Pacer: f.store, Schedules: f.sched, Log: discard, Now: clock, InlineBudget: time.Minute,
		NewID: func() string { execs++; return fmt.Sprintf("ex-%d", execs) }}
	f.svc = &recurrence.Service{Store: f.store, Campaigns: f.store, Schedules: f.sched, Audiences: f.aud, Log: discard, Now: clock,
		NewID: func() string { recs++; return fmt.Sprintf("rec-%d", recs) }}
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

func addAudience(t *testing.T, store *memory.Store, id string, n int) {
	t.Helper()
	ctx := context.Background()
	if err := store.CreateAudience(ctx, acme, audience.Audience{ID: id, Name: id}); err != nil {
		t.Fatal(err)
	}
	ms := make([]audience.Member, n)
	for i := range ms {
		ms[i] = audience.Member{Namespace: "crmId", ID: fmt.Sprintf("%s-u%03d", id, i)}
	}
	if _, err := store.AddMembers(ctx, acme, id, ms); err != nil {
		t.Fatal(err)
	}
}

// fields names the fields of a validation error.
func fields(err error) []string {
	var de *derrors.Error
	if !errors.As(err, &de) {
		return nil
	}
	var out []string
	for _, f := range de.Fields {
		out = append(out, f.Field)
	}
	return out
}

func codes(fs []derrors.FieldError) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Code)
	}
	return out
}

func (f *fixture) recurrences(t *testing.T, campaignID string) []recurrence.Recurrence {
	t.Helper()
	recs, err := f.store.ListRecurrences(context.Background(), acme, campaignID)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestCreateRefusesRecurrencesThatCannotRun(t *testing.T) {
	big := render.MustParseObject(`{"blob":"` + strings.Repeat("x", execution.MaxContextSize) + `"}`)
	tests := []struct {
		name     string
		campaign string
		in       recurrence.Input
		kind     derrors.Kind
		fields   []string
	}{
		{"a missing expression is invalid", "mk", recurrence.Input{}, derrors.Invalid, []string{"expression"}},
		{"an at() expression is invalid: recurrences are cron or rate", "mk", recurrence.Input{Expression: "at(2026-04-01T09:00:00)"}, derrors.Invalid, []string{"expression"}},
		{"an expression that does not parse is invalid", "mk", recurrence.Input{Expression: "every monday"}, derrors.Invalid, []string{"expression"}},
		{"a rate with a singular unit above 1 is invalid", "mk", recurrence.Input{Expression: "rate(5 minute)"}, derrors.Invalid, []string{"expression"}},
		{"an unknown time zone is invalid", "mk", recurrence.Input{Expression: "rate(1 day)", TimeZone: "Mars/Olympus"}, derrors.Invalid, []string{"timeZone"}},
		{"the Local time zone is invalid", "mk", recurrence.Input{Expression: "rate(1 day)", TimeZone: "Local"}, derrors.Invalid, []string{"timeZone"}},
		{"a reserved context field is invalid", "mk", recurrence.Input{Expression: "rate(1 day)", Context: render.MustParseObject(`{"system":1}`)}, derrors.Invalid, []string{"context.system"}},
		{"a context over the limit is invalid", "mk", recurrence.Input{Expression: "rate(1 day)", Context: big}, derrors.Invalid, []string{"context"}},
		{"an empty audience id is invalid", "mk", recurrence.Input{Expression: "rate(1 day)", Audience: &execution.AudienceRef{}}, derrors.Invalid, []string{"audience.id"}},
		{"every wrong field is named at once", "mk",
			recurrence.Input{Expression: "cron(0 9 * * * *)", TimeZone: "Nowhere", Context: render.MustParseObject(`{"system":true}`)},
			derrors.Invalid, []string{"expression", "timeZone", "context.system"}},
		{"an unknown campaign is not found", "nope", recurrence.Input{Expression: "rate(1 day)"}, derrors.NotFound, nil},
		{"a transactional campaign is a conflict", "tx", recurrence.Input{Expression: "rate(1 day)"}, derrors.Conflict, nil},
		{"a draft campaign is a conflict", "draft", recurrence.Input{Expression: "rate(1 day)"}, derrors.Conflict, nil},
		{"a stopped campaign is a conflict", "stopped", recurrence.Input{Expression: "rate(1 day)"}, derrors.Conflict, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			_, err := f.svc.Create(context.Background(), acme, tt.campaign, tt.in)
			if k := derrors.KindOf(err); k != tt.kind {
				t.Fatalf("Create error %v (kind %v), want kind %v", err, k, tt.kind)
			}
			if diff := cmp.Diff(tt.fields, fields(err)); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
			if n := len(f.sched.Schedules()); n != 0 {
				t.Errorf("refused, yet %d schedules were created", n)
			}
			if recs := f.recurrences(t, tt.campaign); len(recs) != 0 {
				t.Errorf("refused, yet stored %+v", recs)
			}
		})
	}
}

func TestCreateStoresTheRecurrenceAndItsSchedule(t *testing.T) {
	tests := []struct {
		name     string
		campaign string
		in       recurrence.Input
		want     recurrence.Recurrence
		next     recurrence.NextFiring
	}{
		{
			name:     "a cron expression fires in its time zone",
			campaign: "mk",
			in:       recurrence.Input{Expression: "cron(0 9 ? * MON-FRI *)", TimeZone: "Europe/Paris", Context: render.MustParseObject(`{"promo":"spring"}`)},
			want: recurrence.Recurrence{ID: "rec-1", CampaignID: "mk", Expression: "cron(0 9 ? * MON-FRI *)", TimeZone: "Europe/Paris",
				Context: render.MustParseObject(`{"promo":"spring"}`), ScheduleName: schedule.Name(acme, "r", "rec-1"), CreatedAt: now},
			next: recurrence.NextFiring{UTC: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), Local: "2026-03-02T09:00:00+01:00"},
		},
		{
			name:     "a rate expression without a time zone is read in UTC",
			campaign: "later",
			in:       recurrence.Input{Expression: "rate(6 hours)", Audience: &execution.AudienceRef{ID: "big"}},
			want: recurrence.Recurrence{ID: "rec-1", CampaignID: "later", Expression: "rate(6 hours)", TimeZone: "UTC", AudienceID: "big",
				ScheduleName: schedule.Name(acme, "r", "rec-1"), CreatedAt: now},
			next: recurrence.NextFiring{UTC: now.Add(6 * time.Hour), Local: "2026-03-01T18:00:00Z"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			view, err := f.svc.Create(ctx, acme, tt.campaign, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			want := recurrence.View{Recurrence: tt.want, NextFiring: &tt.next}
			if diff := cmp.Diff(want, view); diff != "" {
				t.Errorf("view (-want +got):\n%s", diff)
			}
			stored, err := f.store.GetRecurrence(ctx, acme, tt.campaign, "rec-1")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want.ScheduleName, stored.ScheduleName); diff != "" || stored.Expression != tt.want.Expression {
				t.Errorf("stored %+v, want %+v", stored, tt.want)
			}
			sc, ok := f.sched.Schedules()[tt.want.ScheduleName]
			if !ok {
				t.Fatalf("no schedule %s in %v", tt.want.ScheduleName, f.sched.Schedules())
			}
			var in schedule.Input
			if err := json.Unmarshal(sc.Input, &in); err != nil {
				t.Fatal(err)
			}
			wantInput := schedule.Input{Kind: schedule.KindRecurrence, Org: acme.Org, Sandbox: acme.Sandbox, CampaignID: tt.campaign,
				RecurrenceID: "rec-1", ScheduledTime: schedule.ScheduledTimeAttribute}
			if diff := cmp.Diff(wantInput, in); diff != "" {
				t.Errorf("schedule input (-want +got):\n%s", diff)
			}
			if sc.Expression != tt.want.Expression || sc.TimeZone != tt.want.TimeZone || sc.OneTime {
				t.Errorf("schedule %+v, want recurring %s in %s", sc, tt.want.Expression, tt.want.TimeZone)
			}
		})
	}
}

func TestCreateWarnsWhenAFiringCannotKeepUp(t *testing.T) {
	tests := []struct {
		name  string
		in    recurrence.Input
		codes []string
	}{
		{"the campaign's audience sent at its rate fits between firings", recurrence.Input{Expression: "rate(1 minute)"}, nil},
		{"an audience that takes longer than the gap between firings is warned about",
			recurrence.Input{Expression: "cron(0/1 * * * ? *)", Audience: &execution.AudienceRef{ID: "big"}}, []string{recurrence.CodeOutpaced}},
		{"an audience that does not exist yet is warned about",
			recurrence.Input{Expression: "rate(1 day)", Audience: &execution.AudienceRef{ID: "tomorrow"}}, []string{"audience_not_found"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			view, err := f.svc.Create(context.Background(), acme, "paced", tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.codes, codes(view.Warnings)); diff != "" {
				t.Errorf("warning codes (-want +got):\n%s", diff)
			}
			if len(f.sched.Schedules()) != 1 {
				t.Errorf("schedules %v, want the recurrence's: a warning does not refuse it", f.sched.Schedules())
			}
		})
	}
}

func TestACampaignHoldsAtMostMaxRecurrences(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for i := range recurrence.Max {
		if _, err := f.svc.Create(ctx, acme, "mk", recurrence.Input{Expression: "rate(1 day)"}); err != nil {
			t.Fatalf("recurrence %d: %v", i+1, err)
		}
	}
	_, err := f.svc.Create(ctx, acme, "mk", recurrence.Input{Expression: "rate(1 day)"})
	if !derrors.Is(err, derrors.Conflict) {
		t.Fatalf("recurrence %d: %v, want a conflict", recurrence.Max+1, err)
	}
	if n := len(f.recurrences(t, "mk")); n != recurrence.Max {
		t.Errorf("%d recurrences stored, want %d", n, recurrence.Max)
	}
}

func TestCreateForgetsARecurrenceWhoseScheduleFails(t *testing.T) {
	f := newFixture(t)
	f.sched.Err = errors.New("scheduler down")
	if _, err := f.svc.Create(context.Background(), acme, "mk", recurrence.Input{Expression: "rate(1 day)"}); err == nil {
		t.Fatal("Create = nil with the scheduler down")
	}
	if recs := f.recurrences(t, "mk"); len(recs) != 0 {
		t.Errorf("stored %+v without a schedule", recs)
	}
}

func TestListAndDelete(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, expr := range []string{"rate(1 day)", "rate(2 days)"} {
		if _, err := f.svc.Create(ctx, acme, "mk", recurrence.Input{Expression: expr}); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("List shows each recurrence with its next firing", func(t *testing.T) {
		views, err := f.svc.List(ctx, acme, "mk")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, v := range views {
			got = append(got, v.ID+" "+v.NextFiring.UTC.Format(time.RFC3339))
		}
		if diff := cmp.Diff([]string{"rec-1 2026-03-02T12:00:00Z", "rec-2 2026-03-03T12:00:00Z"}, got); diff != "" {
			t.Errorf("recurrences (-want +got):\n%s", diff)
		}
	})
	t.Run("List of an unknown campaign is not found", func(t *testing.T) {
		if _, err := f.svc.List(ctx, acme, "nope"); !derrors.Is(err, derrors.NotFound) {
			t.Errorf("List = %v, want not found", err)
		}
	})
	t.Run("Delete removes the recurrence and its schedule", func(t *testing.T) {
		if err := f.svc.Delete(ctx, acme, "mk", "rec-1"); err != nil {
			t.Fatal(err)
		}
		var names []string
		for n := range f.sched.Schedules() {
			names = append(names, n)
		}
		if diff := cmp.Diff([]string{schedule.Name(acme, "r", "rec-2")}, names); diff != "" {
			t.Errorf("schedules (-want +got):\n%s", diff)
		}
		if recs := f.recurrences(t, "mk"); len(recs) != 1 || recs[0].ID != "rec-2" {
			t.Errorf("recurrences %+v, want rec-2 alone", recs)
		}
	})
	t.Run("Delete of an unknown recurrence is not found", func(t *testing.T) {
		if err := f.svc.Delete(ctx, acme, "mk", "rec-1"); !derrors.Is(err, derrors.NotFound) {
			t.Errorf("Delete = %v, want not found", err)
		}
	})
}

// firing is the schedule input of recurrence id of campaign mk at when.
func firing(id, when string) schedule.Input {
	return schedule.Input{Kind: schedule.KindRecurrence, Org: acme.Org, Sandbox: acme.Sandbox, CampaignID: "mk", RecurrenceID: id, ScheduledTime: when}
}

func TestFireStartsOneExecutionPerScheduledTime(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.svc.Create(ctx, acme, "mk", recurrence.Input{Expression: "rate(1 day)", Context: render.MustParseObject(`{"promo":"daily"}`)}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		when string
		jobs int // recipients queued so far
		last recurrence.Firing
	}{
		{"the first firing starts an execution", "2026-03-02T12:00:00Z", 3,
			recurrence.Firing{ScheduledAt: time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC), ExecutionID: "ex-1"}},
		{"the same firing delivered again starts nothing more", "2026-03-02T12:00:00Z", 3,
			recurrence.Firing{ScheduledAt: time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC), ExecutionID: "ex-1"}},
		{"the next firing starts another execution", "2026-03-03T12:00:00Z", 6,
			recurrence.Firing{ScheduledAt: time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC), ExecutionID: "ex-2"}},
		{"a late delivery of an earlier firing does not move the last firing back", "2026-03-02T12:00:00Z", 6,
			recurrence.Firing{ScheduledAt: time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC), ExecutionID: "ex-2"}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := f.svc.Fire(ctx, firing("rec-1", st.when)); err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, j := range f.queue.Jobs() {
				n += len(j.Recipients)
				if promo, _ := j.Context.String("promo"); promo != "daily" {
					t.Errorf("job context %v, want the recurrence's", j.Context)
				}
			}
			if n != st.jobs {
				t.Errorf("%d recipients queued, want %d", n, st.jobs)
			}
			rec, err := f.store.GetRecurrence(ctx, acme, "mk", "rec-1")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(&st.last, rec.LastFiring); diff != "" {
				t.Errorf("last firing (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("a firing's execution is the recurrence's", func(t *testing.T) {
		ex, err := f.store.GetAudienceExecution(ctx, acme, "ex-2")
		if err != nil {
			t.Fatal(err)
		}
		if got := recurrence.Of(ex); got != "rec-1" {
			t.Errorf("Of = %q, want rec-1", got)
		}
		if ex.RequestID != "recurrence-rec-1-2026-03-03T12:00:00Z" {
			t.Errorf("requestId %q, want the recurrence and the scheduled time", ex.RequestID)
		}
	})
}

func TestOfIsEmptyForExecutionsNoRecurrenceStarted(t *testing.T) {
	for _, by := range []string{"", "hk-123", "scheduler", "events:recurrence:x"} {
		if got := recurrence.Of(execution.AudienceExecution{CreatedBy: by}); got != "" {
			t.Errorf("Of(createdBy %q) = %q, want \"\"", by, got)
		}
	}
}

func TestFireWithoutAScheduledTimeUsesTheMinute(t *testing.T) {
	for _, when := range []string{"", schedule.ScheduledTimeAttribute} {
		t.Run(fmt.Sprintf("scheduledTime %q fires at the current minute", when), func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			if _, err := f.svc.Create(ctx, acme, "mk", recurrence.Input{Expression: "rate(1 hour)", Audience: &execution.AudienceRef{ID: "big"}}); err != nil {
				t.Fatal(err)
			}
			f.clock = now.Add(time.Hour + 42*time.Second)
			if err := f.svc.Fire(ctx, firing("rec-1", when)); err != nil {
				t.Fatal(err)
			}
			rec, err := f.store.GetRecurrence(ctx, acme, "mk", "rec-1")
			if err != nil {
				t.Fatal(err)
			}
			want := &recurrence.Firing{ScheduledAt: now.Add(time.Hour), ExecutionID: "ex-1"}
			if diff := cmp.Diff(want, rec.LastFiring); diff != "" {
				t.Errorf("last firing (-want +got):\n%s", diff)
			}
			ex, err := f.store.GetAudienceExecution(ctx, acme, "ex-1")
			if err != nil {
				t.Fatal(err)
			}
			if ex.AudienceID != "big" || ex.RequestID != "recurrence-rec-1-2026-03-01T13:00:00Z" {
				t.Errorf("execution on %s as %s, want big as recurrence-rec-1-2026-03-01T13:00:00Z", ex.AudienceID, ex.RequestID)
			}
		})
	}
}

// brokenStore fails GetRecurrence or RecordFiring with the error it is
// given for it.
type brokenStore struct {
	recurrence.Store
	get, record error
}

func (s brokenStore) GetRecurrence(ctx context.Context, t tenant.Tenant, campaignID, id string) (recurrence.Recurrence, error) {
	if s.get != nil {
		return recurrence.Recurrence{}, s.get
	}
	return s.Store.GetRecurrence(ctx, t, campaignID, id)
}

func (s brokenStore) RecordFiring(ctx context.Context, t tenant.Tenant, campaignID, id string, f recurrence.Firing) error {
	if s.record != nil {
		return s.record
	}
	return s.Store.RecordFiring(ctx, t, campaignID, id, f)
}

func TestFireRetriesOnlyWhatMayWorkLater(t *testing.T) {
	tests := []struct {
		name string
		// change breaks the fixture after the recurrence was created.
		change  func(f *fixture)
		wantErr bool
		queued  int
	}{
		{"a deleted recurrence is nothing to do", func(f *fixture) {
			_ = f.store.DeleteRecurrence(context.Background(), acme, "mk", "rec-1")
		}, false, 0},
		{"a campaign stopped since is refused, not retried", func(f *fixture) {
			c, _ := f.store.GetCampaign(context.Background(), acme, "mk")
			c.Status = campaign.StatusStopped
			_ = f.store.UpdateCampaign(context.Background(), acme, c, c.Revision)
		}, false, 0},
		{"an audience deleted since is refused, not retried", func(f *fixture) {
			_ = f.store.DeleteAudience(context.Background(), acme, "aud")
		}, false, 0},
		{"a store that does not answer is retried", func(f *fixture) {
			f.svc.Store = brokenStore{Store: f.store, get: errors.New("store down")}
		}, true, 0},
		{"a queue that does not answer is retried", func(f *fixture) {
			f.queue.Err = errors.New("queue down")
		}, true, 0},
		{"a last firing not recorded still runs the execution", func(f *fixture) {
			f.svc.Store = brokenStore{Store: f.store, record: errors.New("store down")}
		}, false, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			if _, err := f.svc.Create(ctx, acme, "mk", recurrence.Input{Expression: "rate(1 day)"}); err != nil {
				t.Fatal(err)
			}
			tt.change(f)
			err := f.svc.Fire(ctx, firing("rec-1", "2026-03-02T12:00:00Z"))
			if (err != nil) != tt.wantErr {
				t.Fatalf("Fire = %v, want an error: %t", err, tt.wantErr)
			}
			n := 0
			for _, j := range f.queue.Jobs() {
				n += len(j.Recipients)
			}
			if n != tt.queued {
				t.Errorf("%d recipients queued, want %d", n, tt.queued)
			}
		})
	}
}
