package memory_test

import (
	"testing"

	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/storetest"
)

func TestEndpointOwnerContract(t *testing.T) {
	storetest.Endpoints(t, func(*testing.T) storetest.EndpointStore { return memory.New() })
}
