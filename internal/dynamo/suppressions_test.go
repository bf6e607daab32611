package dynamo_test

import (
	"testing"

	"github.com/heraldhq/herald/internal/storetest"
	"github.com/heraldhq/herald/internal/suppression"
)

func TestSuppressionStoreContract(t *testing.T) {
	storetest.Suppressions(t, func(t *testing.T) suppression.Store { return newStore(t) })
}
