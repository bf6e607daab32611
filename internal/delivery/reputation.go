package delivery

import (
	"context"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/reputation"
	"github.com/heraldhq/herald/internal/tenant"
)

// Guards reads the reputation guards the Feedback function sets.
type Guards interface {
	// ReputationGuard returns the tenant's guard of channel ch; a zero
	// (unpaused) Guard when none was ever set.
	ReputationGuard(ctx context.Context, t tenant.Tenant, ch campaign.Channel) (reputation.Guard, error)
}

// GuardTTL is how long a warm Dispatch function trusts a guard it read:
// a pause stops marketing within a minute, a lift lets it go on within
// one, and a busy tenant costs one read a minute, not one a job.
const GuardTTL = time.Minute

type guardKey struct {
	t  tenant.Tenant
	ch campaign.Channel
}

type cachedGuard struct {
	paused bool
	read   time.Time
}

// paused reports whether job's marketing sends are paused by its tenant's
// reputation guard: read at most once per job, cached GuardTTL per warm
// function. Transactional sends, proofs and push are never paused.
func (d *Dispatcher) paused(ctx context.Context, job Job, cv *compiled) (bool, error) {
	ch := cv.version.Channel
	if d.Guards == nil || !marketing(job, cv) || !reputation.Watched(ch) {
		return false, nil
	}
	k := guardKey{job.Tenant, ch}
	now := d.now()
	if v, ok := d.guards.Load(k); ok {
		if c := v.(cachedGuard); now.Sub(c.read) < GuardTTL {
			return c.paused, nil
		}
	}
	return d.guardLoads.Do(k, func() (bool, error) {
		g, err := d.Guards.ReputationGuard(ctx, job.Tenant, ch)
		if err != nil {
			return false, fmt.Errorf("read reputation guard: %w", err)
		}
		d.guards.Store(k, cachedGuard{paused: g.Paused, read: now})
		return g.Paused, nil
	})
}

// exclude ends recipient r with outcome o without looking at them (no
// profile, address or provider).
func (d *Dispatcher) exclude(ctx context.Context, job Job, cv *compiled, r Recipient, o Outcome) ([]Outcome, error) {
	key := Key{ExecutionID: job.ExecutionID, Namespace: r.Namespace, UserID: r.UserID, Channel: cv.version.Channel}
	got, err := d.attempt(ctx, job, key, prepared{outcome: o})
	if err != nil {
		return nil, err
	}
	if err := d.tally(ctx, job, key, got); err != nil {
		return nil, err
	}
	d.finished(ctx, key)
	return []Outcome{got}, nil
}
