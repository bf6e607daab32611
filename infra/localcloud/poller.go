package localcloud

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/heraldhq/herald/internal/logsafe"
)

// Poller is Lambda's SQS event source mapping for one function and queue:
// it receives batches, invokes the handler with an events.SQSEvent and
// deletes what succeeded. Like Lambda, it leaves a failed message alone:
// it comes back when its visibility timeout ends — the queue's, or the
// delay the handler set (Dispatch sets its retry backoff that way).
type Poller struct {
	Function string
	Queue    *Queue
	Source   SQSSource
	Timeout  time.Duration

	client  *sqs.Client
	handler SQSHandler
	region  string
	log     *slog.Logger
}

// NewPoller returns a poller of queue for the function's handler.
func NewPoller(client *sqs.Client, s *Stack, f *Function, src SQSSource, h SQSHandler, log *slog.Logger) (*Poller, error) {
	q := s.QueueByARN(src.QueueARN)
	if q == nil {
		return nil, fmt.Errorf("%s: queue %s is not in the stack", f.LogicalID, src.QueueARN)
	}
	if h == nil {
		return nil, fmt.Errorf("%s: no SQS handler", f.LogicalID)
	}
	return &Poller{Function: f.LogicalID, Queue: q, Source: src, Timeout: f.Timeout, client: client, handler: h, region: s.Region,
		log: log.With("function", f.LogicalID, "queue", q.LogicalID)}, nil
}

// Run polls until ctx is done, long-polling one second at a time.
func (p *Poller) Run(ctx context.Context) {
	for ctx.Err() == nil {
		if _, err := p.Poll(ctx, 1); err != nil && ctx.Err() == nil {
			p.log.ErrorContext(ctx, "poll failed", logsafe.Attr(err))
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

// Poll receives one batch (waiting up to wait seconds for it), invokes the
// handler and settles the batch. It returns how many messages it received.
func (p *Poller) Poll(ctx context.Context, wait int32) (int, error) {
	out, err := p.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(p.Queue.URL),
		MaxNumberOfMessages:         int32(min(max(p.Source.BatchSize, 1), 10)),
		WaitTimeSeconds:             wait,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	})
	if err != nil {
		return 0, fmt.Errorf("receive: %w", err)
	}
	if len(out.Messages) == 0 {
		return 0, nil
	}
	ev := p.event(out.Messages)
	hctx, cancel := context.WithTimeout(ctx, p.Timeout)
	resp, herr := p.invoke(hctx, ev)
	cancel()

	failed := map[string]bool{}
	switch {
	case herr != nil:
		p.log.ErrorContext(ctx, "function failed; the whole batch will be retried", "messages", len(ev.Records), logsafe.Attr(herr))
		for _, r := range ev.Records {
			failed[r.MessageId] = true
		}
	case p.Source.ReportBatchItemFailures:
		for _, f := range resp.BatchItemFailures {
			failed[f.ItemIdentifier] = true
		}
		// Lambda fails the whole batch when a reported id is not in it.
		for id := range failed {
			if !hasRecord(ev, id) {
				p.log.ErrorContext(ctx, "batchItemFailures names an unknown message; the whole batch will be retried")
				for _, r := range ev.Records {
					failed[r.MessageId] = true
				}
				break
			}
		}
	}
	var del []sqstypes.DeleteMessageBatchRequestEntry
	for i, m := range out.Messages {
		if !failed[aws.ToString(m.MessageId)] {
			del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
		}
	}
	p.log.InfoContext(ctx, "batch processed", "messages", len(out.Messages), "failed", len(out.Messages)-len(del))
	if len(del) > 0 {
		out, err := p.client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(p.Queue.URL), Entries: del})
		if err != nil {
			return len(del), fmt.Errorf("delete: %w", err)
		}
		if len(out.Failed) > 0 {
			return len(del), fmt.Errorf("delete: %d of %d refused: %s", len(out.Failed), len(del), aws.ToString(out.Failed[0].Message))
		}
	}
	return len(out.Messages), nil
}

// invoke runs the handler, turning a panic into an error as the Lambda
// runtime reports one.
func (p *Poller) invoke(ctx context.Context, ev events.SQSEvent) (resp events.SQSEventResponse, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return p.handler(ctx, ev)
}

func hasRecord(ev events.SQSEvent, id string) bool {
	for _, r := range ev.Records {
		if r.MessageId == id {
			return true
		}
	}
	return false
}

// event builds the records exactly as Lambda's SQS event source does.
func (p *Poller) event(msgs []sqstypes.Message) events.SQSEvent {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, 0, len(msgs))}
	for _, m := range msgs {
		rec := events.SQSMessage{
			MessageId:              aws.ToString(m.MessageId),
			ReceiptHandle:          aws.ToString(m.ReceiptHandle),
			Body:                   aws.ToString(m.Body),
			Md5OfBody:              aws.ToString(m.MD5OfBody),
			Md5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes),
			Attributes:             m.Attributes,
			MessageAttributes:      map[string]events.SQSMessageAttribute{},
			EventSource:            "aws:sqs",
			EventSourceARN:         p.Queue.ARN,
			AWSRegion:              p.region,
		}
		if rec.Attributes == nil {
			rec.Attributes = map[string]string{}
		}
		for k, a := range m.MessageAttributes {
			rec.MessageAttributes[k] = events.SQSMessageAttribute{
				StringValue:      a.StringValue,
				BinaryValue:      a.BinaryValue,
				StringListValues: a.StringListValues,
				BinaryListValues: a.BinaryListValues,
				DataType:         aws.ToString(a.DataType),
			}
		}
		ev.Records = append(ev.Records, rec)
	}
	return ev
}

// Drain processes batches until the queue holds no message, visible, in
// flight or delayed: for tests that must see every consequence of a
// request. Messages that keep failing come back after the delay their
// handler set until the queue's RedrivePolicy moves them to the
// dead-letter queue, so Drain ends; ctx bounds it regardless.
func (p *Poller) Drain(ctx context.Context) error {
	_, err := p.drain(ctx)
	return err
}

// drain is Drain, returning how many messages it received.
func (p *Poller) drain(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := p.Poll(ctx, 0)
		total += n
		if err != nil {
			return total, err
		}
		if n > 0 {
			continue
		}
		left, err := p.inQueue(ctx)
		if err != nil {
			return total, err
		}
		if left == 0 {
			// Confirm once: moto's counters are approximate while another
			// request is moving a message between its lists.
			time.Sleep(50 * time.Millisecond)
			if left, err = p.inQueue(ctx); err != nil {
				return total, err
			}
			n, err := p.Poll(ctx, 0)
			total += n
			if err != nil {
				return total, err
			}
			if n > 0 {
				continue
			}
			if left == 0 {
				return total, nil
			}
		}
		select {
		case <-ctx.Done():
			return total, fmt.Errorf("drain %s: %d messages left: %w", p.Queue.LogicalID, left, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (p *Poller) inQueue(ctx context.Context) (int, error) {
	out, err := p.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(p.Queue.URL),
		AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed,
		},
	})
	if err != nil {
		return 0, fmt.Errorf("queue attributes: %w", err)
	}
	total := 0
	for _, v := range out.Attributes {
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, errors.New("queue attributes: not a number")
		}
		total += n
	}
	return total, nil
}
