package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/ratelimit"
)

// RateLimits runs the rate limit store contract; newStore returns a
// fresh, empty store.
func RateLimits(t *testing.T, newStore func(t *testing.T) ratelimit.Store) {
	ctx := context.Background()
	w := t0.Truncate(time.Second)
	take := func(t *testing.T, s ratelimit.Store, g ratelimit.Group, window time.Time, n, limit int) int {
		t.Helper()
		got, err := s.TakeTokens(ctx, acme, g, window, n, limit)
		if err != nil {
			t.Fatalf("TakeTokens(%d of %d) = %v", n, limit, err)
		}
		return got
	}

	t.Run("leases are granted whole while the window has room, then what is left, then nothing", func(t *testing.T) {
		s := newStore(t)
		var got []int
		for range 5 {
			got = append(got, take(t, s, ratelimit.Execution, w, 3, 10))
		}
		if diff := cmp.Diff([]int{3, 3, 3, 1, 0}, got); diff != "" {
			t.Errorf("tokens granted (-want +got):\n%s", diff)
		}
	})
	t.Run("a lease is never more than the limit", func(t *testing.T) {
		s := newStore(t)
		if got := take(t, s, ratelimit.Management, w, 8, 5); got != 5 {
			t.Errorf("TakeTokens(8 of 5) = %d, want 5", got)
		}
		if got := take(t, s, ratelimit.Management, w, 1, 5); got != 0 {
			t.Errorf("TakeTokens(1 of 5) after 5 = %d, want 0", got)
		}
	})
	t.Run("each window, group and tenant has a budget of its own", func(t *testing.T) {
		s := newStore(t)
		if got := take(t, s, ratelimit.Execution, w, 2, 2); got != 2 {
			t.Fatalf("first lease = %d, want 2", got)
		}
		if got := take(t, s, ratelimit.Execution, w.Add(time.Second), 2, 2); got != 2 {
			t.Errorf("the next window's lease = %d, want 2", got)
		}
		if got := take(t, s, ratelimit.HighThroughput, w, 2, 2); got != 2 {
			t.Errorf("another group's lease = %d, want 2", got)
		}
		if got, err := s.TakeTokens(ctx, other, ratelimit.Execution, w, 2, 2); got != 2 || err != nil {
			t.Errorf("another tenant's lease = %d, %v; want 2", got, err)
		}
	})
	t.Run("a limit lowered within a window grants nothing past it", func(t *testing.T) {
		s := newStore(t)
		take(t, s, ratelimit.Execution, w, 5, 10)
		if got := take(t, s, ratelimit.Execution, w, 1, 3); got != 0 {
			t.Errorf("TakeTokens(1 of 3) after 5 = %d, want 0", got)
		}
		if got := take(t, s, ratelimit.Execution, w, 4, 8); got != 3 {
			t.Errorf("TakeTokens(4 of 8) after 5 = %d, want 3", got)
		}
	})
	t.Run("overrides read back as set, and setting none removes them", func(t *testing.T) {
		s := newStore(t)
		o, err := s.RateLimitOverrides(ctx, acme)
		if err != nil || len(o) != 0 {
			t.Fatalf("RateLimitOverrides of a new tenant = %v, %v; want none", o, err)
		}
		want := ratelimit.Overrides{ratelimit.Execution: 1000, ratelimit.Management: 0}
		if err := s.SetRateLimitOverrides(ctx, acme, want); err != nil {
			t.Fatal(err)
		}
		got, err := s.RateLimitOverrides(ctx, acme)
		if diff := cmp.Diff(want, got); diff != "" || err != nil {
			t.Errorf("RateLimitOverrides (-want +got):\n%s (%v)", diff, err)
		}
		if o, err := s.RateLimitOverrides(ctx, other); err != nil || len(o) != 0 {
			t.Errorf("another tenant's overrides = %v, %v; want none", o, err)
		}
		if err := s.SetRateLimitOverrides(ctx, acme, ratelimit.Overrides{ratelimit.HighThroughput: 7}); err != nil {
			t.Fatal(err)
		}
		got, _ = s.RateLimitOverrides(ctx, acme)
		if diff := cmp.Diff(ratelimit.Overrides{ratelimit.HighThroughput: 7}, got); diff != "" {
			t.Errorf("RateLimitOverrides after a second set (-want +got):\n%s", diff)
		}
		if err := s.SetRateLimitOverrides(ctx, acme, nil); err != nil {
			t.Fatal(err)
		}
		if o, err := s.RateLimitOverrides(ctx, acme); err != nil || len(o) != 0 {
			t.Errorf("RateLimitOverrides after removing = %v, %v; want none", o, err)
		}
	})
	t.Run("overrides of an unknown group or below zero are refused and change nothing", func(t *testing.T) {
		s := newStore(t)
		keep := ratelimit.Overrides{ratelimit.Execution: 9}
		if err := s.SetRateLimitOverrides(ctx, acme, keep); err != nil {
			t.Fatal(err)
		}
		for _, bad := range []ratelimit.Overrides{{"reads": 5}, {ratelimit.Management: -1}} {
			wantKind(t, fmt.Sprintf("SetRateLimitOverrides(%v)", bad), s.SetRateLimitOverrides(ctx, acme, bad), derrors.Invalid)
		}
		got, err := s.RateLimitOverrides(ctx, acme)
		if diff := cmp.Diff(keep, got); diff != "" || err != nil {
			t.Errorf("RateLimitOverrides (-want +got):\n%s (%v)", diff, err)
		}
	})
}
