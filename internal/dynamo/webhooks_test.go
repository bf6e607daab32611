package dynamo_test

import (
	"testing"

	"github.com/heraldhq/herald/internal/storetest"
	"github.com/heraldhq/herald/internal/webhook"
)

func TestWebhookStoreContract(t *testing.T) {
	storetest.Webhooks(t, func(t *testing.T) webhook.Store { return newStore(t) })
}
