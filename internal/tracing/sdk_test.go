package tracing_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/heraldhq/herald/infra/motoserver"
	"github.com/heraldhq/herald/internal/tracing"
)

var key = map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "p"}}

// headers keeps the trace header of every request the SDK sends.
type headers struct {
	next aws.HTTPClient
	mu   sync.Mutex
	seen []string
}

func (h *headers) Do(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	h.seen = append(h.seen, r.Header.Get(tracing.TraceHeader))
	h.mu.Unlock()
	return h.next.Do(r)
}

func tracedConfig(t *testing.T) (aws.Config, *headers) {
	cfg := motoserver.Shared(t).AWSConfig()
	h := &headers{next: awshttp.NewBuildableClient()}
	cfg.HTTPClient = h
	cfg.APIOptions = append(cfg.APIOptions, tracing.AddSDKMiddleware)
	return cfg, h
}

func TestEveryAWSCallIsASubsegmentThatPassesTheTraceOn(t *testing.T) {
	cfg, h := tracedConfig(t)
	q := awssqs.NewFromConfig(cfg)
	url, err := q.CreateQueue(context.Background(), &awssqs.CreateQueueInput{QueueName: aws.String("tracing-calls")})
	if err != nil {
		t.Fatal(err)
	}
	if h.seen[0] != "" {
		t.Errorf("an untraced call carried %q", h.seen[0])
	}

	tr, c := newTracer(t)
	ctx, s := tr.Begin(invocation("Root="+root+";Parent="+facade+";Sampled=1"), "Trigger")
	if _, err := q.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: url.QueueUrl, MessageBody: aws.String("{}")}); err != nil {
		t.Fatal(err)
	}
	_, err = dynamodb.NewFromConfig(cfg).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("no-such-table-tracing"), Key: key})
	if err == nil {
		t.Fatal("GetItem on a missing table succeeded")
	}
	s.End(nil)

	got := c.sent()
	if len(got) != 1 || len(got[0].Subsegments) != 2 {
		t.Fatalf("sent %+v", got)
	}
	send, get := got[0].Subsegments[0], got[0].Subsegments[1]
	if send.Name != "SQS" || send.Namespace != "aws" || send.AWS["operation"] != "SendMessage" ||
		send.AWS["queue_url"] != aws.ToString(url.QueueUrl) || send.AWS["region"] != motoserver.Region ||
		send.AWS["request_id"] == nil || send.HTTP.Response.Status != 200 || send.Error || send.Fault {
		t.Errorf("SendMessage subsegment = %+v", send)
	}
	if get.Name != "DynamoDB" || get.AWS["operation"] != "GetItem" || get.AWS["table_name"] != "no-such-table-tracing" ||
		!get.Error || get.Fault || get.HTTP.Response.Status != 400 {
		t.Errorf("GetItem subsegment = %+v", get)
	}
	if len(get.Cause.Exceptions) != 1 || get.Cause.Exceptions[0].Type != "ResourceNotFoundException" || get.Cause.Exceptions[0].Message != "" {
		t.Errorf("GetItem cause = %+v", get.Cause)
	}
	// The service is told the trace under the call's own subsegment: SQS
	// keeps it with the message (AWSTraceHeader), where Dispatch reads it.
	h.mu.Lock()
	sendHeader := h.seen[1]
	h.mu.Unlock()
	hd, ok := tracing.ParseHeader(sendHeader)
	if !ok || hd.Root != root || hd.Parent != send.ID || !hd.Sampled {
		t.Errorf("SendMessage carried %q; want its subsegment %s", sendHeader, send.ID)
	}
	if strings.Contains(string(c.raw[0]), "{}") {
		t.Error("a message body reached the trace")
	}
}

func TestAThrottledCallIsFlaggedAsAThrottle(t *testing.T) {
	cfg, _ := tracedConfig(t)
	cfg.HTTPClient = throttling{}
	cfg.RetryMaxAttempts = 2
	tr, c := newTracer(t)
	ctx, s := tr.Begin(invocation("Root="+root+";Parent="+facade+";Sampled=1"), "Dispatch")
	_, err := dynamodb.NewFromConfig(cfg).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"), Key: key})
	if err == nil {
		t.Fatal("no error")
	}
	s.End(nil)
	got := c.sent()[0].Subsegments[0]
	if !got.Throttle || !got.Error || got.Fault || got.AWS["retries"] != float64(1) || got.HTTP.Response.Status != 400 {
		t.Errorf("subsegment = %+v", got)
	}
}

// throttling answers every DynamoDB call as DynamoDB does when a table's
// capacity is spent.
type throttling struct{}

func (throttling) Do(r *http.Request) (*http.Response, error) {
	body := `{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow down"}`
	return &http.Response{
		StatusCode: 400, Status: "400 Bad Request", Request: r, ContentLength: int64(len(body)),
		Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}, "X-Amzn-Requestid": {"r-1"}},
		Body:   io.NopCloser(strings.NewReader(body)),
	}, nil
}
