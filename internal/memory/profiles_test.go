package memory_test

import (
	"testing"

	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/storetest"
)

func TestProfileStoreContract(t *testing.T) {
	storetest.Profiles(t, func(*testing.T) profile.Store { return memory.New() })
}
