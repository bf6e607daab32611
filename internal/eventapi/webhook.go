package eventapi

import (
	"context"
	"errors"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/heraldhq/herald/internal/logsafe"
	"github.com/heraldhq/herald/internal/webhook"
)

// WebhookSQS adapts the webhook deliverer to SQS batches from the webhook
// queue: each message is one event, delivered concurrently with the rest
// of its batch. A message to try again later is reported in
// batchItemFailures after its visibility is set to the deliverer's backoff;
// a message that cannot be decoded keeps failing until the queue moves it
// to the webhook dead-letter queue.
func WebhookSQS(d *webhook.Deliverer, vis Visibility, log *slog.Logger) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		return concurrently(ev, func(m events.SQSMessage) bool { return deliverOne(ctx, d, vis, log, m) }), nil
	}
}

func deliverOne(ctx context.Context, d *webhook.Deliverer, vis Visibility, log *slog.Logger, m events.SQSMessage) bool {
	msg, err := webhook.DecodeMessage([]byte(m.Body))
	if err == nil {
		err = d.Deliver(ctx, msg)
	}
	if err == nil {
		return true
	}
	rc := receipt(m)
	after := d.Timing.Backoff(max(rc.Count, 1))
	var re *webhook.RetryError
	if errors.As(err, &re) {
		after = re.After
	} else {
		log.WarnContext(ctx, "webhook message will be retried", "messageId", m.MessageId, "receiveCount", rc.Count, logsafe.Attr(err))
	}
	delayRetry(ctx, vis, m, after, log)
	return false
}
