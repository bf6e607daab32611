package memory_test

import (
	"testing"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/storetest"
	"github.com/heraldhq/herald/internal/tenant"
)

func TestLedgerContract(t *testing.T) {
	storetest.Ledger(t, storetest.LedgerHarness{
		New: func(*testing.T) storetest.LedgerStore { return memory.New() },
		PutLegacy: func(_ *testing.T, s storetest.LedgerStore, tn tenant.Tenant, e delivery.Entry) {
			s.(*memory.Store).PutLegacyEntry(tn, e)
		},
	})
}

func TestFeedbackContract(t *testing.T) {
	storetest.Feedback(t, func(*testing.T) storetest.FeedbackStore { return memory.New() })
}
