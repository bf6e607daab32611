package config

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Webhook is where feedback webhook messages go and how they are retried.
type Webhook struct {
	// QueueURL is the webhook queue (HERALD_WEBHOOK_QUEUE_URL): the
	// Feedback function publishes to it, Manage redrives to it and the
	// Webhook function delays retries on it.
	QueueURL string
	// DeadLetterURL is the webhook dead-letter queue
	// (HERALD_WEBHOOK_DLQ_URL), where the Webhook function moves events
	// whose 24 hours of retries ended.
	DeadLetterURL string
	// AllowLoopbackHTTP accepts endpoints on 127.0.0.0/8, over http://
	// too (HERALD_WEBHOOK_ALLOW_LOOPBACK=true). The local cloud sets it;
	// a deployment never should.
	AllowLoopbackHTTP bool
	// RetryFirst, RetryMax and RetryWindow are the retry schedule
	// (HERALD_WEBHOOK_RETRY_FIRST, _RETRY_MAX, _RETRY_WINDOW); zero takes
	// webhook.DefaultTiming's.
	RetryFirst, RetryMax, RetryWindow time.Duration
}

func loadWebhook(getenv func(string) string) (Webhook, error) {
	w := Webhook{
		QueueURL:      strings.TrimSpace(getenv("HERALD_WEBHOOK_QUEUE_URL")),
		DeadLetterURL: strings.TrimSpace(getenv("HERALD_WEBHOOK_DLQ_URL")),
	}
	var errs []error
	switch v := strings.TrimSpace(getenv("HERALD_WEBHOOK_ALLOW_LOOPBACK")); v {
	case "", "false":
	case "true":
		w.AllowLoopbackHTTP = true
	default:
		errs = append(errs, fmt.Errorf("config: HERALD_WEBHOOK_ALLOW_LOOPBACK %q: want true or false", v))
	}
	for name, dst := range map[string]*time.Duration{"HERALD_WEBHOOK_RETRY_FIRST": &w.RetryFirst, "HERALD_WEBHOOK_RETRY_MAX": &w.RetryMax,
		"HERALD_WEBHOOK_RETRY_WINDOW": &w.RetryWindow} {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			continue
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("config: %s %q: want a positive duration such as 30s", name, v))
			continue
		}
		*dst = d
	}
	return w, errors.Join(errs...)
}

// RequireWebhookQueue reports an error when Webhook.QueueURL is unset.
func (c Config) RequireWebhookQueue() error {
	if c.Webhook.QueueURL == "" {
		return fmt.Errorf("config: HERALD_WEBHOOK_QUEUE_URL is required")
	}
	return nil
}
