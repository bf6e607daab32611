package config_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/config"
)

func TestLoadWebhook(t *testing.T) {
	c, err := config.Load(env(map[string]string{"HERALD_TABLE": "herald", "HERALD_WEBHOOK_QUEUE_URL": " http://127.0.0.1:5000/123/webhook ",
		"HERALD_WEBHOOK_DLQ_URL": "http://127.0.0.1:5000/123/webhook-dlq", "HERALD_WEBHOOK_ALLOW_LOOPBACK": "true",
		"HERALD_WEBHOOK_RETRY_FIRST": "1s", "HERALD_WEBHOOK_RETRY_MAX": "2s", "HERALD_WEBHOOK_RETRY_WINDOW": "1m"}))
	if err != nil {
		t.Fatal(err)
	}
	want := config.Webhook{QueueURL: "http://127.0.0.1:5000/123/webhook", DeadLetterURL: "http://127.0.0.1:5000/123/webhook-dlq",
		AllowLoopbackHTTP: true, RetryFirst: time.Second, RetryMax: 2 * time.Second, RetryWindow: time.Minute}
	if diff := cmp.Diff(want, c.Webhook); diff != "" || c.RequireWebhookQueue() != nil {
		t.Errorf("Webhook (-want +got):\n%s", diff)
	}

	c, err = config.Load(env(map[string]string{"HERALD_TABLE": "herald"}))
	if err != nil || c.Webhook.AllowLoopbackHTTP || c.RequireWebhookQueue() == nil {
		t.Errorf("by default: loopback %v, RequireWebhookQueue %v, %v; want loopback off and the queue required", c.Webhook.AllowLoopbackHTTP, c.RequireWebhookQueue(), err)
	}
	for name, v := range map[string]string{"HERALD_WEBHOOK_ALLOW_LOOPBACK": "yes", "HERALD_WEBHOOK_RETRY_FIRST": "soon", "HERALD_WEBHOOK_RETRY_WINDOW": "-1h"} {
		if _, err := config.Load(env(map[string]string{"HERALD_TABLE": "herald", name: v})); err == nil {
			t.Errorf("%s=%q loaded, want an error", name, v)
		}
	}
}
