package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/tenant"
	"github.com/heraldhq/herald/internal/webhook"
)

// fakeQueue records what is enqueued; fail makes Enqueue fail.
type fakeQueue struct {
	mu   sync.Mutex
	msgs []webhook.Message
	fail error
}

func (q *fakeQueue) Enqueue(_ context.Context, msgs []webhook.Message) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail != nil {
		return q.fail
	}
	q.msgs = append(q.msgs, msgs...)
	return nil
}

func (q *fakeQueue) all() []webhook.Message {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]webhook.Message(nil), q.msgs...)
}

func (q *fakeQueue) ids() []string {
	var ids []string
	for _, m := range q.all() {
		ids = append(ids, m.ID)
	}
	return ids
}

// countingConfigs serves webhooks from a map and counts the reads.
type countingConfigs struct {
	mu    sync.Mutex
	hooks map[tenant.Tenant]webhook.Config
	reads int
}

func (c *countingConfigs) GetWebhook(_ context.Context, t tenant.Tenant) (webhook.Config, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reads++
	h, ok := c.hooks[t]
	if !ok {
		return webhook.Config{}, derrors.New(derrors.NotFound, "webhook not found")
	}
	return h, nil
}

func TestPublishQueuesSubscribedEventsAndCachesTheConfig(t *testing.T) {
	other := tenant.Tenant{Org: "OTHER@AdobeOrg", Sandbox: "prod"}
	cfgs := &countingConfigs{hooks: map[tenant.Tenant]webhook.Config{acme: {Channels: []string{"email"}}}}
	q := &fakeQueue{}
	now := &clock{t: t0}
	p := &webhook.Publisher{Configs: cfgs, Queue: q, Now: now.Now}
	sms := message("ev-sms")
	sms.Channel = "sms"
	others := message("ev-other")
	others.Tenant = other
	ctx := context.Background()
	if err := p.Publish(ctx, []webhook.Message{message("ev-1"), sms, others, message("ev-2")}); err != nil {
		t.Fatal(err)
	}
	if err := p.Publish(ctx, []webhook.Message{message("ev-3"), others}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"ev-1", "ev-2", "ev-3"}, q.ids()); diff != "" {
		t.Errorf("queued (-want +got):\n%s", diff)
	}
	if cfgs.reads != 2 {
		t.Errorf("%d reads for two tenants within the cache's life, want 2 (one each, absence cached too)", cfgs.reads)
	}
	now.Add(webhook.ConfigCacheTTL)
	if err := p.Publish(ctx, []webhook.Message{message("ev-4")}); err != nil {
		t.Fatal(err)
	}
	if cfgs.reads != 3 {
		t.Errorf("%d reads after the cache expired, want 3", cfgs.reads)
	}
	q.fail = errors.New("sqs down")
	if err := p.Publish(ctx, []webhook.Message{message("ev-5")}); err == nil {
		t.Errorf("Publish with a failing queue = nil, want the error (the caller retries)")
	}
}

// The payload is AJO's message.feedback shape, every field present, null
// where there is no value (testdata/payload.json).
func TestThePayloadHasAJOsShape(t *testing.T) {
	m := message("ev-1")
	failed := message("ev-2")
	failed.Payload.Feedback = webhook.Feedback{Status: webhook.StatusBounce, RetryCount: 2,
		Failure: &webhook.Reason{Category: "async", Type: "Permanent", Code: "General"}}
	failed.Payload.RequestID, failed.Payload.MessageExecution.CampaignVersionID = "", ""
	for name, msg := range map[string]webhook.Message{"payload.json": m, "payload.bounce.json": failed} {
		b, err := webhook.EncodeMessage(msg)
		if err != nil {
			t.Fatal(err)
		}
		var env struct{ Payload json.RawMessage }
		if err := json.Unmarshal(b, &env); err != nil {
			t.Fatal(err)
		}
		var got, want any
		if err := json.Unmarshal(env.Payload, &got); err != nil {
			t.Fatal(err)
		}
		golden, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(golden, &want); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
		back, err := webhook.DecodeMessage(b)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := webhook.EncodeMessage(back)
		if string(again) != string(b) {
			t.Errorf("%s does not survive a round trip through the queue:\n%s\n%s", name, b, again)
		}
	}
}
