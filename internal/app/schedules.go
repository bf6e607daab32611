package app

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/eventapi"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/recurrence"
	"github.com/heraldhq/herald/internal/schedule"
)

// SetClock replaces the clock of every service the app builds from now
// on (the local cloud's tests move time by hand).
func (a *App) SetClock(now func() time.Time) { a.now = now }

// Unitary is the unitary execution service.
func (a *App) Unitary() *execution.Unitary {
	return &execution.Unitary{
		Store: a.store, Campaigns: a.store, Profiles: a.store, Schemas: a.schemas, Log: a.log, Now: a.now,
		Queue: a.clients.SQS.Executions(a.cfg.DispatchQueueURL),
	}
}

// Scheduler returns the EventBridge Scheduler adapter, or one refusing
// every schedule when the function's configuration names no group (or
// its wiring no scheduler: the handlers that schedule refuse to be built
// so).
func (a *App) Scheduler() schedule.Scheduler {
	sc := a.cfg.Scheduler
	if !sc.Enabled() || a.clients.Scheduler == nil {
		return unscheduled{}
	}
	return a.clients.Scheduler.Scheduler(sc.Group, sc.TargetARN, sc.RoleARN, sc.DeadLetterARN)
}

type unscheduled struct{}

var errUnscheduled = derrors.New(derrors.Conflict, "scheduling is not configured for this function (HERALD_SCHEDULE_GROUP)")

func (unscheduled) CreateSchedule(context.Context, schedule.Schedule) error { return errUnscheduled }
func (unscheduled) DeleteSchedule(context.Context, string) error            { return nil }

// AudienceExecutions returns the audience execution service.
func (a *App) AudienceExecutions() *execution.AudienceExecutions {
	aud := &execution.AudienceExecutions{
		Records: a.store, Executions: a.store, Campaigns: a.store, Members: a.store, Pacer: a.store,
		Schedules: a.Scheduler(), Schemas: a.schemas, Log: a.log, Now: a.now, Metrics: a.Recorder(),
	}
	if a.cfg.DispatchQueueURL != "" && a.clients.SQS != nil {
		aud.Queue = a.clients.SQS.Executions(a.cfg.DispatchQueueURL)
	}
	return aud
}

// Recurrences returns the recurring execution service.
func (a *App) Recurrences() *recurrence.Service {
	aud := a.AudienceExecutions()
	return &recurrence.Service{Store: a.store, Campaigns: a.store, Schedules: aud.Schedules, Audiences: aud, Log: a.log, Now: a.now}
}

// campaignHooks schedules campaign starts and ends, when scheduling is
// configured.
func (a *App) campaignHooks() campaign.Hooks {
	if !a.cfg.Scheduler.Enabled() {
		return nil
	}
	return &recurrence.CampaignSchedules{Audiences: a.AudienceExecutions(), Recurrences: a.store, Now: a.now}
}

// SchedulerHandler returns the Scheduler function: the target of every
// schedule. It needs the dispatch queue and the scheduler settings (it
// creates continuation schedules).
func (a *App) SchedulerHandler() (func(context.Context, schedule.Input) error, error) {
	if err := a.needScheduling(); err != nil {
		return nil, err
	}
	r := &eventapi.Schedules{Audiences: a.AudienceExecutions(), Recurrences: a.Recurrences(), Campaigns: a.Campaigns(), Log: a.log,
		Deferred: a.deferrals(a.clients.SQS.Requeue(a.cfg.DispatchQueueURL))}
	return invokedSchedule(a, "Scheduler", r.Handle), nil
}

// needScheduling is what the Scheduler function's handlers need: the
// dispatch queue, the scheduler settings (they create schedules) and the
// SQS and Scheduler clients.
func (a *App) needScheduling() error {
	if err := a.cfg.RequireQueue(); err != nil {
		return err
	}
	if !a.cfg.Scheduler.Enabled() {
		return errors.New("config: HERALD_SCHEDULE_GROUP, HERALD_SCHEDULER_TARGET_ARN and HERALD_SCHEDULER_ROLE_ARN are required")
	}
	return a.Need("the Scheduler function", "SQS", "Scheduler")
}

// SchedulerFunctionHandler is the Scheduler function's Lambda entry
// point, for its two sources: the input of a schedule it is the target
// of (SchedulerHandler), and a batch of the deferral queue
// (DeferralsHandler), told apart by the batch's records.
func (a *App) SchedulerFunctionHandler() (func(context.Context, json.RawMessage) (any, error), error) {
	run, err := a.SchedulerHandler()
	if err != nil {
		return nil, err
	}
	deferrals, err := a.DeferralsHandler()
	if err != nil {
		return nil, err
	}
	return eventapi.SchedulerEntry(run, deferrals), nil
}

// DeferralsHandler returns the Scheduler function's consumer of the
// deferral queue: the jobs Dispatch, which does not schedule, hands it to
// park and schedule (delivery.QueuedDeferrals).
func (a *App) DeferralsHandler() (func(context.Context, events.SQSEvent) (events.SQSEventResponse, error), error) {
	if err := a.needScheduling(); err != nil {
		return nil, err
	}
	var vis eventapi.Visibility
	if a.cfg.DeferralQueueURL != "" {
		vis = a.clients.SQS.Visibility(a.cfg.DeferralQueueURL)
	}
	dc := a.cfg.Delivery
	timing := delivery.Timing{RetryFirst: dc.RetryFirst, RetryMax: dc.RetryMax}
	return invoked(a, "Scheduler", eventapi.DeferralsSQS(a.deferrals(a.clients.SQS.Requeue(a.cfg.DispatchQueueURL)), vis, timing, a.log)), nil
}

// dispatchDeferrals is how a Dispatcher defers recipients past SQS's 15
// minutes: on the deferral queue when the function has one (Dispatch:
// the Scheduler function schedules them), else by scheduling them itself
// when it can, else not at all (nil: the queue holds them 15 minutes at a
// time).
func (a *App) dispatchDeferrals(queue delivery.Requeue) delivery.Deferrals {
	if a.cfg.DeferralQueueURL != "" && a.clients.SQS != nil {
		return delivery.QueuedDeferrals{Queue: a.clients.SQS.Requeue(a.cfg.DeferralQueueURL)}
	}
	if dd := a.deferrals(queue); dd != nil {
		return dd
	}
	return nil
}

// deferrals keeps the recipients quiet hours defer past SQS's 15 minutes
// (parked, with a schedule that wakes them onto queue), or is nil when
// the function cannot schedule.
func (a *App) deferrals(queue delivery.Requeue) *delivery.ScheduledDeferrals {
	if !a.cfg.Scheduler.Enabled() || a.clients.Scheduler == nil || queue == nil {
		return nil
	}
	return &delivery.ScheduledDeferrals{Parking: a.store, Jobs: a.store, Schedules: a.Scheduler(), Queue: queue,
		Campaigns: a.store, Pacer: a.store, Now: a.now}
}
