package memory_test

import (
	"testing"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/storetest"
)

func TestKeyStoreContract(t *testing.T) {
	storetest.Keys(t, func(*testing.T) auth.KeyStore { return memory.New() })
	storetest.KeysByID(t, func(*testing.T) auth.KeyStore { return memory.New() })
}
