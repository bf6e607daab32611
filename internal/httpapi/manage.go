package httpapi

import (
	"log/slog"
	"maps"

	"github.com/heraldhq/herald/internal/audience"
	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/capping"
	"github.com/heraldhq/herald/internal/erasure"
	"github.com/heraldhq/herald/internal/preview"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/recurrence"
	"github.com/heraldhq/herald/internal/reputation"
	"github.com/heraldhq/herald/internal/status"
	"github.com/heraldhq/herald/internal/suppression"
	"github.com/heraldhq/herald/internal/unsubscribe"
	"github.com/heraldhq/herald/internal/webhook"
)

// maxManageBody bounds management bodies (an HTML body may be 500 KB).
const maxManageBody = 1 << 20

var (
	manageScopes = []auth.Scope{auth.ScopeManage}
	readScopes   = []auth.Scope{auth.ScopeManage, auth.ScopeRead}
)

// ManageDeps are the services behind the management API.
type ManageDeps struct {
	// Access authenticates callers.
	Access    Access
	Campaigns *campaign.Service
	Profiles  *profile.Service
	// Suppressions and Unsubscribe serve the suppression list and the
	// public one-click unsubscribe endpoint.
	Suppressions *suppression.Service
	Unsubscribe  *unsubscribe.Signer
	// Preview renders previews, sends proofs and builds request samples.
	Preview *preview.Service
	// Audiences and Recurrences (issue 6) add their routes when set.
	Audiences   *audience.Service
	Recurrences *recurrence.Service
	// Executions reports on executions and redrives parked jobs.
	Executions *status.Service
	// Webhooks manages the feedback webhook (its routes are added when
	// set).
	Webhooks *webhook.Service
	// Reputation shows and lifts the reputation guard (its routes are
	// added when set).
	Reputation *reputation.Service
	// Erasure erases people: POST /erasures is added when set, and
	// DELETE /profiles/{namespace}/{id} erases the person rather than
	// only the profile.
	Erasure *erasure.Service
	// FrequencyCaps shows and replaces the tenant's frequency caps (its
	// routes are added when set).
	FrequencyCaps *capping.Service
}

// Manage returns the handler of the management API. Each resource
// contributes its routes from a file of its own.
func Manage(d ManageDeps, log *slog.Logger, opts ...Option) HandlerFunc {
	rt := &router{log: log, routes: manageRoutes(d), known: apiRouteKeys(), access: d.Access}
	return rt.with(opts).serve
}

func manageRoutes(d ManageDeps) map[string]route {
	routes := map[string]route{}
	for _, group := range []map[string]route{
		campaignRoutes(d),
		profileRoutes(d),
		suppressionRoutes(d),
		unsubscribeRoutes(d),
		audienceRoutes(d),
		recurrenceRoutes(d),
		executionRoutes(d),
		webhookRoutes(d),
		reputationRoutes(d),
		erasureRoutes(d),
		cappingRoutes(d),
		openapiRoutes(),
		consoleRoutes(),
	} {
		maps.Copy(routes, group)
	}
	return routes
}
