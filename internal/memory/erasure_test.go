package memory_test

import (
	"testing"

	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/storetest"
)

func TestErasureStoreContract(t *testing.T) {
	storetest.Erasure(t, func(*testing.T) storetest.ErasureStore { return memory.New() })
}
