package dynamo_test

import (
	"testing"

	"github.com/heraldhq/herald/internal/storetest"
)

func TestEndpointOwnerContract(t *testing.T) {
	storetest.Endpoints(t, func(t *testing.T) storetest.EndpointStore { return newStore(t) })
}
