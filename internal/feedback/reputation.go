package feedback

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/reputation"
	"github.com/heraldhq/herald/internal/tenant"
)

// reputationCounters returns the reputation counters that adding kind k to
// seen increments for a message of channel ch: a send once (email: its SEND
// event; SMS: its first delivery status, success or failure), a bounce once
// (hard or soft; an SMS failure) and a complaint.
func reputationCounters(ch campaign.Channel, seen []string, k Kind) []string {
	has := func(ks ...Kind) bool {
		for _, k := range ks {
			if slices.Contains(seen, string(k)) {
				return true
			}
		}
		return false
	}
	var out []string
	switch ch {
	case campaign.Email:
		switch k {
		case Send:
			out = append(out, reputation.CountSends)
		case Bounce, SoftBounce:
			if !has(Bounce, SoftBounce) {
				out = append(out, reputation.CountBounces)
			}
		case Complaint:
			out = append(out, reputation.CountComplaints)
		}
	case campaign.SMS:
		if (k == Delivery || k == Failure) && !has(Delivery, Failure) {
			out = append(out, reputation.CountSends)
		}
		if k == Failure && !has(Failure) {
			out = append(out, reputation.CountBounces)
		}
	}
	return out
}

// windowTTL is how long a warm function trusts a window it read, adding
// what it recorded itself since; other instances' events show after it.
const windowTTL = time.Minute

// windows caches each tenant's channel's window and guard per warm
// function, so judging after every event costs a Query a minute, not one
// an event.
type windows struct {
	mu sync.Mutex
	m  map[windowKey]*window
}

type windowKey struct {
	t  tenant.Tenant
	ch campaign.Channel
}

type window struct {
	read   time.Time
	guard  reputation.Guard
	counts reputation.Counts
}

// add counts names in c.
func add(c reputation.Counts, names []string) reputation.Counts {
	for _, n := range names {
		switch n {
		case reputation.CountSends:
			c.Sends++
		case reputation.CountBounces:
			c.Bounces++
		case reputation.CountComplaints:
			c.Complaints++
		}
	}
	return c
}

// guard adds c's reputation counters to the cached window and judges it
// (after a send too: the minimum sample may be reached after the bounces):
// past the thresholds the tenant's channel is paused (once; the store
// keeps the first pause) and one line is logged, which the
// ReputationPaused metric filter counts.
func (s *Service) guard(ctx context.Context, t tenant.Tenant, ch campaign.Channel, c Change) error {
	if len(c.Reputation) == 0 || !reputation.Watched(ch) {
		return nil
	}
	th := s.rules().Reputation
	now := s.now()
	k := windowKey{t, ch}
	s.windows.mu.Lock()
	w := s.windows.m[k]
	if w != nil {
		w.counts = add(w.counts, c.Reputation)
	}
	s.windows.mu.Unlock()
	if w == nil || now.Sub(w.read) >= windowTTL || now.Truncate(time.Hour) != w.read.Truncate(time.Hour) {
		g, err := s.Store.ReputationGuard(ctx, t, ch)
		if err != nil {
			return fmt.Errorf("read reputation guard: %w", err)
		}
		g.Channel = ch
		counts, err := reputation.Current(ctx, s.Store, t, g, now)
		if err != nil {
			return fmt.Errorf("read reputation window: %w", err)
		}
		w = &window{read: now, guard: g, counts: counts}
		s.windows.mu.Lock()
		if s.windows.m == nil {
			s.windows.m = map[windowKey]*window{}
		}
		s.windows.m[k] = w
		s.windows.mu.Unlock()
	}
	s.windows.mu.Lock()
	paused, counts := w.guard.Paused, w.counts
	s.windows.mu.Unlock()
	if paused {
		return nil
	}
	reason := th.Judge(counts)
	if reason == "" {
		return nil
	}
	g := reputation.Guard{Channel: ch, Paused: true, Since: now, Reason: reason, Counts: counts}
	now2, err := s.Store.PauseReputation(ctx, t, g)
	if err != nil {
		return fmt.Errorf("pause marketing on reputation: %w", err)
	}
	s.windows.mu.Lock()
	w.guard.Paused = true
	s.windows.mu.Unlock()
	if now2 {
		r := counts.Rates()
		s.log().WarnContext(ctx, "reputation guard paused marketing", "event", "reputationPaused", "tenant", t.String(),
			"channel", string(ch), "reason", reason, "sends", counts.Sends, "bounces", counts.Bounces, "complaints", counts.Complaints,
			"bounceRate", r.Bounce, "complaintRate", r.Complaint, "bounceThreshold", th.Bounce, "complaintThreshold", th.Complaint,
			"minSends", th.MinSends)
	}
	return nil
}
