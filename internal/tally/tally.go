// Package tally keeps a campaign's send counts (targeted, and recipients
// by outcome) from the changes of its executions' counter items, which
// DynamoDB Streams delivers to the Reports function: the send path makes
// no extra call for them.
//
// An execution counter item holds each counted recipient's outcome beside
// the count of each outcome. A change of it is the difference of its old
// and new states: that difference (Diff) is what is added to the
// campaign's counters, all-time and for the hour the change was made.
package tally

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/tenant"
)

// Counts is the state of one execution counter item: how many recipients
// it counts and how many of them have each outcome ("sent",
// "excluded:suppressed", …).
type Counts struct {
	Recipients int64
	Outcomes   map[string]int64
}

// Delta is what a change adds to a campaign's counters: recipients
// counted (Targeted, negative when a recipient's outcome was withdrawn)
// and the change of each outcome's count, zeros left out.
type Delta struct {
	Targeted int64
	Outcomes map[string]int64
}

// Zero reports whether d adds nothing.
func (d Delta) Zero() bool { return d.Targeted == 0 && len(d.Outcomes) == 0 }

// Diff returns what moving from old to new adds: the new counts minus the
// old, per outcome. An item that did not exist is the zero Counts.
func Diff(old, new Counts) Delta {
	d := Delta{Targeted: new.Recipients - old.Recipients, Outcomes: map[string]int64{}}
	for o, n := range new.Outcomes {
		if x := n - old.Outcomes[o]; x != 0 {
			d.Outcomes[o] = x
		}
	}
	for o, n := range old.Outcomes {
		if _, ok := new.Outcomes[o]; !ok && n != 0 {
			d.Outcomes[o] = -n
		}
	}
	if len(d.Outcomes) == 0 {
		d.Outcomes = nil
	}
	return d
}

// Change is one change of an execution counter item, as the stream
// delivered it.
type Change struct {
	// ID names the change for good (the stream record's event id): a
	// change delivered again is recognised by it and not added twice.
	ID          string
	Tenant      tenant.Tenant
	ExecutionID string
	// At is when the change was made (the record's approximate creation
	// time): the hour it is counted in.
	At       time.Time
	Old, New Counts
}

// Mark names a change added to a campaign's counters: its execution and
// its id.
type Mark struct {
	ExecutionID, ID string
}

// MaxMarks is how many changes one AddOutcomes may carry: a DynamoDB
// transaction holds 100 items, two of them the counters.
const MaxMarks = 98

// Store holds the campaign counters.
type Store interface {
	// ExecutionCampaign returns the campaign of an execution;
	// derrors.NotFound if the execution has no record.
	ExecutionCampaign(ctx context.Context, t tenant.Tenant, exec string) (string, error)
	// AddOutcomes adds d, the sum of the marked changes' differences, to
	// the campaign's counters, all-time and for the hour of at, and
	// records the marks, all at once. It returns derrors.Conflict, and
	// adds nothing, if one of the marks was recorded before.
	AddOutcomes(ctx context.Context, t tenant.Tenant, campaignID string, at time.Time, marks []Mark, d Delta) error
}

// maxCached bounds the execution → campaign cache of a warm function.
const maxCached = 10000

// Service records counter changes in their campaign's counters.
type Service struct {
	Store Store
	Log   *slog.Logger

	mu        sync.Mutex
	campaigns map[string]string // tenant and execution → campaign (never changes)
}

// group is the changes of one campaign and hour, added in one write.
type group struct {
	t        tenant.Tenant
	campaign string
	hour     time.Time
	index    []int // of the changes, ascending
	marks    []Mark
	deltas   []Delta
	sum      Delta
}

func (g *group) add(i int, m Mark, d Delta) {
	g.index, g.marks, g.deltas = append(g.index, i), append(g.marks, m), append(g.deltas, d)
	g.sum.Targeted += d.Targeted
	for o, n := range d.Outcomes {
		if g.sum.Outcomes == nil {
			g.sum.Outcomes = map[string]int64{}
		}
		g.sum.Outcomes[o] += n
	}
}

// Record adds the changes' differences to their campaigns' counters, one
// write per campaign and hour (up to MaxMarks changes each), and returns
// how many of cs, from the first, are done: all of them, or, with the
// error, those before the first change not added (the caller has the rest
// delivered again; a change added before is recognised by its mark). A
// change whose execution has no record is logged and skipped: it can
// never be attributed, and retrying it would only hold up the stream.
func (s *Service) Record(ctx context.Context, cs []Change) (int, error) {
	done, failure := len(cs), error(nil)
	var groups []*group
	open := map[string]*group{}
	for i, c := range cs {
		d := Diff(c.Old, c.New)
		if d.Zero() {
			continue
		}
		campaignID, err := s.campaign(ctx, c.Tenant, c.ExecutionID)
		if derrors.Is(err, derrors.NotFound) {
			if s.Log != nil {
				s.Log.WarnContext(ctx, "counter change of an execution without a record; not counted", "executionId", c.ExecutionID, "changeId", c.ID)
			}
			continue
		}
		if err != nil {
			done, failure = i, err
			break
		}
		hour := c.At.UTC().Truncate(time.Hour)
		key := c.Tenant.Org + "#" + c.Tenant.Sandbox + "#" + campaignID + "#" + hour.Format(time.RFC3339)
		g := open[key]
		if g == nil || len(g.marks) == MaxMarks {
			g = &group{t: c.Tenant, campaign: campaignID, hour: hour}
			open[key] = g
			groups = append(groups, g)
		}
		g.add(i, Mark{ExecutionID: c.ExecutionID, ID: c.ID}, d)
	}
	for _, g := range groups {
		if at, err := s.write(ctx, g); err != nil && at < done {
			done, failure = at, err
		}
	}
	if failure != nil {
		return done, fmt.Errorf("count change %s of execution %s: %w", cs[done].ID, cs[done].ExecutionID, failure)
	}
	return done, nil
}

// write adds a group in one write, or change by change when one of them
// was added before; it returns the index of the first change not added.
func (s *Service) write(ctx context.Context, g *group) (int, error) {
	err := s.Store.AddOutcomes(ctx, g.t, g.campaign, g.hour, g.marks, g.sum)
	if err == nil || !derrors.Is(err, derrors.Conflict) {
		return firstOf(g.index, err), err
	}
	for j, m := range g.marks {
		err := s.Store.AddOutcomes(ctx, g.t, g.campaign, g.hour, []Mark{m}, g.deltas[j])
		if err != nil && !derrors.Is(err, derrors.Conflict) {
			return g.index[j], err
		}
	}
	return 0, nil
}

func firstOf(index []int, err error) int {
	if err == nil || len(index) == 0 {
		return 0
	}
	return index[0]
}

func (s *Service) campaign(ctx context.Context, t tenant.Tenant, exec string) (string, error) {
	key := t.Org + "#" + t.Sandbox + "#" + exec
	s.mu.Lock()
	id, ok := s.campaigns[key]
	s.mu.Unlock()
	if ok {
		return id, nil
	}
	id, err := s.Store.ExecutionCampaign(ctx, t, exec)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	if s.campaigns == nil || len(s.campaigns) >= maxCached {
		s.campaigns = map[string]string{}
	}
	s.campaigns[key] = id
	s.mu.Unlock()
	return id, nil
}
