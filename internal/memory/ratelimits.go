package memory

import (
	"context"
	"maps"
	"time"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/ratelimit"
	"github.com/heraldhq/herald/internal/tenant"
)

var _ ratelimit.Store = (*Store)(nil)

// rateData holds the rate limit windows' counters and the tenants'
// overrides.
type rateData struct {
	used      map[rateWindow]int
	overrides map[tenant.Tenant]ratelimit.Overrides
}

type rateWindow struct {
	t      tenant.Tenant
	g      ratelimit.Group
	window int64
}

// rateKept bounds how many counters the store keeps before it forgets
// windows more than a minute older than the one asked for (DynamoDB's
// TTL does this for the real store).
const rateKept = 4096

func (s *Store) rates() *rateData {
	if s.rate == nil {
		s.rate = &rateData{used: map[rateWindow]int{}, overrides: map[tenant.Tenant]ratelimit.Overrides{}}
	}
	return s.rate
}

// TakeTokens implements ratelimit.Store.
func (s *Store) TakeTokens(_ context.Context, t tenant.Tenant, g ratelimit.Group, window time.Time, n, limit int) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rates()
	w := rateWindow{t, g, window.Unix()}
	if len(r.used) > rateKept {
		maps.DeleteFunc(r.used, func(k rateWindow, _ int) bool { return k.window < w.window-60 })
	}
	got := min(n, limit-r.used[w])
	if got <= 0 {
		return 0, nil
	}
	r.used[w] += got
	return got, nil
}

// RateLimitOverrides implements ratelimit.Store.
func (s *Store) RateLimitOverrides(_ context.Context, t tenant.Tenant) (ratelimit.Overrides, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.rates().overrides[t]), nil
}

// SetRateLimitOverrides implements ratelimit.Store.
func (s *Store) SetRateLimitOverrides(_ context.Context, t tenant.Tenant, o ratelimit.Overrides) error {
	if err := o.Validate(); err != nil {
		return derrors.New(derrors.Invalid, "%s", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(o) == 0 {
		delete(s.rates().overrides, t)
		return nil
	}
	s.rates().overrides[t] = maps.Clone(o)
	return nil
}
