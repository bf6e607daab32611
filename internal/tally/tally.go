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

// Store holds the campaign counters.
type Store interface {
	// ExecutionCampaign returns the campaign of an execution; ErrNotFound
	// (derrors.NotFound) if the execution has no record.
	ExecutionCampaign(ctx context.Context, t tenant.Tenant, exec string) (string, error)
	// AddOutcomes adds d to the campaign's counters, all-time and for the
	// hour of at, unless the change id was added before (then it does
	// nothing and returns nil). The marker and the additions are one
	// transaction.
	AddOutcomes(ctx context.Context, t tenant.Tenant, campaignID, exec, id string, at time.Time, d Delta) error
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

// Record adds c's difference to its campaign's counters. A change whose
// execution has no record is logged and skipped: it can never be
// attributed, and retrying it would only hold up the stream.
func (s *Service) Record(ctx context.Context, c Change) error {
	d := Diff(c.Old, c.New)
	if d.Zero() {
		return nil
	}
	campaignID, err := s.campaign(ctx, c.Tenant, c.ExecutionID)
	if derrors.Is(err, derrors.NotFound) {
		if s.Log != nil {
			s.Log.WarnContext(ctx, "counter change of an execution without a record; not counted", "executionId", c.ExecutionID, "changeId", c.ID)
		}
		return nil
	}
	if err != nil {
		return err
	}
	if err := s.Store.AddOutcomes(ctx, c.Tenant, campaignID, c.ExecutionID, c.ID, c.At, d); err != nil {
		return fmt.Errorf("count change %s of execution %s: %w", c.ID, c.ExecutionID, err)
	}
	return nil
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
