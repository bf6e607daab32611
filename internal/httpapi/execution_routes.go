package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/status"
)

// executionReadScopes may read what happened to an execution: whoever
// can trigger, manage or read.
var executionReadScopes = []auth.Scope{auth.ScopeTrigger, auth.ScopeManage, auth.ScopeRead}

// executionRoutes report on executions of every kind (unitary, audience,
// proof) and redrive their parked jobs: Herald's extension beside AJO's
// audience status route.
func executionRoutes(d ManageDeps) map[string]route {
	if d.Executions == nil {
		return nil
	}
	return map[string]route{
		"GET /executions/{executionId}": {scopes: executionReadScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				st, err := d.Executions.Get(ctx, r.tenant(), r.param("executionId"))
				return http.StatusOK, st, err
			}},
		"GET /executions/{executionId}/recipients": {scopes: executionReadScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				q := r.event.QueryStringParameters
				limit, err := status.ParseLimit(q["limit"])
				if err != nil {
					return 0, nil, err
				}
				p, err := d.Executions.Recipients(ctx, r.tenant(), r.param("executionId"),
					status.Query{Outcome: q["outcome"], Cursor: q["cursor"], Limit: limit})
				return http.StatusOK, p, err
			}},
		"GET /campaigns/{id}/executions": {scopes: executionReadScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				r.report["campaignId"] = r.param("id")
				q := r.event.QueryStringParameters
				limit, err := status.ParseLimit(q["limit"])
				if err != nil {
					return 0, nil, err
				}
				l, err := d.Executions.ByCampaign(ctx, r.tenant(), r.param("id"), q["cursor"], limit)
				return http.StatusOK, l, err
			}},
		"GET /executions/{executionId}/report": {scopes: executionReadScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				rep, err := d.Executions.ExecutionReport(ctx, r.tenant(), r.param("executionId"))
				return http.StatusOK, rep, err
			}},
		"GET /campaigns/{id}/report": {scopes: executionReadScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				r.report["campaignId"] = r.param("id")
				rep, err := d.Executions.CampaignReport(ctx, r.tenant(), r.param("id"), time.Now())
				return http.StatusOK, rep, err
			}},
		"POST /executions/{executionId}/redrive": {scopes: manageScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				res, err := d.Executions.Redrive(ctx, r.tenant(), r.param("executionId"))
				return http.StatusOK, res, err
			}},
	}
}
