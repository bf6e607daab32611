// Package sqs puts delivery jobs on the SQS dispatch queue, each encoded
// by delivery.EncodeJob (Dispatch decodes them with delivery.DecodeJob).
package sqs

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

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
// SendMessageBatch calls as SQS's limits allow and failing if any entry
// was refused. It is EnqueueDelayed with no delay.
func (q *Queue) Enqueue(ctx context.Context, jobs []delivery.Job) error {
	delayed := make([]execution.DelayedJob, len(jobs))
	for i, j := range jobs {
		delayed[i] = execution.DelayedJob{Job: j}
	}
	return q.EnqueueDelayed(ctx, delayed)
}
