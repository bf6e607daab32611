package ratelimit_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/ratelimit"
	"github.com/heraldhq/herald/internal/tenant"
)

var (
	acme  = tenant.Tenant{Org: "ACME@AdobeOrg", Sandbox: "prod"}
	other = tenant.Tenant{Org: "OTHER@AdobeOrg", Sandbox: "prod"}
	// t0 is a quarter into a window.
	t0 = time.Date(2026, 11, 30, 10, 0, 0, 250*int(time.Millisecond), time.UTC)
)

// clock is a fake clock the test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// fakeStore is a shared budget that counts its calls and can fail.
type fakeStore struct {
	mu        sync.Mutex
	used      map[string]int
	overrides map[tenant.Tenant]ratelimit.Overrides
	// leases lists each TakeTokens call's n; reads counts override reads.
	leases []int
	reads  int
	fail   error
}

func newFakeStore() *fakeStore {
	return &fakeStore{used: map[string]int{}, overrides: map[tenant.Tenant]ratelimit.Overrides{}}
}

func (f *fakeStore) TakeTokens(_ context.Context, t tenant.Tenant, g ratelimit.Group, window time.Time, n, limit int) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.leases = append(f.leases, n)
	if f.fail != nil {
		return 0, f.fail
	}
	k := t.Key() + "/" + string(g) + "/" + window.Format(time.RFC3339Nano)
	got := max(0, min(n, limit-f.used[k]))
	f.used[k] += got
	return got, nil
}

func (f *fakeStore) RateLimitOverrides(_ context.Context, t tenant.Tenant) (ratelimit.Overrides, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if f.fail != nil {
		return nil, f.fail
	}
	return f.overrides[t], nil
}

func (f *fakeStore) SetRateLimitOverrides(_ context.Context, t tenant.Tenant, o ratelimit.Overrides) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.overrides[t] = o
	return nil
}

func (f *fakeStore) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.leases)
}

func discard() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

func newLimiter(s ratelimit.Store, l ratelimit.Limits, c *clock) *ratelimit.Limiter {
	lim := ratelimit.New(s, l, discard())
	lim.Now = c.Now
	return lim
}

// admit sends n requests and returns how many were admitted, failing on
// any error but a 429.
func admit(t *testing.T, l *ratelimit.Limiter, tn tenant.Tenant, g ratelimit.Group, n int) int {
	t.Helper()
	ok := 0
	for range n {
		switch err := l.Allow(context.Background(), tn, g); {
		case err == nil:
			ok++
		case !derrors.Is(err, derrors.TooManyRequests):
			t.Fatalf("Allow = %v, want nil or TooManyRequests", err)
		}
	}
	return ok
}

func TestAQuietContainerLeasesOneTokenAtATime(t *testing.T) {
	s, c := newFakeStore(), &clock{t: t0}
	l := newLimiter(s, ratelimit.Limits{Execution: 500}, c)
	for i := range 3 {
		c.Set(t0.Add(time.Duration(i) * time.Second))
		if got := admit(t, l, acme, ratelimit.Execution, 1); got != 1 {
			t.Fatalf("second %d: admitted %d of 1", i, got)
		}
	}
	if diff := cmp.Diff([]int{1, 1, 1}, s.leases); diff != "" {
		t.Errorf("leases (-want +got):\n%s", diff)
	}
}

// The cost per request: a busy container's leases grow to a twentieth of
// the limit within its first window and start there in the next, so 200
// requests a second at a limit of 500 cost 8 writes a second.
func TestABusyContainerMakesOneWritePerLeaseOfATwentiethOfTheLimit(t *testing.T) {
	s, c := newFakeStore(), &clock{t: t0}
	l := newLimiter(s, ratelimit.Limits{Execution: 500}, c)
	if got := admit(t, l, acme, ratelimit.Execution, 200); got != 200 {
		t.Fatalf("admitted %d of 200", got)
	}
	if diff := cmp.Diff([]int{1, 1, 2, 3, 4, 6, 9, 14, 21, 25, 25, 25, 25, 25, 25}, s.leases); diff != "" {
		t.Errorf("first window's leases (-want +got):\n%s", diff)
	}
	first := s.calls()
	c.Set(t0.Add(time.Second))
	if got := admit(t, l, acme, ratelimit.Execution, 200); got != 200 {
		t.Fatalf("admitted %d of 200", got)
	}
	if n := s.calls() - first; n != 8 {
		t.Errorf("the next window's 200 requests made %d store calls, want 8 (leases %v)", n, s.leases[first:])
	}
}

func TestRequestsPastTheLimitAreRefusedUntilTheNextWindowWithoutAskingTheStore(t *testing.T) {
	s, c := newFakeStore(), &clock{t: t0}
	l := newLimiter(s, ratelimit.Limits{Execution: 10}, c)
	if got := admit(t, l, acme, ratelimit.Execution, 10); got != 10 {
		t.Fatalf("admitted %d of the limit's 10", got)
	}
	err := l.Allow(context.Background(), acme, ratelimit.Execution)
	var de *derrors.Error
	if !errors.As(err, &de) || de.Kind != derrors.TooManyRequests {
		t.Fatalf("the 11th request: Allow = %v, want TooManyRequests", err)
	}
	if de.RetryAfter != 750*time.Millisecond {
		t.Errorf("RetryAfter = %v, want the 750ms left of the window", de.RetryAfter)
	}
	calls := s.calls()
	if got := admit(t, l, acme, ratelimit.Execution, 50); got != 0 {
		t.Errorf("admitted %d more in the spent window, want 0", got)
	}
	if n := s.calls() - calls; n != 0 {
		t.Errorf("refusals in a spent window made %d store calls, want 0", n)
	}
	if got := admit(t, l, acme, ratelimit.HighThroughput, 1) + admit(t, l, other, ratelimit.Execution, 1); got != 2 {
		t.Errorf("another group (no limit) and another tenant: admitted %d of 2", got)
	}
	c.Set(t0.Add(time.Second))
	if got := admit(t, l, acme, ratelimit.Execution, 10); got != 10 {
		t.Errorf("the next window admitted %d of 10", got)
	}
}

func TestALimitOfZeroAdmitsEverythingWithoutTheStore(t *testing.T) {
	s, c := newFakeStore(), &clock{t: t0}
	l := newLimiter(s, ratelimit.Limits{}, c)
	if got := admit(t, l, acme, ratelimit.Management, 1000); got != 1000 {
		t.Errorf("admitted %d of 1000", got)
	}
	if n := s.calls(); n != 0 {
		t.Errorf("%d leases taken, want none", n)
	}
}

func TestAFailingStoreAdmitsLogsTenantAndGroupOnlyAndAsksAgainNextWindow(t *testing.T) {
	s, c := newFakeStore(), &clock{t: t0}
	s.fail = errors.New("dial tcp: connection refused for jane@example.com")
	var logs bytes.Buffer
	l := ratelimit.New(s, ratelimit.Limits{Execution: 2}, slog.New(slog.NewJSONHandler(&logs, nil)))
	l.Now = c.Now
	if got := admit(t, l, acme, ratelimit.Execution, 5); got != 5 {
		t.Errorf("admitted %d of 5 with the store down, want all", got)
	}
	if n := s.calls(); n != 1 {
		t.Errorf("%d store calls in the failed window, want 1", n)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 { // the overrides read, then the lease
		t.Errorf("logged %d lines, want 2:\n%s", len(lines), logs.String())
	}
	if strings.Contains(logs.String(), "jane@") || !strings.Contains(logs.String(), `"tenant":"ACME@AdobeOrg/prod"`) ||
		!strings.Contains(logs.String(), `"group":"execution"`) {
		t.Errorf("logs must name the tenant and group and nothing of the error:\n%s", logs.String())
	}
	s.mu.Lock()
	s.fail = nil
	s.mu.Unlock()
	c.Set(t0.Add(time.Second))
	if got := admit(t, l, acme, ratelimit.Execution, 5); got != 2 {
		t.Errorf("the store back, the next window admitted %d of 5, want the limit's 2", got)
	}
}

func TestATenantsOverridesReplaceTheDefaultAndAreReadOnceAMinute(t *testing.T) {
	s, c := newFakeStore(), &clock{t: t0}
	s.overrides[acme] = ratelimit.Overrides{ratelimit.Execution: 2, ratelimit.Management: 0}
	l := newLimiter(s, ratelimit.Limits{Execution: 100, Management: 1}, c)
	for sec := range 3 {
		c.Set(t0.Add(time.Duration(sec) * time.Second))
		if got := admit(t, l, acme, ratelimit.Execution, 5); got != 2 {
			t.Errorf("second %d: admitted %d executions, want the override's 2", sec, got)
		}
		if got := admit(t, l, acme, ratelimit.Management, 5); got != 5 {
			t.Errorf("second %d: admitted %d management calls, want all (the override turns it off)", sec, got)
		}
		if got := admit(t, l, other, ratelimit.Execution, 5); got != 5 {
			t.Errorf("second %d: admitted %d of another tenant's, want all 5 (default 100)", sec, got)
		}
	}
	if s.reads != 2 {
		t.Errorf("overrides read %d times, want once per tenant", s.reads)
	}
	s.overrides[acme] = ratelimit.Overrides{ratelimit.Execution: 4}
	c.Set(t0.Add(30 * time.Second))
	if got := admit(t, l, acme, ratelimit.Execution, 5); got != 2 {
		t.Errorf("within the minute admitted %d, want the cached override's 2", got)
	}
	c.Set(t0.Add(61 * time.Second))
	if got := admit(t, l, acme, ratelimit.Execution, 5); got != 4 {
		t.Errorf("after the minute admitted %d, want the new override's 4", got)
	}
	if got := admit(t, l, acme, ratelimit.Management, 5); got != 1 {
		t.Errorf("after the minute admitted %d management calls, want the default's 1 (the override is gone)", got)
	}
	if s.reads != 3 {
		t.Errorf("overrides read %d times, want 3 (once more for acme, for both groups)", s.reads)
	}
}

// Two containers (two limiters) sharing one store, each serving many
// goroutines, never admit more than the limit in a window; with demand
// far past it they admit exactly the limit, since every leased token is
// spent.
func TestContainersSharingAStoreNeverAdmitMoreThanTheLimitPerWindow(t *testing.T) {
	const limit, goroutines, perGoroutine = 100, 16, 40
	store, c := newFakeStore(), &clock{}
	containers := []*ratelimit.Limiter{newLimiter(store, ratelimit.Limits{Execution: limit}, c), newLimiter(store, ratelimit.Limits{Execution: limit}, c)}
	for sec := range 5 {
		c.Set(t0.Add(time.Duration(sec) * time.Second))
		var mu sync.Mutex
		admitted := 0
		var wg sync.WaitGroup
		for i := range goroutines {
			wg.Go(func() {
				n := 0
				for range perGoroutine {
					if containers[i%2].Allow(context.Background(), acme, ratelimit.Execution) == nil {
						n++
					}
				}
				mu.Lock()
				admitted += n
				mu.Unlock()
			})
		}
		wg.Wait()
		if admitted != limit {
			t.Errorf("second %d: %d of %d requests admitted, want the limit, %d", sec, admitted, goroutines*perGoroutine, limit)
		}
	}
}

func TestParseOverrides(t *testing.T) {
	got, err := ratelimit.ParseOverrides(" execution=1000, management=0,highthroughput=7 ")
	if diff := cmp.Diff(ratelimit.Overrides{ratelimit.Execution: 1000, ratelimit.Management: 0, ratelimit.HighThroughput: 7}, got); diff != "" || err != nil {
		t.Errorf("ParseOverrides (-want +got):\n%s (%v)", diff, err)
	}
	if got, err := ratelimit.ParseOverrides(""); len(got) != 0 || err != nil {
		t.Errorf(`ParseOverrides("") = %v, %v; want none`, got, err)
	}
	for _, bad := range []string{"execution", "execution=-1", "execution=x", "reads=5"} {
		if _, err := ratelimit.ParseOverrides(bad); err == nil {
			t.Errorf("ParseOverrides(%q) succeeded, want an error", bad)
		}
	}
}
