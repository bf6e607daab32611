// Package sqs puts delivery jobs on the SQS dispatch queue, each encoded
// by delivery.EncodeJob (Dispatch decodes them with delivery.DecodeJob).
package sqs

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/execution"
)

// API is the part of the SQS client the queue uses.
type API interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// Queue implements execution.Queue.
type Queue struct {
	api API
	url string
}

var _ execution.Queue = (*Queue)(nil)

// New returns a queue that sends to url.
func New(api API, url string) *Queue { return &Queue{api: api, url: url} }

// SQS limits: 10 entries and 256 KiB per SendMessageBatch call (and per
// message). We keep a margin for the batch envelope: a batch holds at most
// delivery.MaxJobSize bytes of bodies, as one job does.
const (
	maxBatchEntries = 10
	maxBatchBytes   = delivery.MaxJobSize
)

// Enqueue implements execution.Queue, packing jobs into as few
// SendMessageBatch calls as SQS's limits allow, each message's
// DelaySeconds set from its job's Delay (0-900 s), and failing if any
// entry was refused.
func (q *Queue) Enqueue(ctx context.Context, jobs []delivery.Job) error {
	var batch []types.SendMessageBatchRequestEntry
	size := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		out, err := q.api.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.url), Entries: batch})
		if err != nil {
			return fmt.Errorf("send message batch: %w", err)
		}
		if len(out.Failed) > 0 {
			f := out.Failed[0]
			return fmt.Errorf("send message batch: %d of %d refused (%s: %s)", len(out.Failed), len(batch), aws.ToString(f.Code), aws.ToString(f.Message))
		}
		batch, size = batch[:0], 0
		return nil
	}
	for i, j := range jobs {
		body, err := delivery.EncodeJob(j)
		if err != nil {
			return fmt.Errorf("job %d: %w", i, err)
		}
		if len(body) > delivery.MaxJobSize {
			return fmt.Errorf("job %d is %d bytes, over SQS's limit", i, len(body))
		}
		if j.Delay < 0 || j.Delay > delivery.MaxDelay {
			return fmt.Errorf("job %d: delay %s is outside SQS's 0-15 minutes", i, j.Delay)
		}
		if len(batch) == maxBatchEntries || size+len(body) > maxBatchBytes {
			if err := flush(); err != nil {
				return err
			}
		}
		batch = append(batch, types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(string(body)),
			DelaySeconds: int32(j.Delay / time.Second)})
		size += len(body)
	}
	return flush()
}
