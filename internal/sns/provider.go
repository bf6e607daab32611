package sns

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/feedback"
)

// Provider is SNS as a function's wiring gives it to the app
// (app.Clients.SNS): one SDK client for SMS, push and the endpoint reads
// of feedback.
type Provider struct{ client *awssns.Client }

// NewProvider returns the provider of cfg's account and region.
func NewProvider(cfg aws.Config) Provider { return Provider{client: awssns.NewFromConfig(cfg)} }

func (p Provider) bounded(timeout time.Duration) *Client {
	c := New(p.client)
	c.Timeout = timeout
	return c
}

// SMS returns an SMS sender whose publishes are bounded by timeout.
func (p Provider) SMS(timeout time.Duration) delivery.SMSSender { return p.bounded(timeout) }

// Push returns a pusher whose publishes are bounded by timeout.
func (p Provider) Push(timeout time.Duration) delivery.Pusher { return p.bounded(timeout) }

// Endpoints returns the reader of platform endpoints' state.
func (p Provider) Endpoints() feedback.EndpointReader { return New(p.client) }
