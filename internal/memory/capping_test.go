package memory_test

import (
	"testing"

	"github.com/heraldhq/herald/internal/capping"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/storetest"
)

func TestFrequencyCapContract(t *testing.T) {
	storetest.FrequencyCaps(t, func(*testing.T) capping.Store { return memory.New() })
}
