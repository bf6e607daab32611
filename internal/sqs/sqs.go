// Package sqs puts delivery jobs on the SQS dispatch queue and decodes them
// on the way out.
package sqs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"

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
// was refused.
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
		body, err := Encode(j)
		if err != nil {
			return fmt.Errorf("encode job: %w", err)
		}
		if len(body) > maxBatchBytes {
			return fmt.Errorf("job %d is %d bytes, over SQS's limit", i, len(body))
		}
		if len(batch) == maxBatchEntries || size+len(body) > maxBatchBytes {
			if err := flush(); err != nil {
				return err
			}
		}
		batch = append(batch, types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(string(body))})
		size += len(body)
	}
	return flush()
}
