package memory

import (
	"context"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/feedback"
	"github.com/heraldhq/herald/internal/reputation"
	"github.com/heraldhq/herald/internal/status"
	"github.com/heraldhq/herald/internal/suppression"
	"github.com/heraldhq/herald/internal/tenant"
)

var (
	_ feedback.Store      = (*Store)(nil)
	_ status.ReportsStore = (*Store)(nil)
	_ reputation.Store    = (*Store)(nil)
	_ delivery.Guards     = (*Store)(nil)
)

// feedbackData holds report counters (by execution, by campaign, by
// campaign and hour) and transient bounce counts.
type feedbackData struct {
	counters    map[string]map[string]int64
	hours       map[string]map[time.Time]map[string]int64
	softBounces map[string]int
	// windows holds reputation counters by tenant and channel, then hour;
	// guards the reputation guards by tenant and channel.
	windows map[string]map[time.Time]map[string]int64
	guards  map[string]reputation.Guard
}

func (s *Store) fb() *feedbackData {
	if s.feedback == nil {
		s.feedback = &feedbackData{counters: map[string]map[string]int64{}, hours: map[string]map[time.Time]map[string]int64{},
			softBounces: map[string]int{}, windows: map[string]map[time.Time]map[string]int64{}, guards: map[string]reputation.Guard{}}
	}
	return s.feedback
}

// putEntry stores e and indexes its reference (the ref index).
func (s *Store) putEntry(t tenant.Tenant, e delivery.Entry) {
	key := lkey(t, e)
	s.ledger[key] = e
	// The ref index, as the DynamoDB store's; entries under the key of
	// jobs queued before LedgerV2 are not in it.
	if r := refKey(feedback.RefOf(e)); r != (feedback.Ref{}) && !e.LegacyKey {
		if s.refs == nil {
			s.refs = map[feedback.Ref]string{}
		}
		s.refs[r] = key
	}
}

// refKey is what the ref index keys r by, as Ref.Key names it (the tag
// first) without building the string.
func refKey(r feedback.Ref) feedback.Ref {
	if r.Tag != "" {
		return feedback.Ref{Tag: r.Tag}
	}
	return feedback.Ref{MessageID: r.MessageID}
}

// FindEntry implements feedback.Store.
func (s *Store) FindEntry(_ context.Context, ref feedback.Ref) (tenant.Tenant, delivery.Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if key, ok := s.refs[refKey(ref)]; ok && refKey(ref) != (feedback.Ref{}) {
		if e, ok := s.ledger[key]; ok && feedback.RefOf(e) == ref {
			parts := strings.SplitN(key, "#", 3)
			return tenant.Tenant{Org: parts[0], Sandbox: parts[1]}, e, nil
		}
	}
	return tenant.Tenant{}, delivery.Entry{}, derrors.New(derrors.NotFound, "no ledger entry for %s", ref)
}

// Entry implements feedback.Store.
func (s *Store) Entry(_ context.Context, t tenant.Tenant, key delivery.Key) (delivery.Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.ledger[lkey(t, delivery.Entry{Key: key})]
	if !ok {
		return delivery.Entry{}, notFound("ledger entry")
	}
	return e, nil
}

// Advance implements feedback.Store.
func (s *Store) Advance(_ context.Context, t tenant.Tenant, c feedback.Change) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	lk := lkey(t, c.Entry)
	cur, ok := s.ledger[lk]
	if !ok || cur.State != delivery.Done || cur.FeedbackRev != c.Entry.FeedbackRev || (c.Confirm && cur.Outcome != c.Entry.Outcome) {
		return derrors.New(derrors.Conflict, "the entry changed")
	}
	cur.Events, cur.DeliveryState, cur.FeedbackRev = c.Events, c.DeliveryState, cur.FeedbackRev+1
	if c.Confirm {
		cur.Outcome = delivery.Sent
	}
	s.putEntry(t, cur)
	if len(c.Reputation) > 0 {
		wk, h := k(t, "R", string(cur.Channel)), c.At.UTC().Truncate(time.Hour)
		fb := s.fb()
		if fb.windows[wk] == nil {
			fb.windows[wk] = map[time.Time]map[string]int64{}
		}
		if fb.windows[wk][h] == nil {
			fb.windows[wk][h] = map[string]int64{}
		}
		for _, n := range c.Reputation {
			fb.windows[wk][h][n]++
		}
	}
	if sp := c.Suppress; sp != nil {
		if _, ok := s.suppressions[skey(t, sp.Channel, sp.Address)]; !ok {
			s.suppressions[skey(t, sp.Channel, sp.Address)] = *sp
		}
	}
	if len(c.Counters) == 0 {
		return nil
	}
	fb := s.fb()
	add := func(m map[string]int64) {
		for _, n := range c.Counters {
			m[n]++
		}
	}
	for _, key := range []string{k(t, "X", cur.ExecutionID), k(t, "C", cur.CampaignID)} {
		if fb.counters[key] == nil {
			fb.counters[key] = map[string]int64{}
		}
		add(fb.counters[key])
	}
	ck, h := k(t, "C", cur.CampaignID), c.At.UTC().Truncate(time.Hour)
	if fb.hours[ck] == nil {
		fb.hours[ck] = map[time.Time]map[string]int64{}
	}
	if fb.hours[ck][h] == nil {
		fb.hours[ck][h] = map[string]int64{}
	}
	add(fb.hours[ck][h])
	return nil
}

// CountSoftBounce implements feedback.Store.
func (s *Store) CountSoftBounce(_ context.Context, t tenant.Tenant, ch suppression.Channel, addr string, window time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := k(t, string(ch), addr, window.UTC().Format(time.RFC3339))
	s.fb().softBounces[key]++
	return s.fb().softBounces[key], nil
}

// ExecutionFeedback implements status.ReportsStore.
func (s *Store) ExecutionFeedback(_ context.Context, t tenant.Tenant, exec string) (map[string]int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int64{}
	for n, v := range s.fb().counters[k(t, "X", exec)] {
		out[n] = v
	}
	return out, nil
}

// CampaignFeedback implements status.ReportsStore.
func (s *Store) CampaignFeedback(_ context.Context, t tenant.Tenant, campaignID string, since time.Time) (map[string]int64, map[time.Time]map[string]int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ck := k(t, "C", campaignID)
	total := map[string]int64{}
	for n, v := range s.fb().counters[ck] {
		total[n] = v
	}
	hours := map[time.Time]map[string]int64{}
	for h, c := range s.fb().hours[ck] {
		if h.Before(since) {
			continue
		}
		hours[h] = map[string]int64{}
		for n, v := range c {
			hours[h][n] = v
		}
	}
	return total, hours, nil
}

// ExecutionRequestID implements feedback.RequestIDs.
func (s *Store) ExecutionRequestID(_ context.Context, t tenant.Tenant, exec string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ax, ok := s.ad().executions[k(t, exec)]; ok {
		return ax.RequestID, nil
	}
	if ex, ok := s.executions[k(t, exec)]; ok {
		return ex.RequestID, nil
	}
	return "", notFound("execution")
}

// ReputationWindow implements reputation.Store.
func (s *Store) ReputationWindow(_ context.Context, t tenant.Tenant, ch campaign.Channel, since time.Time) (reputation.Counts, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var c reputation.Counts
	for h, n := range s.fb().windows[k(t, "R", string(ch))] {
		if h.Before(since) {
			continue
		}
		c = c.Add(reputation.Counts{Sends: n[reputation.CountSends], Bounces: n[reputation.CountBounces], Complaints: n[reputation.CountComplaints]})
	}
	return c, nil
}

// ReputationGuard implements reputation.Store and delivery.Guards.
func (s *Store) ReputationGuard(_ context.Context, t tenant.Tenant, ch campaign.Channel) (reputation.Guard, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.fb().guards[k(t, string(ch))]
	if !ok {
		return reputation.Guard{Channel: ch}, nil
	}
	return g, nil
}

// PauseReputation implements reputation.Store.
func (s *Store) PauseReputation(_ context.Context, t tenant.Tenant, g reputation.Guard) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := k(t, string(g.Channel))
	cur := s.fb().guards[key]
	if cur.Paused {
		return false, nil
	}
	g.LiftedAt, g.Baseline = cur.LiftedAt, cur.Baseline
	s.fb().guards[key] = g
	return true, nil
}

// LiftReputation implements reputation.Store.
func (s *Store) LiftReputation(_ context.Context, t tenant.Tenant, ch campaign.Channel, at time.Time, baseline reputation.Counts) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := k(t, string(ch))
	cur, ok := s.fb().guards[key]
	if !ok || !cur.Paused {
		return derrors.New(derrors.NotFound, "the %s channel is not paused", ch)
	}
	s.fb().guards[key] = reputation.Guard{Channel: ch, LiftedAt: at.UTC(), Baseline: baseline}
	return nil
}
