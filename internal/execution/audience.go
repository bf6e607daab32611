package execution

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/internal/audience"
	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/logsafe"
	"github.com/heraldhq/herald/internal/metrics"
	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/internal/schedule"
	"github.com/heraldhq/herald/internal/tenant"
)

// AudienceRequest is the body of POST /im/executions/audience
// (imExecutionRequestAudience).
type AudienceRequest struct {
	RequestID  string       `json:"requestId,omitempty"`
	CampaignID string       `json:"campaignId"`
	Audience   *AudienceRef `json:"audience,omitempty"`
	// Context is decoded once into the engine's object, its members in
	// the call's order (as Handlebars iterates them).
	Context  render.Object    `json:"context,omitzero"`
	Schedule *ScheduleRequest `json:"schedule,omitempty"`
}

// AudienceRef names an audience.
type AudienceRef struct {
	ID string `json:"id"`
}

// ScheduleRequest asks for a later execution.
type ScheduleRequest struct {
	ExecuteAt *time.Time `json:"executeAt,omitempty"`
}

// bodyHash is the idempotency record's BodyHash of an audience request:
// what json.Marshal wrote for it when its context was a map (members
// sorted at every level, '<', '>' and '&' escaped, an empty context left
// out), so that member order does not make a repeat a conflict and
// records stored by earlier code still match their repeats.
func (r AudienceRequest) bodyHash() string {
	h := audienceHashRequest{RequestID: r.RequestID, CampaignID: r.CampaignID, Audience: r.Audience, Schedule: r.Schedule}
	if r.Context.Len() > 0 {
		h.Context = r.Context.AppendCanonicalJSON(nil)
	}
	return hashOf(h)
}

// audienceHashRequest is AudienceRequest as bodyHash encodes it: every
// field, the context in its canonical form.
// TestAudienceBodyHashIsTheMapEras holds it to the same fields.
type audienceHashRequest struct {
	RequestID  string           `json:"requestId,omitempty"`
	CampaignID string           `json:"campaignId"`
	Audience   *AudienceRef     `json:"audience,omitempty"`
	Context    json.RawMessage  `json:"context,omitempty"`
	Schedule   *ScheduleRequest `json:"schedule,omitempty"`
}

// Validate checks the request against the contract and Herald's limits.
func (r AudienceRequest) Validate() error {
	var f derrors.Fields
	if r.RequestID != "" {
		checkID(&f, "requestId", r.RequestID)
	}
	checkID(&f, "campaignId", r.CampaignID)
	if r.Audience != nil {
		checkID(&f, "audience.id", r.Audience.ID)
	}
	checkAudienceContext(&f, r.Context)
	if r.Schedule != nil && r.Schedule.ExecuteAt == nil {
		f.Add("schedule.executeAt", "is required when schedule is given")
	}
	return f.Err()
}

// Audience execution states, as stored.
const (
	StateScheduled = "scheduled"  // waiting for its schedule
	StateCancelled = "cancelled"  // its schedule was deleted before it fired
	StateRunning   = "running"    // the fan-out is under way
	StateFannedOut = "fanned-out" // every member was enqueued or excluded
	StateFailed    = "failed"     // stopped for good (FailReason says why)
)

// Execution statuses of the AJO contract.
const (
	StatusInProgress = "InProgress"
	StatusSucceeded  = "Succeeded"
	StatusFailed     = "Failed"
)

// Schedule statuses of the AJO contract.
const (
	ScheduleScheduled = "Scheduled"
	ScheduleTriggered = "Triggered"
)

// AudienceExecution is the stored state of one audience execution.
type AudienceExecution struct {
	ID         string           `json:"id"`
	RequestID  string           `json:"requestId"`
	CampaignID string           `json:"campaignId"`
	Version    int              `json:"version"`
	Channel    campaign.Channel `json:"channel"`
	AudienceID string           `json:"audienceId"`
	Context    render.Object    `json:"context,omitzero"`
	// Shards is how many counter items its outcomes are tallied in
	// (sized from the audience when it was accepted).
	Shards int `json:"shards,omitempty"`
	// Rate is the campaign's delivery rate (messages/s; 0 = unpaced).
	Rate      int        `json:"rate,omitempty"`
	CreatedAt time.Time  `json:"createdAt"`
	CreatedBy string     `json:"createdBy"`
	ExecuteAt *time.Time `json:"executeAt,omitempty"`
	// ScheduleName is the one-time schedule of a scheduled execution.
	ScheduleName string `json:"scheduleName,omitempty"`
	State        string `json:"state"`
	// StartedAt is when the fan-out began: the 12-hour window's origin.
	StartedAt time.Time `json:"startedAt,omitzero"`
	// Cursor is where the fan-out resumes in the audience.
	Cursor string `json:"cursor,omitempty"`
	// Targeted counts members read; Enqueued those put on the queue;
	// WindowExcluded those past the 12-hour window.
	Targeted       int64 `json:"targeted"`
	Enqueued       int64 `json:"enqueued"`
	WindowExcluded int64 `json:"windowExcluded"`
	Continuations  int   `json:"continuations,omitempty"`
	// QueuedBehind is how long after its start the execution's first
	// slot came: earlier executions of the campaign (an earlier firing
	// of its recurrence, say) still held the rate's timeline.
	QueuedBehind time.Duration `json:"queuedBehind,omitempty"`
	FailReason   string        `json:"failReason,omitempty"`
	// LeaseToken and LeaseUntil make one fan-out at a time the owner.
	LeaseToken string    `json:"leaseToken,omitempty"`
	LeaseUntil time.Time `json:"leaseUntil,omitzero"`
}

// ScheduleRef indexes a pending schedule under its campaign, so stopping
// the campaign can delete it.
type ScheduleRef struct {
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	ExecutionID string `json:"executionId,omitempty"`
}

// AudienceExecutionStore keeps audience executions and the campaign schedule index.
type AudienceExecutionStore interface {
	// BeginAudience stores rec and ex in one transaction unless a record
	// for rec.RequestID exists (derrors.Conflict).
	BeginAudience(ctx context.Context, t tenant.Tenant, rec Record, ex AudienceExecution) error
	// GetAudienceExecution returns an execution or derrors.NotFound.
	GetAudienceExecution(ctx context.Context, t tenant.Tenant, id string) (AudienceExecution, error)
	// SetAudienceState moves execution id from one of the states `from`
	// to `to`; derrors.Conflict when it is in another state,
	// derrors.NotFound when it does not exist.
	SetAudienceState(ctx context.Context, t tenant.Tenant, id string, from []string, to string) error
	// AcquireLease makes token the owner of a running execution's
	// fan-out until `until`, provided no other token holds an unexpired
	// lease at now; derrors.Conflict otherwise (or when not running).
	AcquireLease(ctx context.Context, t tenant.Tenant, id, token string, now, until time.Time) (AudienceExecution, error)
	// SaveProgress stores ex's progress (state, cursor, counts,
	// startedAt, continuations, failReason, leaseUntil) provided
	// ex.LeaseToken still owns the lease; derrors.Conflict otherwise.
	SaveProgress(ctx context.Context, t tenant.Tenant, ex AudienceExecution) error
	// RecordOutcomes writes final ledger entries for members that were
	// never enqueued (past the rate window).
	RecordOutcomes(ctx context.Context, t tenant.Tenant, entries []delivery.Entry) error
	// CountOutcomes counts an execution's ledger entries by outcome;
	// pending counts claims without an outcome yet.
	CountOutcomes(ctx context.Context, t tenant.Tenant, executionID string) (counts map[delivery.Outcome]int64, pending int64, err error)
	// PutScheduleRef, DeleteScheduleRef and ScheduleRefs keep the index
	// of a campaign's pending schedules.
	PutScheduleRef(ctx context.Context, t tenant.Tenant, campaignID string, r ScheduleRef) error
	DeleteScheduleRef(ctx context.Context, t tenant.Tenant, campaignID, name string) error
	ScheduleRefs(ctx context.Context, t tenant.Tenant, campaignID string) ([]ScheduleRef, error)
}

// AudienceReader reads audiences and their members.
type AudienceReader interface {
	GetAudience(ctx context.Context, t tenant.Tenant, id string) (audience.Audience, error)
	Members(ctx context.Context, t tenant.Tenant, id, cursor string, limit int) (audience.Page, error)
}

// Pacer hands out send slots on a campaign's delivery-rate timeline, shared
// by all of the campaign's executions.
type Pacer interface {
	// Reserve reserves up to want consecutive slots at rate per second,
	// none at or after limit. It returns the first slot's time and how
	// many it got; got is 0 when the timeline's next slot (start) is at
	// or past limit.
	Reserve(ctx context.Context, t tenant.Tenant, campaignID string, want, rate int, now, limit time.Time) (start time.Time, got int, err error)
}

// Timings and sizes of audience executions.
const (
	// MaxDelay is the queue's longest delay; batches further out wait
	// for a continuation schedule.
	MaxDelay = delivery.MaxDelay
	// MaxWindow is how long one execution may run; members whose slot
	// falls later are excluded:rate_window_exceeded.
	MaxWindow = 12 * time.Hour
	// LeaseDuration is how long a fan-out owns its execution without
	// saving progress (well above the schedule.Scheduler function's timeout).
	LeaseDuration = 2 * time.Minute
	// DefaultPageSize members are read per Query page, DefaultJobSize
	// recipients go in one queue message.
	DefaultPageSize = 1000
	DefaultJobSize  = 50
)

// AudienceExecutions runs audience executions: it accepts them (at once or on a
// schedule), fans them out to the dispatch queue and reports on them.
type AudienceExecutions struct {
	Records    RecordStore // idempotency records, shared with unitary executions
	Executions AudienceExecutionStore
	Campaigns  Campaigns
	Members    AudienceReader
	Queue      Queue
	Pacer      Pacer
	Schedules  schedule.Scheduler
	// Schemas checks contexts against the campaigns' context schemas
	// (contextschema.Compiler); a campaign with a schema is refused
	// without it.
	Schemas campaign.Schemas
	Log     *slog.Logger
	Now     func() time.Time
	NewID   func() string
	// InlineBudget bounds how long a call fans out before handing the
	// rest to a continuation schedule (default 5 s for Trigger; the
	// schedule.Scheduler function uses more).
	InlineBudget time.Duration
	PageSize     int
	JobSize      int
	// Metrics, when set, is told each fan-out's members queued per
	// second (FanOutRate).
	Metrics Metrics
}

// Metrics records the operators' metrics (*metrics.Recorder).
type Metrics interface {
	Add(m metrics.Metric, v float64, d metrics.Dims)
}

// fanOutRate records the members one fan-out call queued per second of
// its own time (nothing when it queued none).
func (s *AudienceExecutions) fanOutRate(queued int64, took time.Duration) {
	if s.Metrics == nil || queued == 0 || took <= 0 {
		return
	}
	s.Metrics.Add(metrics.FanOutRate, float64(queued)/took.Seconds(), metrics.Dims{})
}

func (s *AudienceExecutions) now() time.Time    { return clock(s.Now) }
func (s *AudienceExecutions) newID() string     { return newID(s.NewID) }
func (s *AudienceExecutions) log() *slog.Logger { return logger(s.Log) }

// clock, newID and logger give the services' optional hooks their
// defaults: the time in UTC, a UUID, the default logger.
func clock(now func() time.Time) time.Time {
	if now != nil {
		return now().UTC()
	}
	return time.Now().UTC()
}

func newID(f func() string) string {
	if f != nil {
		return f()
	}
	return uuid.NewString()
}

func logger(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.Default()
}

// ScheduledResponse is the 202 body of a scheduled execution and the body
// of GET /im/executions/schedules/{scheduleId} (ScheduledExecutionResponse).
type ScheduledResponse struct {
	ScheduleID       string          `json:"scheduleId"`
	ScheduleStatus   string          `json:"scheduleStatus"`
	CampaignID       string          `json:"campaignId"`
	Audience         *AudienceRef    `json:"audience,omitempty"`
	ExecuteAt        *time.Time      `json:"executeAt,omitempty"`
	RequestID        string          `json:"requestId,omitempty"`
	ExecutionDetails *StatusResponse `json:"executionDetails,omitempty"`
}

// StatusResponse is the body of GET /im/executions/audience/{executionId}
// (executionStatusResponse) with Herald's counts by outcome.
type StatusResponse struct {
	ExecutionID          string    `json:"executionId"`
	CampaignID           string    `json:"campaignId"`
	AudienceID           string    `json:"audienceId"`
	Status               string    `json:"status"`
	TargetedProfileCount int64     `json:"targetedProfileCount"`
	CreatedAt            time.Time `json:"createdAt"`
	// Counts has one entry per outcome ("sent", "excluded:no_consent"…)
	// and "pending" for members queued but not yet delivered.
	Counts map[string]int64 `json:"counts"`
	Detail string           `json:"detail,omitempty"`
}

// Start runs POST /im/executions/audience for a decoded, validated
// request. Without schedule.executeAt it records the execution, starts
// the fan-out at once and returns an imExecutionResponse; with it, it
// creates a one-time schedule and returns a ScheduledResponse. requestId
// is idempotent as for unitary executions.
func (s *AudienceExecutions) Start(ctx context.Context, t tenant.Tenant, createdBy string, req AudienceRequest) (any, error) {
	if req.RequestID == "" {
		req.RequestID = s.newID()
	}
	hash := req.bodyHash()
	if resp, done, err := s.replay(ctx, t, req, hash); done || err != nil {
		return resp, err
	}
	now := s.now()
	at := now
	if req.Schedule != nil {
		at = req.Schedule.ExecuteAt.UTC()
		if !at.After(now) {
			return nil, derrors.Validation(derrors.FieldError{Field: "schedule.executeAt", Message: "must be in the future"})
		}
	}
	v, err := liveVersion(ctx, s.Campaigns, t, req.CampaignID, campaign.Marketing, false, at)
	if err != nil {
		return nil, err
	}
	var f derrors.Fields
	if err := v.CheckContext(s.Schemas, &f, "context", req.Context.Map()); err != nil {
		return nil, err
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	if err := checkAudienceJobs(t, "context", req.Context, cmpOr(s.JobSize, DefaultJobSize)); err != nil {
		return nil, err
	}
	audID := v.Spec.Audience.AudienceID
	if req.Audience != nil {
		audID = req.Audience.ID
	}
	if audID == "" {
		return nil, derrors.Validation(derrors.FieldError{Field: "audience.id", Message: "is required: the campaign names no audience"})
	}
	aud, err := s.Members.GetAudience(ctx, t, audID)
	if err != nil {
		if derrors.Is(err, derrors.NotFound) {
			return nil, derrors.New(derrors.NotFound, "audience %q not found", audID)
		}
		return nil, fmt.Errorf("read audience %s: %w", audID, err)
	}
	id := s.newID()
	resp := Response{ExecutionID: id, RequestID: req.RequestID, CreatedAt: now, CreatedBy: createdBy, ModifiedAt: now, ModifiedBy: createdBy}
	rec := Record{RequestID: req.RequestID, BodyHash: hash, Response: resp, Version: v.Number, ExpiresAt: now.Add(IdempotencyTTL)}
	ex := AudienceExecution{ID: id, RequestID: req.RequestID, CampaignID: req.CampaignID, Version: v.Number, Channel: v.Channel,
		AudienceID: audID, Context: req.Context, Rate: v.Spec.Schedule.DeliveryRate, CreatedAt: now, CreatedBy: createdBy, State: StateRunning,
		Shards: delivery.ShardsFor(aud.MemberCount)}
	if req.Schedule != nil {
		ex.State, ex.ExecuteAt, ex.ScheduleName = StateScheduled, &at, schedule.Name(t, "x", id)
	}
	err = s.Executions.BeginAudience(ctx, t, rec, ex)
	if derrors.Is(err, derrors.Conflict) {
		resp, _, err := s.replay(ctx, t, req, hash)
		return resp, err
	}
	if err != nil {
		return nil, fmt.Errorf("record execution: %w", err)
	}
	s.log().InfoContext(ctx, "audience execution accepted", "executionId", id, "campaignId", req.CampaignID,
		"audienceId", audID, "version", v.Number, "scheduled", req.Schedule != nil, "tenant", t.String())
	return s.launch(ctx, t, rec, ex)
}

// launch starts an accepted execution: it creates the schedule of a
// scheduled one, or runs the first part of the fan-out, then marks the
// request record so a replay does not launch it again.
func (s *AudienceExecutions) launch(ctx context.Context, t tenant.Tenant, rec Record, ex AudienceExecution) (any, error) {
	annotate(ctx, ex.CampaignID, ex.ID)
	if ex.State == StateScheduled {
		in, _ := json.Marshal(schedule.Input{Kind: schedule.KindExecution, Org: t.Org, Sandbox: t.Sandbox, ExecutionID: ex.ID, CampaignID: ex.CampaignID})
		if err := s.Schedules.CreateSchedule(ctx, schedule.Schedule{Name: ex.ScheduleName, Expression: schedule.At(*ex.ExecuteAt), TimeZone: "UTC", Input: in, OneTime: true}); err != nil {
			return nil, fmt.Errorf("schedule execution %s: %w", ex.ID, err)
		}
		if err := s.Executions.PutScheduleRef(ctx, t, ex.CampaignID, ScheduleRef{Name: ex.ScheduleName, Kind: schedule.KindExecution, ExecutionID: ex.ID}); err != nil {
			return nil, fmt.Errorf("index schedule of execution %s: %w", ex.ID, err)
		}
	} else if err := s.FanOut(ctx, t, ex.ID, s.budget()); err != nil {
		return nil, err
	}
	if err := s.Records.MarkEnqueued(ctx, t, rec.RequestID); err != nil {
		return nil, fmt.Errorf("mark execution %s launched: %w", ex.ID, err)
	}
	return s.answer(ex, rec), nil
}

func (s *AudienceExecutions) budget() time.Duration {
	if s.InlineBudget > 0 {
		return s.InlineBudget
	}
	return 5 * time.Second
}

func (s *AudienceExecutions) answer(ex AudienceExecution, rec Record) any {
	if ex.ExecuteAt != nil {
		return ScheduledResponse{ScheduleID: ex.ID, ScheduleStatus: ScheduleScheduled, CampaignID: ex.CampaignID,
			Audience: &AudienceRef{ID: ex.AudienceID}, ExecuteAt: ex.ExecuteAt, RequestID: rec.RequestID}
	}
	return rec.Response
}

// replay answers a requestId seen before, finishing a launch that stopped
// half-way.
func (s *AudienceExecutions) replay(ctx context.Context, t tenant.Tenant, req AudienceRequest, hash string) (any, bool, error) {
	rec, err := s.Records.GetRecord(ctx, t, req.RequestID)
	if derrors.Is(err, derrors.NotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, fmt.Errorf("read request %s: %w", req.RequestID, err)
	}
	if rec.BodyHash != hash {
		return nil, true, derrors.New(derrors.Conflict, "requestId %q was already used with a different body", req.RequestID)
	}
	ex, err := s.Executions.GetAudienceExecution(ctx, t, rec.Response.ExecutionID)
	if err != nil {
		return nil, true, fmt.Errorf("requestId %q belongs to another kind of execution: %w", req.RequestID,
			derrors.New(derrors.Conflict, "requestId %q was already used for another execution", req.RequestID))
	}
	if !rec.Enqueued {
		resp, err := s.launch(ctx, t, rec, ex)
		return resp, true, err
	}
	annotate(ctx, ex.CampaignID, ex.ID)
	return s.answer(ex, rec), true, nil
}

// Status answers GET /im/executions/audience/{executionId}.
func (s *AudienceExecutions) Status(ctx context.Context, t tenant.Tenant, id string) (StatusResponse, error) {
	ex, err := s.Executions.GetAudienceExecution(ctx, t, id)
	if derrors.Is(err, derrors.NotFound) {
		return StatusResponse{}, derrors.New(derrors.NotFound, "audience execution %q not found", id)
	}
	if err != nil {
		return StatusResponse{}, err
	}
	return s.status(ctx, t, ex)
}

func (s *AudienceExecutions) status(ctx context.Context, t tenant.Tenant, ex AudienceExecution) (StatusResponse, error) {
	r := StatusResponse{ExecutionID: ex.ID, CampaignID: ex.CampaignID, AudienceID: ex.AudienceID,
		TargetedProfileCount: ex.Targeted, CreatedAt: ex.CreatedAt, Counts: map[string]int64{}, Status: StatusInProgress}
	if ex.State == StateScheduled {
		r.Detail = "scheduled for " + ex.ExecuteAt.UTC().Format(time.RFC3339)
		return r, nil
	}
	counts, pending, err := s.Executions.CountOutcomes(ctx, t, ex.ID)
	if err != nil {
		return StatusResponse{}, fmt.Errorf("count outcomes of %s: %w", ex.ID, err)
	}
	var done int64
	for o, n := range counts {
		r.Counts[string(o)] = n
		done += n
	}
	// Members past the rate window were never queued: the execution
	// counts them itself.
	if n := ex.WindowExcluded; n > 0 {
		r.Counts[string(delivery.ExcludedRateWindow)] += n
		done += n
	}
	// Members queued but not yet delivered, and claims in flight.
	if p := ex.Targeted - done; p > 0 {
		r.Counts["pending"] = p
	} else if pending > 0 {
		r.Counts["pending"] = pending
	}
	switch ex.State {
	case StateCancelled:
		r.Status, r.Detail = StatusFailed, "cancelled before it ran"
	case StateFailed:
		r.Status, r.Detail = StatusFailed, ex.FailReason
	case StateFannedOut:
		if done >= ex.Targeted && pending == 0 {
			r.Status = StatusSucceeded
		}
	}
	return r, nil
}

// GetSchedule answers GET /im/executions/schedules/{scheduleId}.
func (s *AudienceExecutions) GetSchedule(ctx context.Context, t tenant.Tenant, scheduleID string) (ScheduledResponse, error) {
	ex, err := s.scheduled(ctx, t, scheduleID)
	if err != nil {
		return ScheduledResponse{}, err
	}
	r := ScheduledResponse{ScheduleID: ex.ID, ScheduleStatus: ScheduleScheduled, CampaignID: ex.CampaignID,
		Audience: &AudienceRef{ID: ex.AudienceID}, ExecuteAt: ex.ExecuteAt, RequestID: ex.RequestID}
	if ex.State != StateScheduled {
		st, err := s.status(ctx, t, ex)
		if err != nil {
			return ScheduledResponse{}, err
		}
		r.ScheduleStatus, r.ExecutionDetails = ScheduleTriggered, &st
	}
	return r, nil
}

// CancelSchedule answers DELETE /im/executions/schedules/{scheduleId}: a
// schedule that has not fired is deleted and its execution never runs;
// one that fired is a derrors.Conflict.
func (s *AudienceExecutions) CancelSchedule(ctx context.Context, t tenant.Tenant, scheduleID string) error {
	ex, err := s.scheduled(ctx, t, scheduleID)
	if err != nil {
		return err
	}
	// The state change decides the race with the schedule firing: the
	// firing moves scheduled → running under the same condition.
	err = s.Executions.SetAudienceState(ctx, t, ex.ID, []string{StateScheduled}, StateCancelled)
	if derrors.Is(err, derrors.Conflict) {
		return derrors.New(derrors.Conflict, "schedule %q has already been triggered; it can no longer be deleted", scheduleID)
	}
	if err != nil {
		return fmt.Errorf("cancel schedule %s: %w", scheduleID, err)
	}
	if err := s.Schedules.DeleteSchedule(ctx, ex.ScheduleName); err != nil {
		// Cancelled already: a late firing finds the state and does nothing.
		s.log().WarnContext(ctx, "cancelled schedule not deleted", "executionId", ex.ID, logsafe.Attr(err))
	}
	if err := s.Executions.DeleteScheduleRef(ctx, t, ex.CampaignID, ex.ScheduleName); err != nil {
		s.log().WarnContext(ctx, "schedule index not cleaned", "executionId", ex.ID, logsafe.Attr(err))
	}
	return nil
}

// scheduled finds the scheduled execution a scheduleId names (Herald's
// scheduleId is the execution's id).
func (s *AudienceExecutions) scheduled(ctx context.Context, t tenant.Tenant, scheduleID string) (AudienceExecution, error) {
	ex, err := s.Executions.GetAudienceExecution(ctx, t, scheduleID)
	if err == nil && (ex.ScheduleName == "" || ex.State == StateCancelled) {
		err = derrors.New(derrors.NotFound, "")
	}
	if derrors.Is(err, derrors.NotFound) {
		return ex, derrors.New(derrors.NotFound, "schedule %q not found", scheduleID)
	}
	return ex, err
}

// Fire runs a scheduled execution when its schedule fires. A firing
// delivered twice, or after the schedule was cancelled, does nothing.
func (s *AudienceExecutions) Fire(ctx context.Context, t tenant.Tenant, id string, budget time.Duration) error {
	err := s.Executions.SetAudienceState(ctx, t, id, []string{StateScheduled}, StateRunning)
	switch {
	case derrors.Is(err, derrors.NotFound):
		s.log().WarnContext(ctx, "schedule fired for an unknown execution", "executionId", id)
		return nil
	case derrors.Is(err, derrors.Conflict):
		// Cancelled, or a repeat delivery: FanOut resumes a running
		// execution whose owner died, and leaves any other alone.
	case err != nil:
		return fmt.Errorf("fire execution %s: %w", id, err)
	}
	ex, err := s.Executions.GetAudienceExecution(ctx, t, id)
	if err != nil {
		return err
	}
	if ex.ScheduleName != "" {
		if err := s.Executions.DeleteScheduleRef(ctx, t, ex.CampaignID, ex.ScheduleName); err != nil {
			return err
		}
	}
	if ex.State != StateRunning {
		return nil
	}
	return s.FanOut(ctx, t, id, budget)
}

// hashOf identifies a request's content: the SHA-256 of its canonical
// JSON (struct fields in order, map keys sorted), so whitespace and key
// order do not make a replay look like a different request.
func hashOf(v any) string {
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
