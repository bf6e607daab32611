package sqs

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/webhook"
)

// Provider is SQS as a function's wiring gives it to the app
// (app.Clients.SQS): one SDK client for every queue the app uses.
type Provider struct{ client *sqs.Client }

// NewProvider returns the provider of cfg's account and region.
func NewProvider(cfg aws.Config) Provider { return Provider{client: sqs.NewFromConfig(cfg)} }

// Executions returns the dispatch queue at url, as executions fill it.
func (p Provider) Executions(url string) execution.Queue { return New(p.client, url) }

// Requeue returns the dispatch queue at url, as delivery puts jobs back.
func (p Provider) Requeue(url string) delivery.Requeue { return New(p.client, url) }

// Webhooks returns the webhook queue (or its dead-letter queue) at url.
func (p Provider) Webhooks(url string) webhook.Queue { return NewWebhookQueue(p.client, url) }

// Visibility returns what delays the retry of a message of the queue at
// url (eventapi.Visibility).
func (p Provider) Visibility(url string) interface {
	ChangeVisibility(ctx context.Context, receiptHandle string, after time.Duration) error
} {
	return NewVisibility(p.client, url)
}
