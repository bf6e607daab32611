package eventapi

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/logsafe"
	"github.com/heraldhq/herald/internal/recurrence"
	"github.com/heraldhq/herald/internal/schedule"
	"github.com/heraldhq/herald/internal/tenant"
	"github.com/heraldhq/herald/internal/tracing"
)

// Lifecycle is what the Scheduler function needs of the campaign service.
type Lifecycle interface {
	MarkLive(ctx context.Context, t tenant.Tenant, id string) (campaign.Campaign, error)
	MarkCompleted(ctx context.Context, t tenant.Tenant, id string) (campaign.Campaign, error)
}

// Schedules is the Scheduler function's handler: every schedule Herald
// creates targets it with a schedule.Input.
type Schedules struct {
	Audiences   *execution.AudienceExecutions
	Recurrences *recurrence.Service
	Campaigns   Lifecycle
	// Deferred puts the jobs quiet hours deferred back on the dispatch
	// queue when their schedule fires.
	Deferred Waker
	Log      *slog.Logger
	// Budget bounds one invocation's fan-out (default 10 minutes; the
	// function's timeout is 15).
	Budget time.Duration
}

// Waker puts a deferred job back on the dispatch queue
// (delivery.ScheduledDeferrals); one already woken is no error.
type Waker interface {
	Wake(ctx context.Context, t tenant.Tenant, executionID, jobID string) error
}

// Handle handles one schedule firing. An error makes EventBridge
// Scheduler retry (every kind is idempotent); a firing that has nothing
// left to do is not one. The error holds codes only: the runtime logs it.
func (r *Schedules) Handle(ctx context.Context, in schedule.Input) error {
	tracing.Annotate(ctx, "executionId", in.ExecutionID)
	tracing.Annotate(ctx, "campaignId", in.CampaignID)
	return logsafe.Wrap(r.run(ctx, in))
}

func (r *Schedules) run(ctx context.Context, in schedule.Input) error {
	t := in.Tenant()
	if t.Validate() != nil {
		return logsafe.Text("schedule input: invalid tenant")
	}
	budget := r.Budget
	if budget <= 0 {
		budget = 10 * time.Minute
	}
	log := r.Log
	if log == nil {
		log = slog.Default()
	}
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
	case schedule.KindDeferred:
		if r.Deferred == nil {
			return logsafe.Text("deferred job due, but this function cannot queue it")
		}
		return r.Deferred.Wake(ctx, t, in.ExecutionID, in.JobID)
	}
	// Not an input Herald wrote: nothing of it is echoed.
	log.ErrorContext(ctx, "unknown schedule input")
	return nil
}
