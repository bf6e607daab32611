package secrets

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/heraldhq/herald/internal/auth"
)

// Provider is Secrets Manager as a function's wiring gives it to the app
// (app.Clients.Secrets).
type Provider struct{ client *secretsmanager.Client }

// NewProvider returns the provider of cfg's account and region.
func NewProvider(cfg aws.Config) Provider {
	return Provider{client: secretsmanager.NewFromConfig(cfg)}
}

// Keyring returns the token signing keyring over the secret secretARN.
func (p Provider) Keyring(secretARN string) auth.Keyring { return NewKeyring(p.client, secretARN) }
