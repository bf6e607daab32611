package memory_test

import (
	"testing"

	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/storetest"
	"github.com/heraldhq/herald/internal/suppression"
)

func TestSuppressionStoreContract(t *testing.T) {
	storetest.Suppressions(t, func(*testing.T) suppression.Store { return memory.New() })
}
