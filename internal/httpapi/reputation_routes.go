package httpapi

import (
	"context"
	"net/http"

	"github.com/heraldhq/herald/internal/campaign"
)

// reputationRoutes show the tenant's reputation guard (each watched
// channel's window, rates, thresholds and pause) and lift a pause.
func reputationRoutes(d ManageDeps) map[string]route {
	if d.Reputation == nil {
		return nil
	}
	return map[string]route{
		"GET /reputation": {scopes: readScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				list, err := d.Reputation.List(ctx, r.tenant())
				return http.StatusOK, map[string]any{"channels": list}, err
			}},
		"DELETE /reputation/{channel}": {scopes: manageScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				st, err := d.Reputation.Lift(ctx, r.tenant(), campaign.Channel(r.param("channel")))
				return http.StatusOK, st, err
			}},
	}
}
