package capping

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/memo"
	"github.com/heraldhq/herald/internal/tenant"
)

// Store keeps rule sets and counters.
type Store interface {
	// FrequencyCaps returns the tenant's rule set; an empty one when it
	// has none.
	FrequencyCaps(ctx context.Context, t tenant.Tenant) (RuleSet, error)
	// PutFrequencyCaps stores (replaces) the tenant's rule set; an empty
	// one removes it.
	PutFrequencyCaps(ctx context.Context, t tenant.Tenant, rs RuleSet) error
	// CapCounter reads k's counter, consistently; a counter never written
	// has Rev 0 and no slots.
	CapCounter(ctx context.Context, t tenant.Tenant, k Key) (Counter, error)
	// PutCapCounter writes c as revision c.Rev+1 provided the stored
	// revision is still c.Rev (no item for 0); derrors.Conflict
	// otherwise.
	PutCapCounter(ctx context.Context, t tenant.Tenant, k Key, c Counter) error
}

// RulesTTL is how long Service trusts a rule set it read for Reserve: a
// changed rule set reaches warm Dispatch functions within it. Check and
// the API always read the store.
const RulesTTL = 30 * time.Second

// maxAttempts bounds the conditional writes of one Reserve or Release:
// each lost race means another writer added or removed a slot, and a
// counter sees few writers at once (a profile's executions in flight).
const maxAttempts = 12

// ErrContended is returned when every attempt lost its race: nothing was
// reserved, the caller retries later.
var ErrContended = derrors.New(derrors.Unavailable, "frequency cap counter contended")

// Service manages a tenant's rules and counts messages against them. It
// is safe for concurrent use.
type Service struct {
	Store Store
	Now   func() time.Time

	rules sync.Map // tenant key → cachedRules
	// loads reads a tenant's rule set once for the jobs that miss it
	// together.
	loads memo.Flight[string, RuleSet]
}

type cachedRules struct {
	rs   RuleSet
	read time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Rules returns the tenant's rule set (no rules when it has none).
func (s *Service) Rules(ctx context.Context, t tenant.Tenant) (RuleSet, error) {
	rs, err := s.Store.FrequencyCaps(ctx, t)
	if err != nil {
		return RuleSet{}, fmt.Errorf("read frequency caps: %w", err)
	}
	if rs.Rules == nil {
		rs.Rules = []Rule{}
	}
	return rs, nil
}

// SetRules validates and stores the tenant's rule set, replacing the one
// it had; derrors.Invalid naming the field otherwise.
func (s *Service) SetRules(ctx context.Context, t tenant.Tenant, rs RuleSet) (RuleSet, error) {
	if err := rs.Validate(); err != nil {
		return RuleSet{}, err
	}
	if rs.Rules == nil {
		rs.Rules = []Rule{}
	}
	rs.UpdatedAt = s.now().Truncate(time.Millisecond)
	if err := s.Store.PutFrequencyCaps(ctx, t, rs); err != nil {
		return RuleSet{}, fmt.Errorf("store frequency caps: %w", err)
	}
	s.rules.Delete(t.Key())
	return rs, nil
}

// cached is the tenant's rule set as Reserve reads it: at most once per
// RulesTTL per process.
func (s *Service) cached(ctx context.Context, t tenant.Tenant) (RuleSet, error) {
	now := time.Now()
	if v, ok := s.rules.Load(t.Key()); ok {
		if c := v.(cachedRules); now.Sub(c.read) < RulesTTL {
			return c.rs, nil
		}
	}
	return s.loads.Do(t.Key(), func() (RuleSet, error) {
		rs, err := s.Store.FrequencyCaps(ctx, t)
		if err != nil {
			return RuleSet{}, fmt.Errorf("read frequency caps: %w", err)
		}
		s.rules.Store(t.Key(), cachedRules{rs: rs, read: now})
		return rs, nil
	})
}

// channelRules returns the tenant's rules on channel ch, from the cached
// rule set.
func (s *Service) channelRules(ctx context.Context, t tenant.Tenant, ch campaign.Channel) ([]Rule, error) {
	rs, err := s.cached(ctx, t)
	if err != nil {
		return nil, err
	}
	return rs.For(ch), nil
}

// Check returns the verdict on one more message to k at now, writing
// nothing (preview): the rules read from the store and the counter.
func (s *Service) Check(ctx context.Context, t tenant.Tenant, k Key, now time.Time) (Verdict, error) {
	rs, err := s.Store.FrequencyCaps(ctx, t)
	if err != nil {
		return Verdict{}, fmt.Errorf("read frequency caps: %w", err)
	}
	rules := rs.For(k.Channel)
	if len(rules) == 0 {
		return Verdict{Rules: []RuleCount{}}, nil
	}
	c, err := s.Store.CapCounter(ctx, t, k)
	if err != nil {
		return Verdict{}, fmt.Errorf("read frequency cap counter: %w", err)
	}
	return Judge(rules, c.Slots, now), nil
}

// Reserve counts one message to k for the recipient whose ledger tag is
// tag, at now, unless a rule of the channel is full (Verdict.Capped:
// nothing was written). A channel without rules reserves nothing and
// reads nothing but the (cached) rule set. A tag that already holds a
// slot keeps it (a retry): Reserve is idempotent per tag.
//
// It reads the counter (one consistent GetItem) and writes it with a
// put conditioned on the revision read (one write); a lost race reads
// and decides again, up to maxAttempts, then ErrContended.
func (s *Service) Reserve(ctx context.Context, t tenant.Tenant, k Key, tag string, now time.Time) (Verdict, error) {
	rules, err := s.channelRules(ctx, t, k.Channel)
	if err != nil || len(rules) == 0 {
		return Verdict{}, err
	}
	return s.update(ctx, t, k, func(c Counter) (Counter, Verdict, bool) { return reserve(c, rules, tag, now) })
}

// Plan is Reserve's decision, its write left to the caller: the verdict
// and, when a slot is to be counted, the counter to write. A caller that
// claims the recipient in a transaction writes Next in it, conditioned on
// the revision read (Next.Rev); when that condition fails, it plans again.
type Plan struct {
	Verdict Verdict
	// Next is the counter to write as revision Next.Rev+1, provided the
	// stored revision is still Next.Rev; nil when nothing is to be
	// written: a rule is full, the channel has no rule, or the tag holds
	// a slot already.
	Next *Counter
}

// Plan decides what Reserve would, from one read of the counter (the
// rule set comes from the container's cache), and writes nothing.
func (s *Service) Plan(ctx context.Context, t tenant.Tenant, k Key, tag string, now time.Time) (Plan, error) {
	rules, err := s.channelRules(ctx, t, k.Channel)
	if err != nil || len(rules) == 0 {
		return Plan{}, err
	}
	c, err := s.Store.CapCounter(ctx, t, k)
	if err != nil {
		return Plan{}, fmt.Errorf("read frequency cap counter: %w", err)
	}
	next, v, write := reserve(c, rules, tag, now)
	p := Plan{Verdict: v}
	if write {
		p.Next = &next
	}
	return p, nil
}

// Release gives back the slot tag holds on k's counter (the provider
// certainly did not take the message). A tag holding none is no error.
func (s *Service) Release(ctx context.Context, t tenant.Tenant, k Key, tag string) error {
	_, err := s.update(ctx, t, k, func(c Counter) (Counter, Verdict, bool) {
		next, write := release(c, tag)
		return next, Verdict{}, write
	})
	return err
}

// update is the optimistic loop: read, decide, write conditioned on the
// revision read; again on a conflict.
func (s *Service) update(ctx context.Context, t tenant.Tenant, k Key, decide func(Counter) (Counter, Verdict, bool)) (Verdict, error) {
	for attempt := range maxAttempts {
		c, err := s.Store.CapCounter(ctx, t, k)
		if err != nil {
			return Verdict{}, fmt.Errorf("read frequency cap counter: %w", err)
		}
		next, v, write := decide(c)
		if !write {
			return v, nil
		}
		err = s.Store.PutCapCounter(ctx, t, k, next)
		if err == nil {
			return v, nil
		}
		if !derrors.Is(err, derrors.Conflict) {
			return Verdict{}, fmt.Errorf("write frequency cap counter: %w", err)
		}
		// Another writer changed the counter since we read it: back off
		// a little (spread, so the losers do not meet again) and decide
		// on what it holds now.
		wait := time.Duration(1+rand.IntN(5*(attempt+1))) * time.Millisecond
		select {
		case <-ctx.Done():
			return Verdict{}, ctx.Err()
		case <-time.After(wait):
		}
	}
	return Verdict{}, ErrContended
}
