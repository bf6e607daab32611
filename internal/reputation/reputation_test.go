package reputation_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/reputation"
	"github.com/heraldhq/herald/internal/tenant"
)

func TestJudge(t *testing.T) {
	th := reputation.DefaultThresholds
	for _, tc := range []struct {
		name string
		c    reputation.Counts
		want string
	}{
		{"nothing sent", reputation.Counts{}, ""},
		{"everything bounced below the sample", reputation.Counts{Sends: 499, Bounces: 499}, ""},
		{"just under 4 % bounces", reputation.Counts{Sends: 1000, Bounces: 39}, ""},
		{"4 % bounces", reputation.Counts{Sends: 1000, Bounces: 40}, reputation.ReasonBounceRate},
		{"under 0.08 % complaints", reputation.Counts{Sends: 10000, Complaints: 7}, ""},
		{"0.08 % complaints", reputation.Counts{Sends: 10000, Complaints: 8}, reputation.ReasonComplaintRate},
		{"both: complaints named first", reputation.Counts{Sends: 1000, Bounces: 100, Complaints: 1}, reputation.ReasonComplaintRate},
	} {
		if got := th.Judge(tc.c); got != tc.want {
			t.Errorf("%s: Judge(%+v) = %q, want %q", tc.name, tc.c, got, tc.want)
		}
	}
	if got := (reputation.Thresholds{MinSends: 1}).Judge(reputation.Counts{Sends: 10, Bounces: 10, Complaints: 10}); got != "" {
		t.Errorf("zero rates judge %q, want the checks off", got)
	}
}

// fixedWindow answers every window read with the same counts.
type fixedWindow struct {
	reputation.Store
	c     reputation.Counts
	since time.Time
}

func (f *fixedWindow) ReputationWindow(_ context.Context, _ tenant.Tenant, _ campaign.Channel, since time.Time) (reputation.Counts, error) {
	f.since = since
	return f.c, nil
}

func TestTheWindowStartsAtTheLaterOfADayAgoAndTheLift(t *testing.T) {
	now := time.Date(2026, 11, 30, 20, 30, 0, 0, time.UTC)
	s := &fixedWindow{c: reputation.Counts{Sends: 100, Bounces: 10}}
	ctx := context.Background()
	c, err := reputation.Current(ctx, s, tenant.Tenant{}, reputation.Guard{Channel: campaign.Email}, now)
	if err != nil || c != s.c || !s.since.Equal(time.Date(2026, 11, 29, 21, 0, 0, 0, time.UTC)) {
		t.Errorf("no lift: %+v from %v, %v; want all counts from 21:00 the day before", c, s.since, err)
	}
	lifted := reputation.Guard{Channel: campaign.Email, LiftedAt: now.Add(-2 * time.Hour), Baseline: reputation.Counts{Sends: 40, Bounces: 9}}
	c, _ = reputation.Current(ctx, s, tenant.Tenant{}, lifted, now)
	if want := (reputation.Counts{Sends: 60, Bounces: 1}); c != want || !s.since.Equal(time.Date(2026, 11, 30, 18, 0, 0, 0, time.UTC)) {
		t.Errorf("after a lift: %+v from %v; want %+v from the lift's hour", c, s.since, want)
	}
	lifted.LiftedAt = now.Add(-30 * time.Hour)
	c, _ = reputation.Current(ctx, s, tenant.Tenant{}, lifted, now)
	if c != s.c {
		t.Errorf("a lift older than the window: %+v, want the baseline forgotten", c)
	}
}
