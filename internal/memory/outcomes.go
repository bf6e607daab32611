package memory

import (
	"context"
	"maps"
	"time"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/tally"
	"github.com/heraldhq/herald/internal/tenant"
)

var _ tally.Store = (*Store)(nil)

// outcomeData holds the campaigns' send counts, all-time and hourly, and
// the change ids added (AddOutcomes).
type outcomeData struct {
	total   map[string]tally.Delta
	hours   map[string]map[time.Time]tally.Delta
	applied map[string]bool
}

func (s *Store) od() *outcomeData {
	if s.outcomes == nil {
		s.outcomes = &outcomeData{total: map[string]tally.Delta{}, hours: map[string]map[time.Time]tally.Delta{}, applied: map[string]bool{}}
	}
	return s.outcomes
}

func plus(a, b tally.Delta) tally.Delta {
	out := tally.Delta{Targeted: a.Targeted + b.Targeted, Outcomes: maps.Clone(a.Outcomes)}
	for o, n := range b.Outcomes {
		if out.Outcomes == nil {
			out.Outcomes = map[string]int64{}
		}
		out.Outcomes[o] += n
	}
	return out
}

// addOutcomes adds d to a campaign's counters (s.mu held).
func (s *Store) addOutcomes(t tenant.Tenant, campaignID string, at time.Time, d tally.Delta) {
	od, ck, h := s.od(), k(t, "C", campaignID), at.UTC().Truncate(time.Hour)
	od.total[ck] = plus(od.total[ck], d)
	if od.hours[ck] == nil {
		od.hours[ck] = map[time.Time]tally.Delta{}
	}
	od.hours[ck][h] = plus(od.hours[ck][h], d)
}

// moved adds to d a recipient's move from the counted value cur to val
// (delivery.CountedValue; "" for none).
func moved(d *tally.Delta, cur, val string) {
	if o, label := delivery.SplitCounted(val); o != "" {
		d.Targeted++
		d.Outcomes[string(o)]++
		if label != "" {
			d.Outcomes[delivery.VariantCount(label, string(o))]++
		}
	}
	if o, label := delivery.SplitCounted(cur); o != "" {
		d.Targeted--
		d.Outcomes[string(o)]--
		if label != "" {
			d.Outcomes[delivery.VariantCount(label, string(o))]--
		}
	}
}

func (s *Store) campaignOf(t tenant.Tenant, exec string) (string, bool) {
	if ax, ok := s.ad().executions[k(t, exec)]; ok {
		return ax.CampaignID, true
	}
	if ex, ok := s.executions[k(t, exec)]; ok {
		return ex.CampaignID, true
	}
	return "", false
}

// ExecutionCampaign implements tally.Store.
func (s *Store) ExecutionCampaign(_ context.Context, t tenant.Tenant, exec string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.campaignOf(t, exec); ok {
		return id, nil
	}
	return "", derrors.New(derrors.NotFound, "execution not found")
}

// AddOutcomes implements tally.Store.
func (s *Store) AddOutcomes(_ context.Context, t tenant.Tenant, campaignID string, at time.Time, marks []tally.Mark, d tally.Delta) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range marks {
		if s.od().applied[k(t, m.ExecutionID, m.ID)] {
			return derrors.New(derrors.Conflict, "a change was added before")
		}
	}
	for _, m := range marks {
		s.od().applied[k(t, m.ExecutionID, m.ID)] = true
	}
	s.addOutcomes(t, campaignID, at, d)
	return nil
}

// nonZero is d without its zero counts.
func nonZero(d tally.Delta) tally.Delta {
	out := tally.Delta{Targeted: d.Targeted}
	for o, n := range d.Outcomes {
		if n != 0 {
			if out.Outcomes == nil {
				out.Outcomes = map[string]int64{}
			}
			out.Outcomes[o] = n
		}
	}
	return out
}

// CampaignOutcomes implements status.ReportsStore.
func (s *Store) CampaignOutcomes(_ context.Context, t tenant.Tenant, campaignID string, since time.Time) (tally.Delta, map[time.Time]tally.Delta, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ck := k(t, "C", campaignID)
	hours := map[time.Time]tally.Delta{}
	for h, d := range s.od().hours[ck] {
		if d = nonZero(d); !h.Before(since) && !d.Zero() {
			hours[h] = d
		}
	}
	return nonZero(s.od().total[ck]), hours, nil
}
