// Package reputation is the reputation guard: per tenant and channel, the
// bounce and complaint rates of its recent sends, and the pause of its
// marketing sends when either rate crosses a threshold below the levels
// at which AWS reviews (5 % bounces, 0.1 % complaints) or pauses an SES
// account.
//
// The window is counted by the Feedback function from providers' events
// (an email's SEND event, an SMS's delivery status), so a send costs no
// extra call. The Feedback function judges the window after each event it
// records and pauses the tenant's channel; Dispatch excludes the marketing
// recipients of a paused channel (excluded:reputation_paused); the
// management API shows the windows and lifts a pause. Transactional sends
// are never paused by the guard.
package reputation

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/tenant"
)

// Counters the Feedback function adds one to in the tenant's channel's
// window, each at most once per message.
const (
	CountSends      = "sends"
	CountBounces    = "bounces"
	CountComplaints = "complaints"
)

// Window is the length of the rolling window, counted in whole hours: the
// current hour and the 23 before it.
const Window = 24 * time.Hour

// Channels are the channels the guard watches: those whose providers
// report bounces or failures per message.
var Channels = []campaign.Channel{campaign.Email, campaign.SMS}

// Watched reports whether the guard watches ch.
func Watched(ch campaign.Channel) bool { return ch == campaign.Email || ch == campaign.SMS }

// Counts are a window's counters.
type Counts struct {
	Sends      int64 `json:"sends"`
	Bounces    int64 `json:"bounces"`
	Complaints int64 `json:"complaints"`
}

// Sub returns c less b, never below zero.
func (c Counts) Sub(b Counts) Counts {
	return Counts{Sends: max(c.Sends-b.Sends, 0), Bounces: max(c.Bounces-b.Bounces, 0), Complaints: max(c.Complaints-b.Complaints, 0)}
}

// Add returns c plus b.
func (c Counts) Add(b Counts) Counts {
	return Counts{Sends: c.Sends + b.Sends, Bounces: c.Bounces + b.Bounces, Complaints: c.Complaints + b.Complaints}
}

// Rates are fractions of sends, rounded to six places; zero without sends.
type Rates struct {
	Bounce    float64 `json:"bounce"`
	Complaint float64 `json:"complaint"`
}

// Rates returns c's rates.
func (c Counts) Rates() Rates {
	if c.Sends == 0 {
		return Rates{}
	}
	r := func(n int64) float64 { return math.Round(float64(n)/float64(c.Sends)*1e6) / 1e6 }
	return Rates{Bounce: r(c.Bounces), Complaint: r(c.Complaints)}
}

// Thresholds say when the guard pauses.
type Thresholds struct {
	// Bounce and Complaint are the rates (fractions of sends) at or above
	// which it pauses; zero turns that rate's check off.
	Bounce    float64 `json:"bounce"`
	Complaint float64 `json:"complaint"`
	// MinSends is the sample below which it never pauses, so a handful of
	// sends with one bounce does not.
	MinSends int64 `json:"minSends"`
}

// DefaultThresholds: 4 % bounces or 0.08 % complaints over at least 500
// sends, below AWS's review levels (5 %, 0.1 %).
var DefaultThresholds = Thresholds{Bounce: 0.04, Complaint: 0.0008, MinSends: 500}

// Reasons a guard paused.
const (
	ReasonBounceRate    = "bounce_rate"
	ReasonComplaintRate = "complaint_rate"
)

// Judge returns why c crosses th ("" when it does not).
func (th Thresholds) Judge(c Counts) string {
	if c.Sends < max(th.MinSends, 1) {
		return ""
	}
	n := float64(c.Sends)
	switch {
	case th.Complaint > 0 && float64(c.Complaints) >= th.Complaint*n:
		return ReasonComplaintRate
	case th.Bounce > 0 && float64(c.Bounces) >= th.Bounce*n:
		return ReasonBounceRate
	}
	return ""
}

// Validate checks the thresholds are rates and a sample.
func (th Thresholds) Validate() error {
	if th.Bounce < 0 || th.Bounce > 1 || th.Complaint < 0 || th.Complaint > 1 || th.MinSends < 0 {
		return fmt.Errorf("reputation thresholds: rates must be within 0..1 and the minimum sample not negative")
	}
	return nil
}

// Guard is the state of one tenant's channel.
type Guard struct {
	Channel campaign.Channel
	// Paused stops the channel's marketing sends; Since, Reason and
	// Counts (the window that tripped it) say why.
	Paused bool
	Since  time.Time
	Reason string
	Counts Counts
	// LiftedAt is when a pause was last lifted; Baseline the counts of
	// that hour before it, which the window no longer holds against the
	// tenant, so a lift is not undone by the events that caused the pause.
	LiftedAt time.Time
	Baseline Counts
}

// Store keeps the windows and the guards.
type Store interface {
	// ReputationWindow sums the channel's counters of the hours starting
	// at or after since.
	ReputationWindow(ctx context.Context, t tenant.Tenant, ch campaign.Channel, since time.Time) (Counts, error)
	// ReputationGuard returns the channel's guard; a zero Guard (of
	// channel ch) when none was ever set.
	ReputationGuard(ctx context.Context, t tenant.Tenant, ch campaign.Channel) (Guard, error)
	// PauseReputation pauses the channel with g unless it is paused
	// already (its first pause is kept); it reports whether it paused it
	// now.
	PauseReputation(ctx context.Context, t tenant.Tenant, g Guard) (bool, error)
	// LiftReputation unpauses the channel, recording when and the
	// baseline; returns derrors.NotFound if it is not paused.
	LiftReputation(ctx context.Context, t tenant.Tenant, ch campaign.Channel, at time.Time, baseline Counts) error
}

// Since is where the window of a guard starts at now: the last 24 hours,
// or the hour of its last lift when that is later.
func Since(g Guard, now time.Time) time.Time {
	since := now.UTC().Truncate(time.Hour).Add(-Window + time.Hour)
	if l := g.LiftedAt.UTC().Truncate(time.Hour); l.After(since) {
		return l
	}
	return since
}

// Current is a guard's window at now, the lift's baseline taken out.
func Current(ctx context.Context, s Store, t tenant.Tenant, g Guard, now time.Time) (Counts, error) {
	since := Since(g, now)
	c, err := s.ReputationWindow(ctx, t, g.Channel, since)
	if err != nil {
		return Counts{}, err
	}
	if !g.LiftedAt.IsZero() && g.LiftedAt.UTC().Truncate(time.Hour).Equal(since) {
		c = c.Sub(g.Baseline)
	}
	return c, nil
}

// Status is one channel as the API shows it.
type Status struct {
	Channel    campaign.Channel `json:"channel"`
	Paused     bool             `json:"paused"`
	Since      *time.Time       `json:"since"`
	Reason     *string          `json:"reason"`
	LiftedAt   *time.Time       `json:"liftedAt"`
	Window     Counts           `json:"window"`
	Rates      Rates            `json:"rates"`
	Thresholds Thresholds       `json:"thresholds"`
	// WindowStart is when the counted window starts (a whole hour).
	WindowStart time.Time `json:"windowStart"`
}

// Service shows and lifts guards.
type Service struct {
	Store      Store
	Thresholds Thresholds
	Now        func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// List returns each watched channel's status.
func (s *Service) List(ctx context.Context, t tenant.Tenant) ([]Status, error) {
	out := make([]Status, 0, len(Channels))
	for _, ch := range Channels {
		st, err := s.status(ctx, t, ch)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

func (s *Service) status(ctx context.Context, t tenant.Tenant, ch campaign.Channel) (Status, error) {
	now := s.now()
	g, err := s.Store.ReputationGuard(ctx, t, ch)
	if err != nil {
		return Status{}, fmt.Errorf("read reputation guard: %w", err)
	}
	g.Channel = ch
	c, err := Current(ctx, s.Store, t, g, now)
	if err != nil {
		return Status{}, fmt.Errorf("read reputation window: %w", err)
	}
	st := Status{Channel: ch, Paused: g.Paused, Window: c, Rates: c.Rates(), Thresholds: s.Thresholds, WindowStart: Since(g, now)}
	if g.Paused {
		since, reason := g.Since, g.Reason
		st.Since, st.Reason = &since, &reason
	}
	if !g.LiftedAt.IsZero() {
		l := g.LiftedAt
		st.LiftedAt = &l
	}
	return st, nil
}

// Lift unpauses ch's marketing sends. The events of the current hour so
// far stop counting against the tenant (the baseline), so the pause is not
// tripped again by what caused it; new bounces or complaints can trip it
// again once the minimum sample is reached. derrors.NotFound if ch is not
// paused; derrors.Invalid if the guard does not watch it.
func (s *Service) Lift(ctx context.Context, t tenant.Tenant, ch campaign.Channel) (Status, error) {
	if !Watched(ch) {
		return Status{}, derrors.Validation(derrors.FieldError{Field: "channel", Message: "must be email or sms (the channels the reputation guard watches)"})
	}
	now := s.now()
	base, err := s.Store.ReputationWindow(ctx, t, ch, now.Truncate(time.Hour))
	if err != nil {
		return Status{}, fmt.Errorf("read reputation window: %w", err)
	}
	if err := s.Store.LiftReputation(ctx, t, ch, now, base); err != nil {
		return Status{}, err
	}
	return s.status(ctx, t, ch)
}
