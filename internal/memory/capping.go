package memory

import (
	"context"
	"slices"
	"time"

	"github.com/heraldhq/herald/internal/capping"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/erasure"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/tenant"
)

var _ capping.Store = (*Store)(nil)

// capData holds the tenants' frequency cap rule sets and the profiles'
// counters.
type capData struct {
	rules    map[tenant.Tenant]capping.RuleSet
	counters map[capCounterKey]capping.Counter
}

type capCounterKey struct {
	t tenant.Tenant
	k capping.Key
}

func (s *Store) capData() *capData {
	if s.caps == nil {
		s.caps = &capData{rules: map[tenant.Tenant]capping.RuleSet{}, counters: map[capCounterKey]capping.Counter{}}
	}
	return s.caps
}

// FrequencyCaps implements capping.Store.
func (s *Store) FrequencyCaps(_ context.Context, t tenant.Tenant) (capping.RuleSet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := s.capData().rules[t]
	rs.Rules = slices.Clone(rs.Rules)
	return rs, nil
}

// PutFrequencyCaps implements capping.Store.
func (s *Store) PutFrequencyCaps(_ context.Context, t tenant.Tenant, rs capping.RuleSet) error {
	if err := rs.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(rs.Rules) == 0 {
		delete(s.capData().rules, t)
		return nil
	}
	rs.Rules = slices.Clone(rs.Rules)
	rs.UpdatedAt = rs.UpdatedAt.UTC()
	s.capData().rules[t] = rs
	return nil
}

// CapCounter implements capping.Store.
func (s *Store) CapCounter(_ context.Context, t tenant.Tenant, k capping.Key) (capping.Counter, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.capData().counters[capCounterKey{t, k}]
	c.Slots = slices.Clone(c.Slots)
	return c, nil
}

// PutCapCounter implements capping.Store: times kept to the millisecond
// (the expiry to the second), as DynamoDB keeps them.
func (s *Store) PutCapCounter(_ context.Context, t tenant.Tenant, k capping.Key, c capping.Counter) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.capData().counters[capCounterKey{t, k}].Rev != c.Rev {
		return derrors.New(derrors.Conflict, "frequency cap counter changed since it was read")
	}
	s.putCapCounter(t, k, c)
	return nil
}

// putCapCounter stores c as revision c.Rev+1; the caller holds s.mu and
// checked the revision.
func (s *Store) putCapCounter(t tenant.Tenant, k capping.Key, c capping.Counter) {
	next := capping.Counter{Rev: c.Rev + 1, ExpiresAt: c.ExpiresAt.Truncate(time.Second).UTC()}
	for _, sl := range c.Slots {
		next.Slots = append(next.Slots, capping.Slot{Tag: sl.Tag, At: sl.At.Truncate(time.Millisecond).UTC()})
	}
	s.capData().counters[capCounterKey{t, k}] = next
}

// eraseCapCounters deletes the frequency cap counters of ids; the caller
// holds s.mu.
func (s *Store) eraseCapCounters(t tenant.Tenant, ids []profile.Identity, r *erasure.Result) {
	for ck := range s.capData().counters {
		for _, id := range ids {
			if ck.t == t && ck.k.Namespace == id.Namespace && ck.k.UserID == id.ID {
				delete(s.capData().counters, ck)
				r.Erased[erasure.FrequencyCapCounters]++
				break
			}
		}
	}
}
