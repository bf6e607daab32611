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

var _ execution.DelayedQueue = (*Queue)(nil)

// EnqueueDelayed implements execution.DelayedQueue: like Enqueue, with
// each message's DelaySeconds set from its job's delay (0-900 s).
func (q *Queue) EnqueueDelayed(ctx context.Context, jobs []execution.DelayedJob) error {
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
		body, err := delivery.EncodeJob(j.Job)
		if err != nil {
			return fmt.Errorf("job %d: %w", i, err)
		}
		if len(body) > delivery.MaxJobSize {
			return fmt.Errorf("job %d is %d bytes, over SQS's limit", i, len(body))
		}
		if j.Delay < 0 || j.Delay > execution.MaxDelay {
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
