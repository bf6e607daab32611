// Package sqs puts delivery jobs on the SQS dispatch queue, each encoded
// by delivery.EncodeJob (Dispatch decodes them with delivery.DecodeJob).
package sqs

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"sync"
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

// maxInFlight bounds the SendMessageBatch calls one Enqueue makes at once.
const maxInFlight = 8

// Enqueue implements execution.Queue, packing jobs into as few
// SendMessageBatch calls as SQS's limits allow, each message's
// DelaySeconds set from its job's Delay (0-900 s), and failing if any
// entry was refused. The batches are sent in parallel (at most
// maxInFlight at once): the call waits one round trip, not one per ten
// jobs. Nothing is sent unless every job encodes within the limits.
func (q *Queue) Enqueue(ctx context.Context, jobs []delivery.Job) error {
	var batches [][]types.SendMessageBatchRequestEntry
	var batch []types.SendMessageBatchRequestEntry
	size := 0
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
		entry := types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(string(body)),
			DelaySeconds: int32(j.Delay / time.Second)}
		n := len(body)
		if entry.DelaySeconds > 0 {
			// The delay, for the consumer's dispatch lag (delivery.Receipt).
			v := strconv.Itoa(int(entry.DelaySeconds))
			entry.MessageAttributes = map[string]types.MessageAttributeValue{
				delivery.DelayAttribute: {DataType: aws.String("Number"), StringValue: aws.String(v)}}
			n += len(delivery.DelayAttribute) + len("Number") + len(v)
		}
		if len(batch) == maxBatchEntries || size+n > maxBatchBytes {
			batches = append(batches, batch)
			batch, size = nil, 0
		}
		batch = append(batch, entry)
		size += n
	}
	if len(batch) > 0 {
		batches = append(batches, batch)
	}
	if len(batches) == 1 {
		return q.send(ctx, batches[0])
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		slots = make(chan struct{}, maxInFlight)
	)
	for _, b := range batches {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			if err := q.send(ctx, b); err != nil {
				mu.Lock()
				first = cmp.Or(first, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return first
}

// send sends one batch.
func (q *Queue) send(ctx context.Context, batch []types.SendMessageBatchRequestEntry) error {
	out, err := q.api.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.url), Entries: batch})
	if err != nil {
		return fmt.Errorf("send message batch: %w", err)
	}
	if len(out.Failed) > 0 {
		f := out.Failed[0]
		return fmt.Errorf("send message batch: %d of %d refused (%s: %s)", len(out.Failed), len(batch), aws.ToString(f.Code), aws.ToString(f.Message))
	}
	return nil
}
