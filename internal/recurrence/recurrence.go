// Package recurrence runs a campaign's audience executions on cron() and
// rate() schedules, and keeps the one-time schedules that start and end a
// campaign.
package recurrence

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/logsafe"
	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/internal/schedule"
	"github.com/heraldhq/herald/internal/tenant"
)

// Max bounds a campaign's recurrences.
const Max = 20

// Recurrence runs an audience execution of a campaign on a cron() or
// rate() schedule, each firing with its own execution id and the same
// context.
type Recurrence struct {
	ID           string        `json:"id"`
	CampaignID   string        `json:"campaignId"`
	Expression   string        `json:"expression"`
	TimeZone     string        `json:"timeZone"`
	Context      render.Object `json:"context,omitzero"`
	AudienceID   string        `json:"audienceId,omitempty"`
	ScheduleName string        `json:"scheduleName"`
	CreatedAt    time.Time     `json:"createdAt"`
	// LastFiring is the latest firing that started an execution.
	LastFiring *Firing `json:"lastFiring,omitempty"`
}

// Of returns the recurrence whose firing started ex, or "".
func Of(ex execution.AudienceExecution) string {
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

// View is a recurrence as the API shows it: with its next
// firing and, when created, what review found.
type View struct {
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

// CodeOutpaced: a firing's audience takes longer to send at the
// campaign's delivery rate than the time until the next firing.
const CodeOutpaced = "recurrence_outpaces_rate"

// Input is the body of POST /campaigns/{id}/recurrences.
type Input struct {
	Expression string                 `json:"expression"`
	TimeZone   string                 `json:"timeZone"`
	Context    render.Object          `json:"context"`
	Audience   *execution.AudienceRef `json:"audience"`
}

// Store keeps recurrences under their campaign.
type Store interface {
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

// Service manages recurring executions.
type Service struct {
	Store     Store
	Campaigns execution.Campaigns
	Schedules schedule.Scheduler
	// Audiences starts each firing's execution.
	Audiences *execution.AudienceExecutions
	Log       *slog.Logger
	Now       func() time.Time
	NewID     func() string
}

func (r *Service) now() time.Time { return clock(r.Now) }

func (r *Service) newID() string {
	if r.NewID != nil {
		return r.NewID()
	}
	return uuid.NewString()
}

func (r *Service) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.Default()
}

func clock(now func() time.Time) time.Time {
	if now != nil {
		return now().UTC()
	}
	return time.Now().UTC()
}

// Create validates a recurrence and creates its schedule.
func (r *Service) Create(ctx context.Context, t tenant.Tenant, campaignID string, in Input) (View, error) {
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
	if err := r.Audiences.CheckFiring(&f, t, in.Context, in.Audience); err != nil {
		return View{}, err
	}
	c, err := r.Campaigns.GetCampaign(ctx, t, campaignID)
	if err != nil {
		return View{}, err
	}
	if c.Type != campaign.Marketing {
		return View{}, derrors.New(derrors.Conflict, "campaign %q is %s; recurrences run marketing campaigns", campaignID, c.Type)
	}
	switch c.Status {
	case campaign.StatusLive, campaign.StatusScheduled:
	default:
		return View{}, derrors.New(derrors.Conflict, "campaign %q is %s; recurrences need a live or scheduled campaign", campaignID, c.Status)
	}
	existing, err := r.Store.ListRecurrences(ctx, t, campaignID)
	if err != nil {
		return View{}, err
	}
	if len(existing) >= Max {
		return View{}, derrors.New(derrors.Conflict, "campaign %q has %d recurrences, the most it may have", campaignID, Max)
	}
	override := ""
	if in.Audience != nil {
		override = in.Audience.ID
	}
	warnings, err := r.keepsUp(ctx, t, c, in.Expression, in.TimeZone, override)
	if err != nil {
		return View{}, err
	}
	id := r.newID()
	rec := Recurrence{ID: id, CampaignID: campaignID, Expression: in.Expression, TimeZone: in.TimeZone, Context: in.Context,
		ScheduleName: schedule.Name(t, "r", id), CreatedAt: r.now()}
	if in.Audience != nil {
		rec.AudienceID = in.Audience.ID
	}
	if err := r.Store.PutRecurrence(ctx, t, rec); err != nil {
		return View{}, fmt.Errorf("store recurrence: %w", err)
	}
	input, _ := json.Marshal(schedule.Input{Kind: schedule.KindRecurrence, Org: t.Org, Sandbox: t.Sandbox, CampaignID: campaignID,
		RecurrenceID: id, ScheduledTime: schedule.ScheduledTimeAttribute})
	if err := r.Schedules.CreateSchedule(ctx, schedule.Schedule{Name: rec.ScheduleName, Expression: rec.Expression, TimeZone: rec.TimeZone, Input: input}); err != nil {
		_ = r.Store.DeleteRecurrence(ctx, t, campaignID, id)
		return View{}, fmt.Errorf("schedule recurrence: %w", err)
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
func (r *Service) keepsUp(ctx context.Context, t tenant.Tenant, c campaign.Campaign, expression, tz, audienceID string) ([]derrors.FieldError, error) {
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
	gap := expr.ShortestGap(r.now(), 500)
	takes := time.Duration(float64(a.MemberCount) / float64(rate) * float64(time.Second))
	if gap <= 0 || takes <= gap {
		return nil, nil
	}
	return []derrors.FieldError{{Code: CodeOutpaced, Field: "expression",
		Message: fmt.Sprintf("a firing sends to %d members at %d/s, which takes %s, but the expression fires every %s: "+
			"each firing would start further behind the last until members are excluded (rate_window_exceeded); "+
			"raise the campaign's schedule.deliveryRate, fire less often or send to a smaller audience",
			a.MemberCount, rate, takes.Round(time.Second), gap)}}, nil
}

// view adds what the API shows beside the stored recurrence.
func (r *Service) view(rec Recurrence) View {
	v := View{Recurrence: rec}
	expr, err := schedule.Parse(rec.Expression, rec.TimeZone)
	if err != nil {
		return v
	}
	if next, ok := expr.Next(r.now(), rec.CreatedAt); ok {
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
func (r *Service) List(ctx context.Context, t tenant.Tenant, campaignID string) ([]View, error) {
	if _, err := r.Campaigns.GetCampaign(ctx, t, campaignID); err != nil {
		return nil, err
	}
	recs, err := r.Store.ListRecurrences(ctx, t, campaignID)
	if err != nil {
		return nil, err
	}
	out := make([]View, 0, len(recs))
	for _, rec := range recs {
		out = append(out, r.view(rec))
	}
	return out, nil
}

// Delete removes a recurrence and its schedule.
func (r *Service) Delete(ctx context.Context, t tenant.Tenant, campaignID, id string) error {
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
func (r *Service) Fire(ctx context.Context, in schedule.Input) error {
	t := in.Tenant()
	rec, err := r.Store.GetRecurrence(ctx, t, in.CampaignID, in.RecurrenceID)
	if derrors.Is(err, derrors.NotFound) {
		r.log().WarnContext(ctx, "recurrence fired after deletion", "recurrenceId", in.RecurrenceID)
		return nil
	}
	if err != nil {
		return err
	}
	when := in.ScheduledTime
	if when == "" || when == schedule.ScheduledTimeAttribute {
		when = r.now().Truncate(time.Minute).Format(time.RFC3339)
	}
	req := execution.AudienceRequest{RequestID: "recurrence-" + rec.ID + "-" + when, CampaignID: rec.CampaignID, Context: rec.Context}
	if rec.AudienceID != "" {
		req.Audience = &execution.AudienceRef{ID: rec.AudienceID}
	}
	resp, err := r.Audiences.Start(ctx, t, recurrenceCreator+rec.ID, req)
	switch derrors.KindOf(err) {
	case derrors.Conflict, derrors.NotFound, derrors.Invalid:
		r.log().WarnContext(ctx, "recurrence firing refused", "recurrenceId", rec.ID, "campaignId", rec.CampaignID, logsafe.Attr(err))
		return nil
	}
	if err != nil {
		return err
	}
	if started, ok := resp.(execution.Response); ok {
		at, perr := time.Parse(time.RFC3339, when)
		if perr != nil {
			at = r.now()
		}
		err := r.Store.RecordFiring(ctx, t, rec.CampaignID, rec.ID, Firing{ScheduledAt: at.UTC(), ExecutionID: started.ExecutionID})
		if err != nil {
			// The execution runs; only the recurrence's view of it lags.
			r.log().WarnContext(ctx, "recurrence's last firing not recorded", "recurrenceId", rec.ID, "executionId", started.ExecutionID, logsafe.Attr(err))
		}
	}
	return nil
}

// CampaignSchedules implements campaign.Hooks: activation with a future
// start or an end creates one-time schedules that turn the campaign live
// or completed; an ending deletes every pending schedule of the campaign
// (start, end, scheduled executions, recurrences).
type CampaignSchedules struct {
	Audiences   *execution.AudienceExecutions
	Recurrences Store
	Now         func() time.Time
}

func (h *CampaignSchedules) now() time.Time { return clock(h.Now) }

var _ campaign.Hooks = (*CampaignSchedules)(nil)

// Activated implements campaign.Hooks.
func (h *CampaignSchedules) Activated(ctx context.Context, t tenant.Tenant, c campaign.Campaign, v campaign.Version) error {
	now := h.now()
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
		if err := h.Audiences.Executions.PutScheduleRef(ctx, t, c.ID, execution.ScheduleRef{Name: name, Kind: s.kind}); err != nil {
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
			err := h.Audiences.Executions.SetAudienceState(ctx, t, ref.ExecutionID, []string{execution.StateScheduled}, execution.StateCancelled)
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
