package dynamo_test

import (
	"testing"

	"github.com/heraldhq/herald/internal/storetest"
)

func TestErasureStoreContract(t *testing.T) {
	storetest.Erasure(t, func(t *testing.T) storetest.ErasureStore { return newStore(t) })
}
