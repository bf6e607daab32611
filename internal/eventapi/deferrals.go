package eventapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/logsafe"
	"github.com/heraldhq/herald/internal/schedule"
	"github.com/heraldhq/herald/internal/tracing"
)

// DeferralsSQS adapts d to the deferral queue, which Dispatch puts the
// jobs quiet hours defer past SQS's 15 minutes on (delivery.QueuedDeferrals):
// each message is one job, deferred (parked, and scheduled to wake) as
// Dispatch would have deferred it itself. A message that cannot be
// decoded or deferred is reported in batchItemFailures, its visibility
// set (when vis is not nil) to the backoff timing gives its receive count:
// the queue gives it again, and after its last try to the dispatch
// dead-letter queue, where the DeadLetter function closes and parks it
// like a job that could not be sent.
func DeferralsSQS(d delivery.Deferrals, vis Visibility, timing delivery.Timing, log *slog.Logger) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		return concurrently(ev, func(m events.SQSMessage) bool {
			ctx, span := tracing.Continue(ctx, m.Attributes[traceAttribute], "deferral")
			job, err := delivery.DecodeJob([]byte(m.Body))
			if err == nil {
				span.Annotate("executionId", job.ExecutionID)
				span.Annotate("campaignId", job.CampaignID)
				err = d.Defer(ctx, job)
			}
			span.End(err)
			if err == nil {
				return true
			}
			count := receipt(m).Count
			after := delivery.Jitter(timing.Backoff(max(count, 1)))
			delayRetry(ctx, vis, m, after, log)
			log.WarnContext(ctx, "deferred job not kept; it will be retried", "messageId", m.MessageId,
				"receiveCount", count, "afterSeconds", int(after.Seconds()), logsafe.Attr(err))
			return false
		}), nil
	}
}

// SchedulerEntry is the Scheduler function's Lambda entry point, for its
// two sources: a batch of the deferral queue (an SQS event: records whose
// eventSource is aws:sqs) goes to deferrals and answers its
// batchItemFailures; anything else is a schedule's input for run, and
// answers null (or run's error, which EventBridge Scheduler retries).
func SchedulerEntry(run func(context.Context, schedule.Input) error,
	deferrals func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)) func(context.Context, json.RawMessage) (any, error) {
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		var ev events.SQSEvent
		if json.Unmarshal(raw, &ev) == nil && len(ev.Records) > 0 && ev.Records[0].EventSource == "aws:sqs" {
			return deferrals(ctx, ev)
		}
		var in schedule.Input
		if err := json.Unmarshal(raw, &in); err != nil {
			return nil, fmt.Errorf("schedule input: %w", err)
		}
		return nil, run(ctx, in)
	}
}
