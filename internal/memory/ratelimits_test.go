package memory_test

import (
	"testing"

	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/ratelimit"
	"github.com/heraldhq/herald/internal/storetest"
)

func TestRateLimitContract(t *testing.T) {
	storetest.RateLimits(t, func(*testing.T) ratelimit.Store { return memory.New() })
}
