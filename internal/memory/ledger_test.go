package memory_test

import (
	"testing"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/delivery/ledgertest"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/tenant"
)

func TestLedgerContract(t *testing.T) {
	ledgertest.Run(t, ledgertest.Harness{
		New: func(*testing.T) ledgertest.Store { return memory.New() },
		PutLegacy: func(_ *testing.T, s ledgertest.Store, tn tenant.Tenant, e delivery.Entry) {
			s.(*memory.Store).PutLegacyEntry(tn, e)
		},
	})
}
