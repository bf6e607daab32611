package sqs

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/heraldhq/herald/internal/webhook"
)

// WebhookQueue implements webhook.Queue: the webhook queue (or its
// dead-letter queue), each message encoded by webhook.EncodeMessage.
type WebhookQueue struct {
	api API
	url string
}

var _ webhook.Queue = (*WebhookQueue)(nil)

// NewWebhookQueue returns the webhook queue at url.
func NewWebhookQueue(api API, url string) *WebhookQueue { return &WebhookQueue{api: api, url: url} }

// Enqueue implements webhook.Queue in SendMessageBatch calls of at most
// ten messages (and 256 KiB); every batch is tried, and every message
// refused is in the error returned.
func (q *WebhookQueue) Enqueue(ctx context.Context, msgs []webhook.Message) error {
	var errs []error
	var batch []types.SendMessageBatchRequestEntry
	size := 0
	flush := func() {
		if len(batch) == 0 {
			return
		}
		out, err := q.api.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.url), Entries: batch})
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("send webhook messages: %w", err))
		case len(out.Failed) > 0:
			f := out.Failed[0]
			errs = append(errs, fmt.Errorf("send webhook messages: %d of %d refused (%s)", len(out.Failed), len(batch), aws.ToString(f.Code)))
		}
		batch, size = batch[:0], 0
	}
	for i, m := range msgs {
		body, err := webhook.EncodeMessage(m)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if len(batch) == maxBatchEntries || size+len(body) > maxBatchBytes {
			flush()
		}
		batch = append(batch, types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(string(body))})
		size += len(body)
	}
	flush()
	return errors.Join(errs...)
}
