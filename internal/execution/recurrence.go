package execution

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/logsafe"
	"github.com/heraldhq/herald/internal/schedule"
	"github.com/heraldhq/herald/internal/tenant"
)

// MaxRecurrences bounds a campaign's recurrences.
const MaxRecurrences = 20

// Recurrence runs an audience execution of a campaign on a cron() or
// rate() schedule, each firing with its own execution id and the same
// context.
type Recurrence struct {
	ID           string         `json:"id"`
	CampaignID   string         `json:"campaignId"`
	Expression   string         `json:"expression"`
	TimeZone     string         `json:"timeZone"`
	Context      map[string]any `json:"context,omitempty"`
	AudienceID   string         `json:"audienceId,omitempty"`
	ScheduleName string         `json:"scheduleName"`
	CreatedAt    time.Time      `json:"createdAt"`
	// LastFiring is the latest firing that started an execution.
	LastFiring *Firing `json:"lastFiring,omitempty"`
}

// RecurrenceOf returns the recurrence whose firing started ex, or "".
func RecurrenceOf(ex AudienceExecution) string {
	if id, ok := strings.CutPrefix(ex.CreatedBy, recurrenceCreator); ok {
		return id
	}
	return ""
}

// recurrenceCreator prefixes the createdBy of a firing's execution.
const recurrenceCreator = "recurrence:"

// Firing is one firing of a recurrence and the execution it started.
type Firing struct {
	// ScheduledAt is the firing's scheduled time (EventBridge's
	// <aws.scheduler.scheduled-time>).
	ScheduledAt time.Time `json:"scheduledAt"`
	ExecutionID string    `json:"executionId"`
}

// RecurrenceView is a recurrence as the API shows it: with its next
// firing and, when created, what review found.
type RecurrenceView struct {
	Recurrence
	// NextFiring is when it fires next, unless the campaign's window has
	// closed on it.
	NextFiring *NextFiring `json:"nextFiring,omitempty"`
	// Warnings, on creation, say why it may not keep up.
	Warnings []derrors.FieldError `json:"warnings,omitempty"`
}

// NextFiring is a firing time in UTC and in the recurrence's time zone.
type NextFiring struct {
	UTC   time.Time `json:"utc"`
	Local string    `json:"local"` // RFC 3339 with the zone's offset
}

// CodeRecurrenceOutpaced: a firing's audience takes longer to send at the
// campaign's delivery rate than the time until the next firing.
const CodeRecurrenceOutpaced = "recurrence_outpaces_rate"

// RecurrenceInput is the body of POST /campaigns/{id}/recurrences.
type RecurrenceInput struct {
	Expression string         `json:"expression"`
	TimeZone   string         `json:"timeZone"`
	Context    map[string]any `json:"context"`
	Audience   *AudienceRef   `json:"audience"`
}

// RecurrenceStore keeps recurrences under their campaign.
type RecurrenceStore interface {
	// PutRecurrence stores a new recurrence.
	PutRecurrence(ctx context.Context, t tenant.Tenant, r Recurrence) error
	// GetRecurrence returns one or derrors.NotFound.
	GetRecurrence(ctx context.Context, t tenant.Tenant, campaignID, id string) (Recurrence, error)
	// ListRecurrences returns a campaign's recurrences.
	ListRecurrences(ctx context.Context, t tenant.Tenant, campaignID string) ([]Recurrence, error)
	// DeleteRecurrence removes one; derrors.NotFound if absent.
	DeleteRecurrence(ctx context.Context, t tenant.Tenant, campaignID, id string) error
	// RecordFiring sets a recurrence's last firing, unless it holds a
	// later one or is gone (then it does nothing).
	RecordFiring(ctx context.Context, t tenant.Tenant, campaignID, id string, f Firing) error
}

// Recurrences manages recurring executions.
type Recurrences struct {
	Store     RecurrenceStore
	Campaigns Campaigns
	Schedules schedule.Scheduler
	Audiences *Audiences
}

// Create validates a recurrence and creates its schedule.
func (r *Recurrences) Create(ctx context.Context, t tenant.Tenant, campaignID string, in RecurrenceInput) (RecurrenceView, error) {
	var f derrors.Fields
	expr, err := schedule.Parse(in.Expression, "")
	switch {
	case in.Expression == "":
		f.Add("expression", "is required: cron(…) or rate(…)")
	case err == nil && expr.OneTime():
		f.Add("expression", "must be cron(…) or rate(…); use schedule.executeAt for a one-time execution")
	case err != nil:
		f.Add("expression", "%v", err)
	}
	if in.TimeZone == "" {
		in.TimeZone = "UTC"
	}
	if isTZError(in.TimeZone) {
		f.Add("timeZone", "%q is not an IANA time zone name", in.TimeZone)
	}
	if _, ok := in.Context["system"]; ok {
		f.Add("context.system", "is reserved")
	}
	if n := jsonSize(in.Context); in.Context != nil && n > MaxContextSize {
		f.Add("context", "is %d bytes; the limit is %d", n, MaxContextSize)
	}
	if in.Audience != nil {
		checkID(&f, "audience.id", in.Audience.ID)
	}
	if err := f.Err(); err != nil {
		return RecurrenceView{}, err
	}
	if err := checkAudienceJobs(t, "context", in.Context, cmpOr(r.Audiences.JobSize, DefaultJobSize)); err != nil {
		return RecurrenceView{}, err
	}
	c, err := r.Campaigns.GetCampaign(ctx, t, campaignID)
	if err != nil {
		return RecurrenceView{}, err
	}
	if c.Type != campaign.Marketing {
		return RecurrenceView{}, derrors.New(derrors.Conflict, "campaign %q is %s; recurrences run marketing campaigns", campaignID, c.Type)
	}
	switch c.Status {
	case campaign.StatusLive, campaign.StatusScheduled:
	default:
		return RecurrenceView{}, derrors.New(derrors.Conflict, "campaign %q is %s; recurrences need a live or scheduled campaign", campaignID, c.Status)
	}
	existing, err := r.Store.ListRecurrences(ctx, t, campaignID)
	if err != nil {
		return RecurrenceView{}, err
	}
	if len(existing) >= MaxRecurrences {
		return RecurrenceView{}, derrors.New(derrors.Conflict, "campaign %q has %d recurrences, the most it may have", campaignID, MaxRecurrences)
	}
	override := ""
	if in.Audience != nil {
		override = in.Audience.ID
	}
	warnings, err := r.keepsUp(ctx, t, c, in.Expression, in.TimeZone, override)
	if err != nil {
		return RecurrenceView{}, err
	}
	id := r.Audiences.newID()
	rec := Recurrence{ID: id, CampaignID: campaignID, Expression: in.Expression, TimeZone: in.TimeZone, Context: in.Context,
		ScheduleName: schedule.Name(t, "r", id), CreatedAt: r.Audiences.now()}
	if in.Audience != nil {
		rec.AudienceID = in.Audience.ID
	}
	if err := r.Store.PutRecurrence(ctx, t, rec); err != nil {
		return RecurrenceView{}, fmt.Errorf("store recurrence: %w", err)
	}
	input, _ := json.Marshal(schedule.Input{Kind: schedule.KindRecurrence, Org: t.Org, Sandbox: t.Sandbox, CampaignID: campaignID,
		RecurrenceID: id, ScheduledTime: schedule.ScheduledTimeAttribute})
	if err := r.Schedules.CreateSchedule(ctx, schedule.Schedule{Name: rec.ScheduleName, Expression: rec.Expression, TimeZone: rec.TimeZone, Input: input}); err != nil {
		_ = r.Store.DeleteRecurrence(ctx, t, campaignID, id)
		return RecurrenceView{}, fmt.Errorf("schedule recurrence: %w", err)
	}
	view := r.view(rec)
	view.Warnings = warnings
	return view, nil
}

// keepsUp warns when one firing cannot be sent before the next: the
// audience's members at the campaign's delivery rate take longer than the
// shortest gap between firings, so every firing would start further
// behind the last (each is still sent, and its status says how far behind
// it started), until members fall past the 12-hour window.
func (r *Recurrences) keepsUp(ctx context.Context, t tenant.Tenant, c campaign.Campaign, expression, tz, audienceID string) ([]derrors.FieldError, error) {
	if c.LiveVersion == 0 {
		return nil, nil
	}
	v, err := r.Campaigns.GetVersion(ctx, t, c.ID, c.LiveVersion)
	if err != nil {
		return nil, fmt.Errorf("read campaign %s version %d: %w", c.ID, c.LiveVersion, err)
	}
	rate := v.Spec.Schedule.DeliveryRate
	if audienceID == "" {
		audienceID = v.Spec.Audience.AudienceID
	}
	if rate <= 0 || audienceID == "" {
		return nil, nil
	}
	a, err := r.Audiences.Members.GetAudience(ctx, t, audienceID)
	if derrors.Is(err, derrors.NotFound) {
		return []derrors.FieldError{{Code: "audience_not_found", Field: "audience.id",
			Message: fmt.Sprintf("audience %q does not exist (yet): firings fail until it does", audienceID)}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read audience %s: %w", audienceID, err)
	}
	expr, err := schedule.Parse(expression, tz)
	if err != nil {
		return nil, nil
	}
	gap := expr.ShortestGap(r.Audiences.now(), 500)
	takes := time.Duration(float64(a.MemberCount) / float64(rate) * float64(time.Second))
	if gap <= 0 || takes <= gap {
		return nil, nil
	}
	return []derrors.FieldError{{Code: CodeRecurrenceOutpaced, Field: "expression",
		Message: fmt.Sprintf("a firing sends to %d members at %d/s, which takes %s, but the expression fires every %s: "+
			"each firing would start further behind the last until members are excluded (rate_window_exceeded); "+
			"raise the campaign's schedule.deliveryRate, fire less often or send to a smaller audience",
			a.MemberCount, rate, takes.Round(time.Second), gap)}}, nil
}

// view adds what the API shows beside the stored recurrence.
func (r *Recurrences) view(rec Recurrence) RecurrenceView {
	v := RecurrenceView{Recurrence: rec}
	expr, err := schedule.Parse(rec.Expression, rec.TimeZone)
	if err != nil {
		return v
	}
	if next, ok := expr.Next(r.Audiences.now(), rec.CreatedAt); ok {
		v.NextFiring = &NextFiring{UTC: next.UTC(), Local: next.In(expr.Location()).Format(time.RFC3339)}
	}
	return v
}

func isTZError(tz string) bool {
	if tz == "" {
		return false
	}
	_, err := schedule.Parse("rate(1 day)", tz)
	return err != nil
}

// List returns a campaign's recurrences, each with its next firing and
// its last.
func (r *Recurrences) List(ctx context.Context, t tenant.Tenant, campaignID string) ([]RecurrenceView, error) {
	if _, err := r.Campaigns.GetCampaign(ctx, t, campaignID); err != nil {
		return nil, err
	}
	recs, err := r.Store.ListRecurrences(ctx, t, campaignID)
	if err != nil {
		return nil, err
	}
	out := make([]RecurrenceView, 0, len(recs))
	for _, rec := range recs {
		out = append(out, r.view(rec))
	}
	return out, nil
}

// Delete removes a recurrence and its schedule.
func (r *Recurrences) Delete(ctx context.Context, t tenant.Tenant, campaignID, id string) error {
	rec, err := r.Store.GetRecurrence(ctx, t, campaignID, id)
	if err != nil {
		return err
	}
	if err := r.Schedules.DeleteSchedule(ctx, rec.ScheduleName); err != nil {
		return fmt.Errorf("delete schedule of recurrence %s: %w", id, err)
	}
	return r.Store.DeleteRecurrence(ctx, t, campaignID, id)
}

// Fire runs one firing of a recurrence: an audience execution whose
// requestId is the recurrence and the firing's scheduled time, so a
// firing delivered twice runs once. A refusal (the campaign stopped,
// outside its window) is logged, not retried.
func (r *Recurrences) Fire(ctx context.Context, in schedule.Input) error {
	t := in.Tenant()
	rec, err := r.Store.GetRecurrence(ctx, t, in.CampaignID, in.RecurrenceID)
	if derrors.Is(err, derrors.NotFound) {
		r.Audiences.log().WarnContext(ctx, "recurrence fired after deletion", "recurrenceId", in.RecurrenceID)
		return nil
	}
	if err != nil {
		return err
	}
	when := in.ScheduledTime
	if when == "" || when == schedule.ScheduledTimeAttribute {
		when = r.Audiences.now().Truncate(time.Minute).Format(time.RFC3339)
	}
	req := AudienceRequest{RequestID: "recurrence-" + rec.ID + "-" + when, CampaignID: rec.CampaignID, Context: rec.Context}
	if rec.AudienceID != "" {
		req.Audience = &AudienceRef{ID: rec.AudienceID}
	}
	resp, err := r.Audiences.Start(ctx, t, recurrenceCreator+rec.ID, req)
	switch derrors.KindOf(err) {
	case derrors.Conflict, derrors.NotFound, derrors.Invalid:
		r.Audiences.log().WarnContext(ctx, "recurrence firing refused", "recurrenceId", rec.ID, "campaignId", rec.CampaignID, logsafe.Attr(err))
		return nil
	}
	if err != nil {
		return err
	}
	if started, ok := resp.(Response); ok {
		at, perr := time.Parse(time.RFC3339, when)
		if perr != nil {
			at = r.Audiences.now()
		}
		err := r.Store.RecordFiring(ctx, t, rec.CampaignID, rec.ID, Firing{ScheduledAt: at.UTC(), ExecutionID: started.ExecutionID})
		if err != nil {
			// The execution runs; only the recurrence's view of it lags.
			r.Audiences.log().WarnContext(ctx, "recurrence's last firing not recorded", "recurrenceId", rec.ID, "executionId", started.ExecutionID, logsafe.Attr(err))
		}
	}
	return nil
}

// CampaignSchedules implements campaign.Hooks: activation with a future
// start or an end creates one-time schedules that turn the campaign live
// or completed; an ending deletes every pending schedule of the campaign
// (start, end, scheduled executions, recurrences).
type CampaignSchedules struct {
	Audiences   *Audiences
	Recurrences RecurrenceStore
}

var _ campaign.Hooks = (*CampaignSchedules)(nil)

// Activated implements campaign.Hooks.
func (h *CampaignSchedules) Activated(ctx context.Context, t tenant.Tenant, c campaign.Campaign, v campaign.Version) error {
	now := h.Audiences.now()
	for _, s := range []struct {
		kind, short string
		at          *time.Time
	}{
		{schedule.KindCampaignStart, "s", v.Spec.Schedule.Start},
		{schedule.KindCampaignEnd, "e", v.Spec.Schedule.End},
	} {
		if s.at == nil || !s.at.After(now) {
			continue
		}
		name := schedule.Name(t, s.short+fmt.Sprint(v.Number), c.ID)
		in, _ := json.Marshal(schedule.Input{Kind: s.kind, Org: t.Org, Sandbox: t.Sandbox, CampaignID: c.ID})
		if err := h.Audiences.Schedules.CreateSchedule(ctx, schedule.Schedule{Name: name, Expression: schedule.At(*s.at), TimeZone: "UTC", Input: in, OneTime: true}); err != nil {
			return fmt.Errorf("%s schedule: %w", s.kind, err)
		}
		if err := h.Audiences.Executions.PutScheduleRef(ctx, t, c.ID, ScheduleRef{Name: name, Kind: s.kind}); err != nil {
			return err
		}
	}
	return nil
}

// Ended implements campaign.Hooks.
func (h *CampaignSchedules) Ended(ctx context.Context, t tenant.Tenant, c campaign.Campaign) error {
	refs, err := h.Audiences.Executions.ScheduleRefs(ctx, t, c.ID)
	if err != nil {
		return err
	}
	for _, ref := range refs {
		if ref.Kind == schedule.KindExecution {
			err := h.Audiences.Executions.SetAudienceState(ctx, t, ref.ExecutionID, []string{StateScheduled}, StateCancelled)
			if err != nil && !derrors.Is(err, derrors.Conflict) && !derrors.Is(err, derrors.NotFound) {
				return err
			}
		}
		if err := h.Audiences.Schedules.DeleteSchedule(ctx, ref.Name); err != nil {
			return err
		}
		if err := h.Audiences.Executions.DeleteScheduleRef(ctx, t, c.ID, ref.Name); err != nil {
			return err
		}
	}
	recs, err := h.Recurrences.ListRecurrences(ctx, t, c.ID)
	if err != nil {
		return err
	}
	for _, r := range recs {
		if err := h.Audiences.Schedules.DeleteSchedule(ctx, r.ScheduleName); err != nil {
			return err
		}
		if err := h.Recurrences.DeleteRecurrence(ctx, t, c.ID, r.ID); err != nil && !derrors.Is(err, derrors.NotFound) {
			return err
		}
	}
	return nil
}

// Lifecycle is what the schedule.Scheduler function needs of the campaign service.
type Lifecycle interface {
	MarkLive(ctx context.Context, t tenant.Tenant, id string) (campaign.Campaign, error)
	MarkCompleted(ctx context.Context, t tenant.Tenant, id string) (campaign.Campaign, error)
}

// Runner is the schedule.Scheduler function: every schedule Herald creates targets
// it with a schedule.Input.
type Runner struct {
	Audiences   *Audiences
	Recurrences *Recurrences
	Campaigns   Lifecycle
	// Budget bounds one invocation's fan-out (default 10 minutes; the
	// function's timeout is 15).
	Budget time.Duration
}

// Run handles one schedule firing. An error makes schedule.Scheduler retry (every
// kind is idempotent); a firing that has nothing left to do is not one.
func (r *Runner) Run(ctx context.Context, in schedule.Input) error {
	t := in.Tenant()
	if t.Validate() != nil {
		return logsafe.Text("schedule input: invalid tenant")
	}
	budget := r.Budget
	if budget <= 0 {
		budget = 10 * time.Minute
	}
	log := r.Audiences.log()
	switch in.Kind {
	case schedule.KindExecution:
		return r.Audiences.Fire(ctx, t, in.ExecutionID, budget)
	case schedule.KindContinue:
		return r.Audiences.FanOut(ctx, t, in.ExecutionID, budget)
	case schedule.KindCampaignStart, schedule.KindCampaignEnd:
		mark, to := r.Campaigns.MarkLive, campaign.StatusLive
		if in.Kind == schedule.KindCampaignEnd {
			mark, to = r.Campaigns.MarkCompleted, campaign.StatusCompleted
		}
		c, err := mark(ctx, t, in.CampaignID)
		switch derrors.KindOf(err) {
		case derrors.Conflict, derrors.NotFound:
			log.WarnContext(ctx, "campaign schedule found nothing to do", "campaignId", in.CampaignID, "kind", in.Kind, logsafe.Attr(err))
			return nil
		}
		if err != nil {
			return err
		}
		log.InfoContext(ctx, "campaign moved by its schedule", "campaignId", c.ID, "status", string(c.Status), "want", string(to))
		if in.Kind == schedule.KindCampaignStart {
			_ = r.Audiences.Executions.DeleteScheduleRef(ctx, t, c.ID, schedule.Name(t, "s"+fmt.Sprint(c.LiveVersion), c.ID))
		}
		return nil
	case schedule.KindRecurrence:
		return r.Recurrences.Fire(ctx, in)
	}
	// Not an input Herald wrote: nothing of it is echoed.
	log.ErrorContext(ctx, "unknown schedule input")
	return nil
}
