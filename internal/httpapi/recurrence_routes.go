package httpapi

import (
	"context"
	"net/http"

	"github.com/heraldhq/herald/internal/recurrence"
)

// recurrenceRoutes are a campaign's recurring executions.
func recurrenceRoutes(d ManageDeps) map[string]route {
	if d.Recurrences == nil {
		return nil
	}
	rs := d.Recurrences
	return map[string]route{
		"POST /campaigns/{id}/recurrences": {scopes: manageScopes, maxBody: maxManageBody,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				r.report["campaignId"] = r.param("id")
				var in recurrence.Input
				if err := decodeJSON(r.body, &in); err != nil {
					return 0, nil, err
				}
				out, err := rs.Create(ctx, r.tenant(), r.param("id"), in)
				return http.StatusCreated, out, err
			}},
		"GET /campaigns/{id}/recurrences": {scopes: readScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				r.report["campaignId"] = r.param("id")
				out, err := rs.List(ctx, r.tenant(), r.param("id"))
				return http.StatusOK, map[string]any{"recurrences": out}, err
			}},
		"DELETE /campaigns/{id}/recurrences/{recurrenceId}": {scopes: manageScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				r.report["campaignId"] = r.param("id")
				return http.StatusOK, struct{}{}, rs.Delete(ctx, r.tenant(), r.param("id"), r.param("recurrenceId"))
			}},
	}
}
