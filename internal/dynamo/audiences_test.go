package dynamo_test

import (
	"testing"

	"github.com/heraldhq/herald/internal/audience"
	"github.com/heraldhq/herald/internal/storetest"
)

func TestAudienceStoreContract(t *testing.T) {
	storetest.Audiences(t, func(t *testing.T) audience.Store { return newStore(t) })
}
