package localcloud

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/infra/motoserver"
)

// pollerOnMoto provisions the template's queues in a clean moto — the
// dispatch queue's visibility timeout cut to one second and its
// maxReceiveCount to three, so failed messages come back quickly — and
// returns a poller of DispatchQueue calling h.
func pollerOnMoto(t *testing.T, h SQSHandler) (*Poller, *sqs.Client, *Stack) {
	t.Helper()
	moto := motoserver.Shared(t)
	ctx := context.Background()
	if err := moto.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	s, err := LoadStack("../../template.yaml", StackOptions{MotoURL: moto.URL(), Parameters: DefaultParameters})
	if err != nil {
		t.Fatal(err)
	}
	if err := (Timing{Visibility: time.Second, MaxReceiveCount: 3}).Apply(s); err != nil {
		t.Fatal(err)
	}
	if err := Provision(ctx, moto.AWSConfig(), s); err != nil {
		t.Fatal(err)
	}
	client := sqs.NewFromConfig(moto.AWSConfig())
	f := s.Functions["DispatchFunction"]
	p, err := NewPoller(client, s, f, f.SQS[0], h, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return p, client, s
}

func send(t *testing.T, c *sqs.Client, url string, bodies ...string) {
	t.Helper()
	for _, b := range bodies {
		if _, err := c.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(b),
			MessageAttributes: map[string]sqstypes.MessageAttributeValue{"kind": {DataType: aws.String("String"), StringValue: aws.String("test")}}}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPollerBuildsLambdaSQSRecords(t *testing.T) {
	var got []events.SQSMessage
	p, client, s := pollerOnMoto(t, func(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		got = append(got, ev.Records...)
		return events.SQSEventResponse{}, nil
	})
	send(t, client, p.Queue.URL, `{"n":1}`)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("handler saw %d records, want 1", len(got))
	}
	r := got[0]
	sum := md5.Sum([]byte(`{"n":1}`))
	if r.Body != `{"n":1}` || r.Md5OfBody != hex.EncodeToString(sum[:]) || r.EventSource != "aws:sqs" ||
		r.EventSourceARN != s.Functions["DispatchFunction"].SQS[0].QueueARN || r.AWSRegion != "us-east-1" || r.MessageId == "" || r.ReceiptHandle == "" {
		t.Errorf("record = %+v", r)
	}
	for _, a := range []string{"ApproximateReceiveCount", "SentTimestamp", "ApproximateFirstReceiveTimestamp"} {
		if r.Attributes[a] == "" {
			t.Errorf("attributes lack %s: %v", a, r.Attributes)
		}
	}
	if v := r.MessageAttributes["kind"]; v.DataType != "String" || aws.ToString(v.StringValue) != "test" {
		t.Errorf("messageAttributes = %+v", r.MessageAttributes)
	}
}

func TestPollerRetriesOnlyReportedFailuresUntilTheDeadLetterQueue(t *testing.T) {
	var mu sync.Mutex
	calls := map[string]int{}
	p, client, s := pollerOnMoto(t, func(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		mu.Lock()
		defer mu.Unlock()
		var resp events.SQSEventResponse
		for _, r := range ev.Records {
			calls[r.Body]++
			if r.Body == "poison" {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
			}
		}
		return resp, nil
	})
	send(t, client, p.Queue.URL, "ok-1", "poison", "ok-2")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"ok-1": 1, "ok-2": 1, "poison": p.Queue.MaxReceiveCount}
	if diff := cmp.Diff(want, calls); diff != "" {
		t.Errorf("deliveries per message (-want +got):\n%s", diff)
	}
	dlq := s.QueueByARN(p.Queue.DeadLetterARN)
	out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(dlq.URL), MaxNumberOfMessages: 10})
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, m := range out.Messages {
		bodies = append(bodies, aws.ToString(m.Body))
	}
	if diff := cmp.Diff([]string{"poison"}, bodies); diff != "" {
		t.Errorf("dead-letter queue (-want +got):\n%s", diff)
	}
}

func TestPollerRetriesTheWholeBatchWhenTheFunctionFails(t *testing.T) {
	calls := 0
	p, client, _ := pollerOnMoto(t, func(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		calls++
		if calls == 1 {
			return events.SQSEventResponse{}, errors.New("function crashed")
		}
		return events.SQSEventResponse{}, nil
	})
	send(t, client, p.Queue.URL, "only")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Errorf("handler called %d times, want 2 (a failed invoke deletes nothing; the message comes back after its visibility timeout)", calls)
	}
}
