package recurrence_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/recurrence"
	"github.com/heraldhq/herald/internal/schedule"
	"github.com/heraldhq/herald/internal/tenant"
)

func (f *fixture) hooks() *recurrence.CampaignSchedules {
	return &recurrence.CampaignSchedules{Audiences: f.aud, Recurrences: f.store, Now: func() time.Time { return f.clock }}
}

// oneTime is a one-time schedule reduced to what a test checks.
type oneTime struct {
	Name, Expression string
	Input            schedule.Input
}

func (f *fixture) oneTimeSchedules(t *testing.T) []oneTime {
	t.Helper()
	var out []oneTime
	for _, sc := range f.sched.Schedules() {
		if !sc.OneTime || sc.TimeZone != "UTC" {
			t.Errorf("schedule %s: one-time %t in %q, want one-time in UTC", sc.Name, sc.OneTime, sc.TimeZone)
		}
		var in schedule.Input
		if err := json.Unmarshal(sc.Input, &in); err != nil {
			t.Fatal(err)
		}
		out = append(out, oneTime{sc.Name, sc.Expression, in})
	}
	slices.SortFunc(out, func(a, b oneTime) int { return strings.Compare(a.Expression, b.Expression) })
	return out
}

func (f *fixture) refNames(t *testing.T, campaignID string) []string {
	t.Helper()
	refs, err := f.store.ScheduleRefs(context.Background(), acme, campaignID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range refs {
		out = append(out, r.Kind+" "+r.Name)
	}
	return out
}

func TestActivatedSchedulesAFutureStartAndEnd(t *testing.T) {
	past, start, end := now.Add(-time.Hour), now.Add(24*time.Hour), now.Add(48*time.Hour)
	in := func(kind string) schedule.Input {
		return schedule.Input{Kind: kind, Org: acme.Org, Sandbox: acme.Sandbox, CampaignID: "mk"}
	}
	startName, endName := schedule.Name(acme, "s3", "mk"), schedule.Name(acme, "e3", "mk")
	tests := []struct {
		name       string
		start, end *time.Time
		want       []oneTime
		refs       []string
	}{
		{"a future start and end get a schedule each", &start, &end,
			[]oneTime{{startName, "at(2026-03-02T12:00:00)", in(schedule.KindCampaignStart)}, {endName, "at(2026-03-03T12:00:00)", in(schedule.KindCampaignEnd)}},
			[]string{"campaign-end " + endName, "campaign-start " + startName}},
		{"a start already past gets none", &past, &end,
			[]oneTime{{endName, "at(2026-03-03T12:00:00)", in(schedule.KindCampaignEnd)}},
			[]string{"campaign-end " + endName}},
		{"a campaign without a window gets none", nil, nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			c := campaign.Campaign{ID: "mk", Type: campaign.Marketing, Status: campaign.StatusScheduled, LiveVersion: 3}
			v := campaign.Version{CampaignID: "mk", Number: 3, Type: campaign.Marketing, Spec: campaign.Spec{Schedule: campaign.Schedule{Start: tt.start, End: tt.end}}}
			if err := f.hooks().Activated(context.Background(), acme, c, v); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, f.oneTimeSchedules(t)); diff != "" {
				t.Errorf("schedules (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.refs, f.refNames(t, "mk")); diff != "" {
				t.Errorf("schedule refs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestActivatedFailsWhenTheSchedulerDoesNotAnswer(t *testing.T) {
	f := newFixture(t)
	f.sched.Err = errors.New("scheduler down")
	start := now.Add(time.Hour)
	v := campaign.Version{CampaignID: "mk", Number: 1, Spec: campaign.Spec{Schedule: campaign.Schedule{Start: &start}}}
	if err := f.hooks().Activated(context.Background(), acme, campaign.Campaign{ID: "mk"}, v); err == nil {
		t.Fatal("Activated = nil with the scheduler down")
	}
	if refs := f.refNames(t, "mk"); len(refs) != 0 {
		t.Errorf("refs %v for a schedule that was not created", refs)
	}
}

func TestEndedDeletesEveryPendingScheduleOfTheCampaign(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	end := now.Add(48 * time.Hour)
	// An end schedule, a scheduled execution, one that already ran and two
	// recurrences; another campaign's recurrence stays.
	c := campaign.Campaign{ID: "mk", Type: campaign.Marketing, Status: campaign.StatusLive, LiveVersion: 1}
	if err := f.hooks().Activated(ctx, acme, c, campaign.Version{CampaignID: "mk", Number: 1, Spec: campaign.Spec{Schedule: campaign.Schedule{End: &end}}}); err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{now.Add(time.Hour), now.Add(2 * time.Hour)} {
		if _, err := f.aud.Start(ctx, acme, "hk", execution.AudienceRequest{CampaignID: "mk", Schedule: &execution.ScheduleRequest{ExecuteAt: &at}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.store.SetAudienceState(ctx, acme, "ex-4", []string{execution.StateScheduled}, execution.StateRunning); err != nil {
		t.Fatal(err) // the second execution (ex-1 and ex-3 are request ids) has fired
	}
	for _, id := range []string{"mk", "mk", "paced"} {
		if _, err := f.svc.Create(ctx, acme, id, recurrence.Input{Expression: "rate(1 day)"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(f.sched.Schedules()); n != 6 {
		t.Fatalf("%d schedules before the end, want 6", n)
	}

	if err := f.hooks().Ended(ctx, acme, c); err != nil {
		t.Fatal(err)
	}
	var left []string
	for n := range f.sched.Schedules() {
		left = append(left, n)
	}
	if diff := cmp.Diff([]string{schedule.Name(acme, "r", "rec-3")}, left); diff != "" {
		t.Errorf("schedules left (-want +got):\n%s", diff)
	}
	if refs := f.refNames(t, "mk"); len(refs) != 0 {
		t.Errorf("refs left %v", refs)
	}
	if recs := f.recurrences(t, "mk"); len(recs) != 0 {
		t.Errorf("recurrences left %+v", recs)
	}
	if recs := f.recurrences(t, "paced"); len(recs) != 1 {
		t.Errorf("another campaign's recurrences %+v, want its one", recs)
	}
	states := map[string]string{}
	for _, id := range []string{"ex-2", "ex-4"} {
		ex, err := f.store.GetAudienceExecution(ctx, acme, id)
		if err != nil {
			t.Fatal(err)
		}
		states[id] = ex.State
	}
	if diff := cmp.Diff(map[string]string{"ex-2": execution.StateCancelled, "ex-4": execution.StateRunning}, states); diff != "" {
		t.Errorf("execution states (-want +got):\n%s", diff)
	}
}

// failingRecurrences is a recurrence store whose listing fails.
type failingRecurrences struct{ recurrence.Store }

func (failingRecurrences) ListRecurrences(context.Context, tenant.Tenant, string) ([]recurrence.Recurrence, error) {
	return nil, errors.New("store down")
}

func TestEndedFailsWhenTheRecurrencesCannotBeRead(t *testing.T) {
	f := newFixture(t)
	h := f.hooks()
	h.Recurrences = failingRecurrences{f.store}
	err := h.Ended(context.Background(), acme, campaign.Campaign{ID: "mk"})
	if err == nil || derrors.KindOf(err) != derrors.Internal {
		t.Errorf("Ended = %v, want an internal error (the campaign's end is retried)", err)
	}
}
