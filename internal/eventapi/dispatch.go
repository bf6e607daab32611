package eventapi

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/logsafe"
	"github.com/heraldhq/herald/internal/tracing"
)

// Visibility delays the return of a received message.
type Visibility interface {
	ChangeVisibility(ctx context.Context, receiptHandle string, after time.Duration) error
}

// DispatchSQS adapts a dispatcher to SQS batches: each message is one job,
// and a batch's jobs are delivered concurrently. A job that must come back
// later is reported in batchItemFailures after its message's visibility
// is set to the delay Dispatch asked for (its backoff), so retries wait
// without holding the function; the others are deleted by Lambda. A
// message that cannot be decoded keeps failing until the queue moves it to
// the dead-letter queue.
func DispatchSQS(d *delivery.Dispatcher, vis Visibility, log *slog.Logger) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		ctx = delivery.WithInvocation(ctx) // SNS opt-out answers, once per invocation
		return concurrently(ev, func(m events.SQSMessage) bool { return dispatchOne(ctx, d, vis, log, m) }), nil
	}
}

// traceAttribute is the SQS system attribute holding the trace header of
// the call that sent a message.
const traceAttribute = "AWSTraceHeader"

// concurrently handles a batch's messages at once and reports in
// batchItemFailures those done reports false for.
func concurrently(ev events.SQSEvent, done func(events.SQSMessage) bool) events.SQSEventResponse {
	failed := make([]bool, len(ev.Records))
	var wg sync.WaitGroup
	for i, m := range ev.Records {
		wg.Go(func() { failed[i] = !done(m) })
	}
	wg.Wait()
	var resp events.SQSEventResponse
	for i, m := range ev.Records {
		if failed[i] {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	return resp
}

// dispatchOne delivers one message's job and reports whether the message
// is done with; if not, it has set when the message comes back.
func dispatchOne(ctx context.Context, d *delivery.Dispatcher, vis Visibility, log *slog.Logger, m events.SQSMessage) bool {
	// The job's work joins the trace of the call that queued it: SQS
	// keeps that call's trace header with the message.
	ctx, span := tracing.Continue(ctx, m.Attributes[traceAttribute], "job")
	rc := receipt(m)
	job, err := delivery.DecodeJob([]byte(m.Body))
	if err == nil {
		span.Annotate("executionId", job.ExecutionID)
		span.Annotate("campaignId", job.CampaignID)
		job.Receipt = rc
		err = d.Dispatch(ctx, job)
	}
	span.End(err)
	if err == nil {
		return true
	}
	after := delivery.Jitter(d.Timing.Backoff(max(rc.Count, 1)))
	var re *delivery.RetryError
	if errors.As(err, &re) && re.After > 0 {
		after = re.After
	}
	delayRetry(ctx, vis, m, after, log)
	log.WarnContext(ctx, "message will be retried", "messageId", m.MessageId, "receiveCount", rc.Count,
		"afterSeconds", int(after.Seconds()), logsafe.Attr(err))
	return false
}

// delayRetry sets a failed message's visibility so that it comes back
// after after, when the consumer has a Visibility (vis may be nil). It does
// so even when the invocation's time is up: otherwise the message waits
// for the queue's whole visibility timeout. A failure to set it is logged
// and the queue's timeout applies.
func delayRetry(ctx context.Context, vis Visibility, m events.SQSMessage, after time.Duration, log *slog.Logger) {
	if vis == nil {
		return
	}
	vctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := vis.ChangeVisibility(vctx, m.ReceiptHandle, after); err != nil {
		log.WarnContext(ctx, "retry delay not set; the queue's visibility timeout applies", "messageId", m.MessageId, logsafe.Attr(err))
	}
}

// DeadLetterSQS adapts Dispatcher.Abandon to the dead-letter queue: each
// job's open recipients are closed and the job parked; a job that cannot
// be closed now (the store is down) stays on the queue and is retried.
func DeadLetterSQS(d *delivery.Dispatcher, log *slog.Logger) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		var resp events.SQSEventResponse
		for _, m := range ev.Records {
			job, err := delivery.DecodeJob([]byte(m.Body))
			if err != nil {
				log.ErrorContext(ctx, "undecodable message left in the dead-letter queue", "messageId", m.MessageId, logsafe.Attr(err))
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
				continue
			}
			closed, err := d.Abandon(ctx, job, "dead-letter queue")
			if err != nil {
				log.WarnContext(ctx, "dead-lettered job not closed yet; it will be retried", "messageId", m.MessageId,
					"executionId", job.ExecutionID, "closed", closed, logsafe.Attr(err))
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
				continue
			}
			log.InfoContext(ctx, "dead-lettered job closed and parked", "messageId", m.MessageId, "executionId", job.ExecutionID, "closed", closed)
		}
		return resp, nil
	}
}

// receipt reads how SQS delivered a message.
func receipt(m events.SQSMessage) delivery.Receipt {
	var r delivery.Receipt
	r.Count, _ = strconv.Atoi(m.Attributes["ApproximateReceiveCount"])
	if ms, err := strconv.ParseInt(m.Attributes["ApproximateFirstReceiveTimestamp"], 10, 64); err == nil && ms > 0 {
		r.First = time.UnixMilli(ms).UTC()
	}
	if ms, err := strconv.ParseInt(m.Attributes["SentTimestamp"], 10, 64); err == nil && ms > 0 {
		r.Sent = time.UnixMilli(ms).UTC()
	}
	if a, ok := m.MessageAttributes[delivery.DelayAttribute]; ok && a.StringValue != nil {
		if s, err := strconv.Atoi(*a.StringValue); err == nil && s > 0 {
			r.Delay = time.Duration(s) * time.Second
		}
	}
	return r
}
