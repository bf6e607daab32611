package memory_test

import (
	"testing"

	"github.com/heraldhq/herald/internal/audience"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/storetest"
)

func TestAudienceStoreContract(t *testing.T) {
	storetest.Audiences(t, func(*testing.T) audience.Store { return memory.New() })
}
