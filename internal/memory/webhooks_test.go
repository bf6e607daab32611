package memory_test

import (
	"testing"

	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/storetest"
	"github.com/heraldhq/herald/internal/webhook"
)

func TestWebhookStoreContract(t *testing.T) {
	storetest.Webhooks(t, func(*testing.T) webhook.Store { return memory.New() })
}
