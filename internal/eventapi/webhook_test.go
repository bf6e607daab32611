package eventapi_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/eventapi"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/webhook"
)

// visibilities records the delays set on messages.
type visibilities struct {
	mu  sync.Mutex
	set map[string]time.Duration
}

func (v *visibilities) ChangeVisibility(_ context.Context, receipt string, after time.Duration) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.set[receipt] = after
	return nil
}

func TestWebhookSQSAcknowledgesSkippedEventsAndRetriesUnreadableOnes(t *testing.T) {
	store := memory.New()
	d := &webhook.Deliverer{Store: store, Now: func() time.Time { return now }}
	body, err := webhook.EncodeMessage(webhook.Message{ID: "ev-1", Tenant: acme, Channel: "email", At: now})
	if err != nil {
		t.Fatal(err)
	}
	ev := events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "m1", ReceiptHandle: "r1", Body: string(body), Attributes: map[string]string{"ApproximateReceiveCount": "1"}},
		{MessageId: "m2", ReceiptHandle: "r2", Body: `{"id":`, Attributes: map[string]string{"ApproximateReceiveCount": strconv.Itoa(3)}},
	}}
	vis := &visibilities{set: map[string]time.Duration{}}
	resp, err := eventapi.WebhookSQS(d, vis, discard)(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]events.SQSBatchItemFailure{{ItemIdentifier: "m2"}}, resp.BatchItemFailures); diff != "" {
		t.Errorf("batchItemFailures (-want +got):\n%s", diff)
	}
	if got := vis.set["r2"]; got != webhook.DefaultTiming.Backoff(3) {
		t.Errorf("the unreadable message comes back after %s, want %s", got, webhook.DefaultTiming.Backoff(3))
	}
	// acme has no webhook: the event is recorded skipped.
	if rec, err := store.GetDelivery(context.Background(), acme, "ev-1"); err != nil || rec.Status != webhook.Skipped {
		t.Errorf("ev-1 = %s, %v; want skipped", rec.Status, err)
	}
}
