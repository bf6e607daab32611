package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/tally"
)

// outcomes runs the campaign send counts' part of the feedback contract.
func outcomes(t *testing.T, newStore func(t *testing.T) FeedbackStore) {
	ctx := context.Background()
	t.Run("campaign send counts are added once per change, all time and by hour", func(t *testing.T) {
		s := newStore(t)
		at := t0.Add(25 * time.Minute)
		first := tally.Delta{Targeted: 2, Outcomes: map[string]int64{"sent": 1, "excluded:suppressed": 1}}
		marks := []tally.Mark{{ExecutionID: "ex-1", ID: "change-1"}, {ExecutionID: "ex-1", ID: "change-2"}}
		if err := s.AddOutcomes(ctx, acme, "c-out", at, marks, first); err != nil {
			t.Fatalf("AddOutcomes: %v", err)
		}
		// A change added before, alone or with another: Conflict, nothing added.
		for _, again := range [][]tally.Mark{marks[1:], {{ExecutionID: "ex-1", ID: "change-3"}, marks[0]}} {
			wantKind(t, "AddOutcomes of a change added before", s.AddOutcomes(ctx, acme, "c-out", at, again, first), derrors.Conflict)
		}
		later := tally.Delta{Targeted: 1, Outcomes: map[string]int64{"sent": 2, "ambiguous:timeout": -1}}
		// The same change id in another execution is another change.
		if err := s.AddOutcomes(ctx, acme, "c-out", at.Add(time.Hour), []tally.Mark{{ExecutionID: "ex-2", ID: "change-1"}}, later); err != nil {
			t.Fatalf("AddOutcomes: %v", err)
		}
		total, hours, err := s.CampaignOutcomes(ctx, acme, "c-out", t0)
		if err != nil {
			t.Fatalf("CampaignOutcomes: %v", err)
		}
		want := tally.Delta{Targeted: 3, Outcomes: map[string]int64{"sent": 3, "excluded:suppressed": 1, "ambiguous:timeout": -1}}
		if diff := cmp.Diff(want, total); diff != "" {
			t.Errorf("all-time counts (-want +got):\n%s", diff)
		}
		wantHours := map[time.Time]tally.Delta{t0: first, t0.Add(time.Hour): later}
		if diff := cmp.Diff(wantHours, hours); diff != "" {
			t.Errorf("hourly counts (-want +got):\n%s", diff)
		}
		if _, hours, _ := s.CampaignOutcomes(ctx, acme, "c-out", t0.Add(time.Hour)); len(hours) != 1 {
			t.Errorf("hours since the second = %v, want only it", hours)
		}
		if total, _, _ := s.CampaignOutcomes(ctx, other, "c-out", t0); !total.Zero() {
			t.Errorf("another tenant's counts = %+v, want none", total)
		}
	})
	t.Run("an execution without a record has no campaign", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.ExecutionCampaign(ctx, acme, "nope"); !derrors.Is(err, derrors.NotFound) {
			t.Errorf("ExecutionCampaign(nope) = %v, want NotFound", err)
		}
	})
}
