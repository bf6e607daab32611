package tally_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/tally"
	"github.com/heraldhq/herald/internal/tenant"
)

func TestDiff(t *testing.T) {
	tests := []struct {
		name     string
		old, new tally.Counts
		want     tally.Delta
	}{
		{name: "a first recipient counted targets one and counts its outcome",
			new:  tally.Counts{Recipients: 1, Outcomes: map[string]int64{"sent": 1}},
			want: tally.Delta{Targeted: 1, Outcomes: map[string]int64{"sent": 1}}},
		{name: "an item created empty adds nothing",
			new:  tally.Counts{},
			want: tally.Delta{}},
		{name: "another recipient with another outcome adds only it",
			old:  tally.Counts{Recipients: 2, Outcomes: map[string]int64{"sent": 2}},
			new:  tally.Counts{Recipients: 3, Outcomes: map[string]int64{"sent": 2, "excluded:suppressed": 1}},
			want: tally.Delta{Targeted: 1, Outcomes: map[string]int64{"excluded:suppressed": 1}}},
		{name: "an outcome replaced moves a count and targets no one more",
			old:  tally.Counts{Recipients: 1, Outcomes: map[string]int64{"ambiguous:timeout": 1}},
			new:  tally.Counts{Recipients: 1, Outcomes: map[string]int64{"ambiguous:timeout": 0, "sent": 1}},
			want: tally.Delta{Outcomes: map[string]int64{"ambiguous:timeout": -1, "sent": 1}}},
		{name: "an outcome withdrawn (a released recipient) takes it back",
			old:  tally.Counts{Recipients: 1, Outcomes: map[string]int64{"failed:throttled": 1}},
			new:  tally.Counts{Recipients: 0, Outcomes: map[string]int64{"failed:throttled": 0}},
			want: tally.Delta{Targeted: -1, Outcomes: map[string]int64{"failed:throttled": -1}}},
		{name: "an attribute gone from the new image counts as zero",
			old:  tally.Counts{Recipients: 1, Outcomes: map[string]int64{"sent": 1}},
			new:  tally.Counts{},
			want: tally.Delta{Targeted: -1, Outcomes: map[string]int64{"sent": -1}}},
		{name: "an unchanged item adds nothing",
			old:  tally.Counts{Recipients: 4, Outcomes: map[string]int64{"sent": 4}},
			new:  tally.Counts{Recipients: 4, Outcomes: map[string]int64{"sent": 4}},
			want: tally.Delta{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tally.Diff(tt.old, tt.new)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Diff (-want +got):\n%s", diff)
			}
			if got.Zero() != (tt.want.Targeted == 0 && len(tt.want.Outcomes) == 0) {
				t.Errorf("Zero() = %v for %+v", got.Zero(), got)
			}
		})
	}
}

type added struct {
	Campaign, Exec, ID string
	Delta              tally.Delta
}

type fakeStore struct {
	campaigns map[string]string
	lookups   int
	adds      []added
}

func (f *fakeStore) ExecutionCampaign(_ context.Context, _ tenant.Tenant, exec string) (string, error) {
	f.lookups++
	c, ok := f.campaigns[exec]
	if !ok {
		return "", derrors.New(derrors.NotFound, "no execution")
	}
	return c, nil
}

func (f *fakeStore) AddOutcomes(_ context.Context, _ tenant.Tenant, campaignID, exec, id string, _ time.Time, d tally.Delta) error {
	f.adds = append(f.adds, added{campaignID, exec, id, d})
	return nil
}

func TestRecord(t *testing.T) {
	ctx := context.Background()
	acme := tenant.Tenant{Org: "acme", Sandbox: "prod"}
	store := &fakeStore{campaigns: map[string]string{"ex-1": "c-1"}}
	s := &tally.Service{Store: store}
	one := tally.Counts{Recipients: 1, Outcomes: map[string]int64{"sent": 1}}
	two := tally.Counts{Recipients: 2, Outcomes: map[string]int64{"sent": 2}}
	for _, c := range []tally.Change{
		{ID: "e1", Tenant: acme, ExecutionID: "ex-1", New: one},
		{ID: "e2", Tenant: acme, ExecutionID: "ex-1", Old: one, New: one},
		{ID: "e3", Tenant: acme, ExecutionID: "ex-1", Old: one, New: two},
		{ID: "e4", Tenant: acme, ExecutionID: "ex-gone", New: one},
	} {
		if err := s.Record(ctx, c); err != nil {
			t.Fatalf("Record(%s): %v", c.ID, err)
		}
	}
	want := []added{
		{"c-1", "ex-1", "e1", tally.Delta{Targeted: 1, Outcomes: map[string]int64{"sent": 1}}},
		{"c-1", "ex-1", "e3", tally.Delta{Targeted: 1, Outcomes: map[string]int64{"sent": 1}}},
	}
	if diff := cmp.Diff(want, store.adds); diff != "" {
		t.Errorf("additions (-want +got):\n%s", diff)
	}
	if store.lookups != 2 {
		t.Errorf("%d campaign look-ups, want 2 (ex-1 once, cached; ex-gone once)", store.lookups)
	}
}
