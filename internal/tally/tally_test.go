package tally_test

import (
	"context"
	"errors"
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
	Campaign string
	Marks    []tally.Mark
	Delta    tally.Delta
}

type fakeStore struct {
	campaigns map[string]string
	lookups   int
	marked    map[string]bool
	fail      map[string]bool // change ids whose writes fail
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

func (f *fakeStore) AddOutcomes(_ context.Context, _ tenant.Tenant, campaignID string, _ time.Time, marks []tally.Mark, d tally.Delta) error {
	for _, m := range marks {
		if f.fail[m.ID] {
			return errors.New("throttled")
		}
		if f.marked[m.ID] {
			return derrors.New(derrors.Conflict, "marked")
		}
	}
	for _, m := range marks {
		f.marked[m.ID] = true
	}
	f.adds = append(f.adds, added{campaignID, marks, d})
	return nil
}

var (
	acme = tenant.Tenant{Org: "acme", Sandbox: "prod"}
	t0   = time.Date(2026, 11, 30, 21, 10, 0, 0, time.UTC)
	one  = tally.Counts{Recipients: 1, Outcomes: map[string]int64{"sent": 1}}
	two  = tally.Counts{Recipients: 2, Outcomes: map[string]int64{"sent": 2}}
)

func newStore() *fakeStore {
	return &fakeStore{campaigns: map[string]string{"ex-1": "c-1", "ex-2": "c-2"}, marked: map[string]bool{}, fail: map[string]bool{}}
}

func TestRecordAddsABatchOnceACampaignAndHour(t *testing.T) {
	store := newStore()
	s := &tally.Service{Store: store}
	cs := []tally.Change{
		{ID: "e1", Tenant: acme, ExecutionID: "ex-1", At: t0, New: one},
		{ID: "e2", Tenant: acme, ExecutionID: "ex-1", At: t0, Old: one, New: one},
		{ID: "e3", Tenant: acme, ExecutionID: "ex-1", At: t0.Add(time.Minute), Old: one, New: two},
		{ID: "e4", Tenant: acme, ExecutionID: "ex-gone", At: t0, New: one},
		{ID: "e5", Tenant: acme, ExecutionID: "ex-2", At: t0, New: one},
		{ID: "e6", Tenant: acme, ExecutionID: "ex-1", At: t0.Add(time.Hour), New: one},
	}
	done, err := s.Record(context.Background(), cs)
	if err != nil || done != len(cs) {
		t.Fatalf("Record = %d, %v; want all %d", done, err, len(cs))
	}
	plusOne := tally.Delta{Targeted: 1, Outcomes: map[string]int64{"sent": 1}}
	want := []added{
		{"c-1", []tally.Mark{{"ex-1", "e1"}, {"ex-1", "e3"}}, tally.Delta{Targeted: 2, Outcomes: map[string]int64{"sent": 2}}},
		{"c-2", []tally.Mark{{"ex-2", "e5"}}, plusOne},
		{"c-1", []tally.Mark{{"ex-1", "e6"}}, plusOne},
	}
	if diff := cmp.Diff(want, store.adds); diff != "" {
		t.Errorf("additions (-want +got):\n%s", diff)
	}
	if store.lookups != 3 {
		t.Errorf("%d campaign look-ups, want 3 (ex-1 once, cached; ex-gone; ex-2)", store.lookups)
	}

	// The same batch again (Lambda retried it): nothing is added twice.
	store.adds = nil
	if done, err := s.Record(context.Background(), cs); err != nil || done != len(cs) || len(store.adds) != 0 {
		t.Errorf("Record again = %d, %v, added %+v; want all done, nothing added", done, err, store.adds)
	}
}

func TestRecordAddsWhatWasNotAddedBeforeAndStopsAtTheFirstFailure(t *testing.T) {
	store := newStore()
	s := &tally.Service{Store: store}
	store.marked["e1"] = true // added by an earlier delivery
	store.fail["e4"] = true
	cs := []tally.Change{
		{ID: "e1", Tenant: acme, ExecutionID: "ex-1", At: t0, New: one},
		{ID: "e2", Tenant: acme, ExecutionID: "ex-1", At: t0, Old: one, New: two},
		{ID: "e3", Tenant: acme, ExecutionID: "ex-2", At: t0, New: one},
		{ID: "e4", Tenant: acme, ExecutionID: "ex-2", At: t0, Old: one, New: two},
	}
	done, err := s.Record(context.Background(), cs)
	if err == nil || done != 2 {
		t.Fatalf("Record = %d, %v; want 2 done (ex-2's write failed from e3) and an error", done, err)
	}
	want := []added{{"c-1", []tally.Mark{{"ex-1", "e2"}}, tally.Delta{Targeted: 1, Outcomes: map[string]int64{"sent": 1}}}}
	if diff := cmp.Diff(want, store.adds); diff != "" {
		t.Errorf("additions (-want +got):\n%s", diff)
	}
}
