package ses

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
)

// Provider is SES as a function's wiring gives it to the app
// (app.Clients.SES): one SDK client, for every mailer and identity check
// the app builds. Only the functions that send email or review sender
// addresses make one, so only they link the SES client.
type Provider struct{ client *sesv2.Client }

// NewProvider returns the provider of cfg's account and region.
func NewProvider(cfg aws.Config) Provider { return Provider{client: sesv2.NewFromConfig(cfg)} }

// Mailer returns a mailer whose sends are bounded by timeout.
func (p Provider) Mailer(timeout time.Duration) delivery.Mailer {
	m := New(p.client)
	m.Timeout = timeout
	return m
}

// Senders returns the account's sending identities, for review.
func (p Provider) Senders() campaign.Senders { return NewIdentities(p.client) }
