package httpapi

import (
	"maps"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/audience"
	"github.com/heraldhq/herald/internal/erasure"
	"github.com/heraldhq/herald/internal/ratelimit"
	"github.com/heraldhq/herald/internal/recurrence"
	"github.com/heraldhq/herald/internal/reputation"
	"github.com/heraldhq/herald/internal/status"
	"github.com/heraldhq/herald/internal/webhook"
)

// The execution API counts against the execution group (high throughput
// its own), every other authenticated route against management.
func TestEveryRouteIsInTheRateLimitGroupOfItsAPI(t *testing.T) {
	routes := triggerRouter(nil, Access{}, nil).routes
	maps.Copy(routes, audienceExecutionRoutes(nil))
	maps.Copy(routes, manageRoutes(ManageDeps{Audiences: &audience.Service{}, Recurrences: &recurrence.Service{},
		Executions: &status.Service{}, Webhooks: &webhook.Service{}, Reputation: &reputation.Service{}, Erasure: &erasure.Service{}}))
	for key, rte := range routes {
		var want ratelimit.Group
		switch {
		case rte.scopes == nil:
			want = "" // public: never limited
		case key == "POST /im/executions/highthroughput":
			want = ratelimit.HighThroughput
		case strings.Contains(key, " /im/executions/"):
			want = ratelimit.Execution
		}
		if rte.group != want {
			t.Errorf("%s is in group %q, want %q", key, rte.group, want)
		}
	}
}
