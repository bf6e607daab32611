package sqs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/sqs"
	"github.com/heraldhq/herald/internal/tenant"
	"github.com/heraldhq/herald/internal/webhook"
)

// webhookSQS records SendMessageBatch calls to the webhook queue and
// refuses the entries its refuse set names.
type webhookSQS struct {
	calls  [][]types.SendMessageBatchRequestEntry
	refuse map[string]bool
}

func (f *webhookSQS) SendMessageBatch(_ context.Context, in *awssqs.SendMessageBatchInput, _ ...func(*awssqs.Options)) (*awssqs.SendMessageBatchOutput, error) {
	if aws.ToString(in.QueueUrl) != "https://sqs.example/webhook" {
		return nil, fmt.Errorf("unexpected queue %q", aws.ToString(in.QueueUrl))
	}
	f.calls = append(f.calls, in.Entries)
	out := &awssqs.SendMessageBatchOutput{}
	for _, e := range in.Entries {
		if f.refuse[aws.ToString(e.Id)] {
			out.Failed = append(out.Failed, types.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InternalError")})
		}
	}
	return out, nil
}

func TestWebhookEnqueueSendsBatchesOfTenAndReportsEveryRefusal(t *testing.T) {
	var msgs []webhook.Message
	for i := range 23 {
		msgs = append(msgs, webhook.Message{ID: fmt.Sprintf("ev-%d", i), Tenant: tenant.Tenant{Org: "acme", Sandbox: "prod"}, Channel: "email",
			At: time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)})
	}
	api := &webhookSQS{}
	if err := sqs.NewWebhookQueue(api, "https://sqs.example/webhook").Enqueue(context.Background(), msgs); err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, c := range api.calls {
		sizes = append(sizes, len(c))
	}
	if diff := cmp.Diff([]int{10, 10, 3}, sizes); diff != "" {
		t.Errorf("batch sizes (-want +got):\n%s", diff)
	}
	got, err := webhook.DecodeMessage([]byte(aws.ToString(api.calls[2][2].MessageBody)))
	if err != nil || got.ID != "ev-22" || got.Payload.EventID != "ev-22" {
		t.Errorf("last message = %+v, %v", got, err)
	}

	// A refusal in the first batch does not stop the second; both are
	// reported so the caller retries.
	api = &webhookSQS{refuse: map[string]bool{"1": true, "15": true}}
	err = sqs.NewWebhookQueue(api, "https://sqs.example/webhook").Enqueue(context.Background(), msgs)
	if err == nil || len(api.calls) != 3 {
		t.Errorf("Enqueue with refusals = %v after %d calls, want an error after 3", err, len(api.calls))
	}
}
