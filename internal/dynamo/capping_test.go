package dynamo_test

import (
	"testing"

	"github.com/heraldhq/herald/internal/capping"
	"github.com/heraldhq/herald/internal/storetest"
)

func TestFrequencyCapContract(t *testing.T) {
	storetest.FrequencyCaps(t, func(t *testing.T) capping.Store { return newStore(t) })
}
