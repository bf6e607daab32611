// Package sqs puts delivery jobs on the SQS dispatch queue and decodes them
// on the way out.
package sqs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

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
// message). We keep a margin for the batch envelope.
const (
	maxBatchEntries = 10
	maxBatchBytes   = 250 << 10
)

// Encode returns a job's message body. HTML is not escaped, so a body with
// markup stays the size it is.
func Encode(j delivery.Job) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(j); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// Decode parses a message body into a job, keeping numbers exact.
func Decode(body string) (delivery.Job, error) {
	var j delivery.Job
	dec := json.NewDecoder(bytes.NewReader([]byte(body)))
	dec.UseNumber()
	if err := dec.Decode(&j); err != nil {
		return j, fmt.Errorf("decode job: %w", err)
	}
	return j, nil
}

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
