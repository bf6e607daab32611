// Package status tells what happened to an execution — unitary, audience
// or proof: its status with counts by outcome, read from the counters
// Dispatch keeps as outcomes are recorded (never by reading the ledger),
// and its recipients a page at a time (a Query of the ledger, without any
// address). It also redrives an execution's parked jobs.
package status

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/feedback"
	"github.com/heraldhq/herald/internal/tenant"
)

// Statuses of an execution.
const (
	// InProgress: some recipient has no outcome yet (or an audience is
	// still being read, or its schedule has not fired).
	InProgress = "InProgress"
	// Completed: every recipient has its outcome.
	Completed = "Completed"
	// Failed: an audience execution stopped before reading its audience
	// (cancelled, or its campaign or audience gone).
	Failed = "Failed"
)

// Summary is what the store knows of an execution besides its counters.
type Summary struct {
	ID         string
	Kind       string // "unitary", "audience" or "proof"
	CampaignID string
	Version    int
	CreatedAt  time.Time
	// Recipients is how many recipients the call named (unitary, proof)
	// or the fan-out has read so far (audience).
	Recipients int64
	// Settled is false while an audience is still being read (or waits
	// for its schedule): more recipients may come.
	Settled bool
	// Failed says why an audience execution stopped ("" when it did not).
	Failed string
	// Detail adds what the status alone does not say (when a scheduled
	// execution will run).
	Detail string
	// Outside counts recipients closed outside the counters (audience
	// members past the rate window), by outcome.
	Outside map[delivery.Outcome]int64
	// RecurrenceID is the recurrence whose firing started it.
	RecurrenceID string
	// QueuedBehind is how long after its start an audience execution's
	// first message could leave: earlier executions of its campaign still
	// held the delivery rate's timeline.
	QueuedBehind time.Duration
}

// CodeQueuedBehind: an execution's first message left well after it
// started, behind earlier executions of its campaign at the campaign's
// delivery rate.
const CodeQueuedBehind = "queued_behind"

// Query selects a page of an execution's recipients.
type Query struct {
	// Outcome keeps recipients with this outcome ("failed:throttled"),
	// of this kind ("sent", "excluded", "failed", "ambiguous"), or
	// without one yet ("pending"); "" keeps all.
	Outcome string
	// Cursor continues a previous page.
	Cursor string
	// Limit is the most entries a page reads (1-100).
	Limit int
}

// Store reads executions, their counters and their ledger.
type Store interface {
	// Summary returns an execution's summary, or derrors.NotFound.
	Summary(ctx context.Context, t tenant.Tenant, executionID string) (Summary, error)
	// Counts sums the execution's counters by outcome.
	Counts(ctx context.Context, t tenant.Tenant, executionID string) (map[delivery.Outcome]int64, error)
	// Page returns a page of the execution's ledger entries and the
	// cursor of the next page ("" after the last). A cursor it did not
	// make is derrors.Invalid.
	Page(ctx context.Context, t tenant.Tenant, executionID string, q Query) ([]delivery.Entry, string, error)
	// CampaignExecutions returns a page of a campaign's execution ids,
	// newest first, and the cursor of the next page ("" after the last).
	CampaignExecutions(ctx context.Context, t tenant.Tenant, campaignID, cursor string, limit int) ([]string, string, error)
}

// Campaigns tells whether a campaign exists.
type Campaigns interface {
	GetCampaign(ctx context.Context, t tenant.Tenant, id string) (campaign.Campaign, error)
}

// List is the body of GET /campaigns/{id}/executions.
type List struct {
	Executions []Status `json:"executions"`
	Cursor     string   `json:"cursor,omitempty"`
}

// Status is the body of GET /executions/{executionId}.
type Status struct {
	ExecutionID string    `json:"executionId"`
	Kind        string    `json:"kind"`
	CampaignID  string    `json:"campaignId"`
	Version     int       `json:"version"`
	CreatedAt   time.Time `json:"createdAt"`
	// RecurrenceID is set when a recurrence's firing started it.
	RecurrenceID string `json:"recurrenceId,omitempty"`
	Status       string `json:"status"`
	Detail       string `json:"detail,omitempty"`
	// Warnings say what went other than planned without failing
	// (queued_behind).
	Warnings []derrors.FieldError `json:"warnings,omitempty"`
	// Recipients is how many recipients the execution has (so far, for an
	// audience still being read); Pending how many have no outcome yet.
	Recipients int64 `json:"recipients"`
	Pending    int64 `json:"pending"`
	// Deferred counts the pending recipients that quiet hours hold back
	// until their window ends, parked with a schedule (a window ending
	// within 15 minutes keeps them on the queue, pending alone).
	Deferred int64 `json:"deferred,omitempty"`
	// Counts sums Outcomes by kind; Sent+Excluded+Failed+Ambiguous+Pending
	// is Recipients.
	Counts Counts `json:"counts"`
	// Outcomes counts recipients by outcome ("excluded:no_address": 2).
	Outcomes map[string]int64 `json:"outcomes"`
}

// Counts are recipients by outcome kind.
type Counts struct {
	Sent      int64 `json:"sent"`
	Excluded  int64 `json:"excluded"`
	Failed    int64 `json:"failed"`
	Ambiguous int64 `json:"ambiguous"`
}

// Recipient is one ledger entry as the API shows it: who and how, never
// the address.
type Recipient struct {
	Namespace string `json:"namespace"`
	UserID    string `json:"userId"`
	Channel   string `json:"channel"`
	// Device is a digest of the push device's app and token.
	Device string `json:"device,omitempty"`
	// State is "claimed" (under way) or "done".
	State   string `json:"state"`
	Outcome string `json:"outcome,omitempty"`
	// Reason is the outcome's code (its part after the colon), or the
	// code of the last attempt that ended without an outcome.
	Reason string `json:"reason,omitempty"`
	// DeliveryState is what the provider's events said since (sent,
	// delivered, opened, clicked, bounced, complained, rejected, delayed,
	// failed; see package feedback).
	DeliveryState string `json:"deliveryState,omitempty"`
	MessageID     string `json:"messageId,omitempty"`
	// Variant is the content the message was rendered from: a locale
	// variant's tag ("fr-CA") or "default"; absent when nothing was sent
	// (and for entries written before variants existed).
	Variant string `json:"variant,omitempty"`
	// Treatment is the content experiment's treatment the recipient was
	// assigned ("holdout" for the holdout, who got nothing); absent
	// without an experiment.
	Treatment  string    `json:"treatment,omitempty"`
	Attempts   int       `json:"attempts"`
	ClaimedAt  time.Time `json:"claimedAt"`
	AttemptAt  time.Time `json:"lastAttemptAt,omitzero"`
	FinishedAt time.Time `json:"finishedAt,omitzero"`
}

// Page is the body of GET /executions/{executionId}/recipients.
type Page struct {
	Recipients []Recipient `json:"recipients"`
	// Cursor, when set, gets the next page. A page may hold fewer
	// recipients than the limit (even none) and still have a next one.
	Cursor string `json:"cursor,omitempty"`
}

// Service answers the execution status routes.
type Service struct {
	Store    Store
	Redriver *delivery.Redriver
	// Campaigns, when set, lets ByCampaign answer 404 for an unknown
	// campaign.
	Campaigns Campaigns
	// Reports, when set, serves the report routes.
	Reports ReportsStore
	// Parked, when set, lets a status count the pending recipients that
	// quiet hours deferred (Status.Deferred).
	Parked Parked
}

// ByCampaign lists a campaign's executions of every kind (unitary,
// audience, recurring, proof), newest first, each with its status and
// counts; limit is 1-100 (0 = 20).
func (s *Service) ByCampaign(ctx context.Context, t tenant.Tenant, campaignID, cursor string, limit int) (List, error) {
	if limit == 0 {
		limit = 20
	}
	if limit < 1 || limit > 100 {
		return List{}, derrors.Validation(derrors.FieldError{Field: "limit", Message: "must be between 1 and 100"})
	}
	if s.Campaigns != nil {
		if _, err := s.Campaigns.GetCampaign(ctx, t, campaignID); err != nil {
			return List{}, err
		}
	}
	ids, next, err := s.Store.CampaignExecutions(ctx, t, campaignID, cursor, limit)
	if err != nil {
		return List{}, err
	}
	out := List{Executions: make([]Status, len(ids)), Cursor: next}
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() { out.Executions[i], errs[i] = s.Get(ctx, t, id) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return List{}, err
	}
	return out, nil
}

// Get returns an execution's status.
func (s *Service) Get(ctx context.Context, t tenant.Tenant, id string) (Status, error) {
	st, _, err := s.get(ctx, t, id)
	return st, err
}

// get returns an execution's status and its feedback counters (nil
// without Reports). Ambiguous sends an SES event confirmed count as sent.
func (s *Service) get(ctx context.Context, t tenant.Tenant, id string) (Status, map[string]int64, error) {
	sum, err := s.summary(ctx, t, id)
	if err != nil {
		return Status{}, nil, err
	}
	counts, err := s.Store.Counts(ctx, t, id)
	if err != nil {
		return Status{}, nil, fmt.Errorf("count outcomes of %s: %w", id, err)
	}
	var fb map[string]int64
	if s.Reports != nil {
		if fb, err = s.Reports.ExecutionFeedback(ctx, t, id); err != nil {
			return Status{}, nil, fmt.Errorf("read feedback counters of %s: %w", id, err)
		}
		for name, n := range fb {
			cause, ok := strings.CutPrefix(name, feedback.CountConfirmed)
			o := delivery.Ambiguous(cause)
			if n = min(n, counts[o]); !ok || n <= 0 {
				continue
			}
			counts[o] -= n
			counts[delivery.Sent] += n
		}
	}
	st := Status{ExecutionID: sum.ID, Kind: sum.Kind, CampaignID: sum.CampaignID, Version: sum.Version, CreatedAt: sum.CreatedAt,
		Recipients: sum.Recipients, Detail: sum.Detail, RecurrenceID: sum.RecurrenceID, Outcomes: map[string]int64{}}
	if d := sum.QueuedBehind; d > 0 {
		msg := fmt.Sprintf("its first message left %s after it started: earlier executions of the campaign still held its delivery rate", d)
		if sum.RecurrenceID != "" {
			msg += "; the recurrence fires more often than its audience can be sent at that rate"
		}
		st.Warnings = append(st.Warnings, derrors.FieldError{Code: CodeQueuedBehind, Message: msg})
	}
	add := func(o delivery.Outcome, n int64) {
		if n == 0 {
			return
		}
		st.Outcomes[string(o)] += n
		switch o.Kind() {
		case "sent":
			st.Counts.Sent += n
		case "excluded":
			st.Counts.Excluded += n
		case "ambiguous":
			st.Counts.Ambiguous += n
		default:
			st.Counts.Failed += n
		}
	}
	for o, n := range counts {
		add(o, n)
	}
	for o, n := range sum.Outside {
		add(o, n)
	}
	done := st.Counts.Sent + st.Counts.Excluded + st.Counts.Failed + st.Counts.Ambiguous
	st.Pending = max(st.Recipients-done, 0)
	if st.Pending > 0 && s.Parked != nil {
		n, err := s.deferred(ctx, t, id)
		if err != nil {
			return Status{}, nil, err
		}
		st.Deferred = min(n, st.Pending)
	}
	switch {
	case sum.Failed != "":
		st.Status, st.Detail = Failed, sum.Failed
	case sum.Settled && st.Pending == 0:
		st.Status = Completed
	default:
		st.Status = InProgress
	}
	return st, fb, nil
}

// Recipients returns a page of an execution's recipients.
func (s *Service) Recipients(ctx context.Context, t tenant.Tenant, id string, q Query) (Page, error) {
	var f derrors.Fields
	if q.Limit == 0 {
		q.Limit = 50
	}
	if q.Limit < 1 || q.Limit > 100 {
		f.Add("limit", "must be between 1 and 100")
	}
	if !validFilter(q.Outcome) {
		f.Add("outcome", "must be sent, excluded, failed, ambiguous, pending or an outcome such as failed:throttled")
	}
	if err := f.Err(); err != nil {
		return Page{}, err
	}
	if _, err := s.summary(ctx, t, id); err != nil {
		return Page{}, err
	}
	entries, next, err := s.Store.Page(ctx, t, id, q)
	if err != nil {
		return Page{}, err
	}
	p := Page{Recipients: make([]Recipient, 0, len(entries)), Cursor: next}
	for _, e := range entries {
		r := Recipient{Namespace: e.Namespace, UserID: e.UserID, Channel: string(e.Channel), Device: e.Device, State: string(e.State),
			Outcome: string(e.Outcome), Reason: e.Outcome.Reason(), DeliveryState: e.DeliveryState, MessageID: e.MessageID, Variant: e.Variant, Treatment: e.Treatment, Attempts: e.Attempts,
			ClaimedAt: e.ClaimedAt, AttemptAt: e.AttemptAt, FinishedAt: e.FinishedAt}
		if e.State != delivery.Done {
			r.Outcome, r.Reason = "", e.LastCode
		}
		p.Recipients = append(p.Recipients, r)
	}
	return p, nil
}

// Redrive reopens an execution's parked jobs' failed:retries_exhausted
// recipients and queues the jobs again.
func (s *Service) Redrive(ctx context.Context, t tenant.Tenant, id string) (delivery.RedriveResult, error) {
	if s.Redriver == nil {
		return delivery.RedriveResult{}, derrors.New(derrors.Unprocessable, "redrive is not available here")
	}
	if _, err := s.summary(ctx, t, id); err != nil {
		return delivery.RedriveResult{}, err
	}
	return s.Redriver.Redrive(ctx, t, id)
}

func (s *Service) summary(ctx context.Context, t tenant.Tenant, id string) (Summary, error) {
	sum, err := s.Store.Summary(ctx, t, id)
	if derrors.Is(err, derrors.NotFound) {
		return Summary{}, derrors.New(derrors.NotFound, "execution %q not found", id)
	}
	if err != nil {
		return Summary{}, fmt.Errorf("read execution %s: %w", id, err)
	}
	return sum, nil
}

// validFilter reports whether an outcome filter names a kind, "pending"
// or a well-formed outcome.
func validFilter(f string) bool {
	switch f {
	case "", "sent", "excluded", "failed", "ambiguous", "pending":
		return true
	}
	kind, code, ok := strings.Cut(f, ":")
	if !ok || code == "" || len(code) > 64 {
		return false
	}
	switch kind {
	case "excluded", "failed", "ambiguous":
	default:
		return false
	}
	for _, r := range code {
		if !(r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// ParseLimit reads a limit query parameter ("" is 0, the default).
func ParseLimit(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, derrors.Validation(derrors.FieldError{Field: "limit", Message: "must be a whole number"})
	}
	return n, nil
}
