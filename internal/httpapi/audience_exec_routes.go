package httpapi

import (
	"context"
	"log/slog"
	"maps"
	"net/http"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/ratelimit"
)

var (
	triggerScopes    = []auth.Scope{auth.ScopeTrigger}
	triggerReadScope = []auth.Scope{auth.ScopeTrigger, auth.ScopeRead, auth.ScopeManage}
)

// TriggerWithAudiences returns the Trigger function's HTTP handler: the
// unitary API plus audience executions and their schedules.
func TriggerWithAudiences(svc *execution.Unitary, aud *execution.AudienceExecutions, acc Access, log *slog.Logger, opts ...Option) HandlerFunc {
	rt := triggerRouter(svc, acc, log)
	rt.known = apiRouteKeys()
	maps.Copy(rt.routes, audienceExecutionRoutes(aud))
	return rt.with(opts).serve
}

// audienceExecutionRoutes are the AJO audience execution routes.
func audienceExecutionRoutes(aud *execution.AudienceExecutions) map[string]route {
	return map[string]route{
		"POST /im/executions/audience": {scopes: triggerScopes, maxBody: execution.MaxBodySize, namesRequest: true, group: ratelimit.Execution,
			trigger: "audience",
			handle: func(ctx context.Context, r *request) (int, any, error) {
				req, err := decodeAudienceRequest(r.body, r.report)
				if err != nil {
					return 0, nil, err
				}
				resp, err := aud.Start(ctx, r.tenant(), r.principal.KeyID, req)
				return http.StatusAccepted, resp, err
			}},
		"GET /im/executions/audience/{executionId}": {scopes: triggerReadScope, group: ratelimit.Execution,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				st, err := aud.Status(ctx, r.tenant(), r.param("executionId"))
				return http.StatusOK, st, err
			}},
		"GET /im/executions/schedules/{scheduleId}": {scopes: triggerReadScope, group: ratelimit.Execution,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				st, err := aud.GetSchedule(ctx, r.tenant(), r.param("scheduleId"))
				return http.StatusOK, st, err
			}},
		"DELETE /im/executions/schedules/{scheduleId}": {scopes: triggerScopes, group: ratelimit.Execution,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				err := aud.CancelSchedule(ctx, r.tenant(), r.param("scheduleId"))
				return http.StatusOK, struct{}{}, err
			}},
	}
}

// decodeAudienceRequest decodes and validates an audience execution body
// (unknown fields are ignored, as AJO does), naming the request in the
// error report (the router has scanned the names already in case the body
// does not decode).
func decodeAudienceRequest(body []byte, report map[string]string) (execution.AudienceRequest, error) {
	req, err := execution.DecodeAudience(body)
	if err != nil {
		return req, err
	}
	report["requestId"] = req.RequestID
	report["campaignId"] = req.CampaignID
	return req, req.Validate()
}
