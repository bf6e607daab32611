package app

import (
	"context"

	"github.com/aws/aws-lambda-go/events"

	"github.com/heraldhq/herald/internal/eventapi"
	"github.com/heraldhq/herald/internal/webhook"
)

// Webhooks returns the feedback webhook service of the management API; it
// redrives failed deliveries when the function knows the webhook queue.
func (a *App) Webhooks() *webhook.Service {
	s := &webhook.Service{Store: a.store, AllowLoopbackHTTP: a.cfg.Webhook.AllowLoopbackHTTP, Now: a.now}
	if a.cfg.Webhook.QueueURL != "" && a.clients.SQS != nil {
		s.Queue = a.clients.SQS.Webhooks(a.cfg.Webhook.QueueURL)
	}
	return s
}

// WebhookPublisher returns what the Feedback function hands webhook
// events to: it only enqueues them on the webhook queue. Build it once per
// process (it caches each tenant's webhook for 30 s).
func (a *App) WebhookPublisher() (*webhook.Publisher, error) {
	if err := a.cfg.RequireWebhookQueue(); err != nil {
		return nil, err
	}
	if err := a.Need("the webhook publisher", "SQS"); err != nil {
		return nil, err
	}
	return &webhook.Publisher{Configs: a.store, Queue: a.clients.SQS.Webhooks(a.cfg.Webhook.QueueURL), Now: a.now}, nil
}

// Deliverer returns the webhook deliverer; events whose retries ended go
// to the webhook dead-letter queue when the function knows it.
func (a *App) Deliverer() *webhook.Deliverer {
	w := a.cfg.Webhook
	d := &webhook.Deliverer{Store: a.store, AllowLoopbackHTTP: w.AllowLoopbackHTTP, Log: a.log, Metrics: a.Recorder(),
		Timing: webhook.Timing{First: w.RetryFirst, Max: w.RetryMax, Window: w.RetryWindow}}
	if w.DeadLetterURL != "" && a.clients.SQS != nil {
		d.DeadLetters = a.clients.SQS.Webhooks(w.DeadLetterURL)
	}
	// No simulated clock (SetClock): retry windows are measured in the
	// queue's real time, as Dispatch's.
	return d
}

// WebhookHandler returns the SQS consumer of the webhook queue; it needs
// the queue's URL to delay retried messages.
func (a *App) WebhookHandler() (func(context.Context, events.SQSEvent) (events.SQSEventResponse, error), error) {
	if err := a.cfg.RequireWebhookQueue(); err != nil {
		return nil, err
	}
	if err := a.Need("the Webhook function", "SQS"); err != nil {
		return nil, err
	}
	return invoked(a, "Webhook", eventapi.WebhookSQS(a.Deliverer(), a.clients.SQS.Visibility(a.cfg.Webhook.QueueURL), a.log)), nil
}
