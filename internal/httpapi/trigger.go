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

// Trigger returns the handler of the execution API (/im/*).
func Trigger(svc *execution.Unitary, acc Access, log *slog.Logger, opts ...Option) HandlerFunc {
	rt := triggerRouter(svc, acc, log)
	rt.known = apiRouteKeys()
	return rt.with(opts).serve
}

func triggerRouter(svc *execution.Unitary, acc Access, log *slog.Logger) *router {
	rt := &router{log: log, access: acc, routes: map[string]route{
		"POST /im/executions/unitary": {scopes: []auth.Scope{auth.ScopeTrigger}, maxBody: execution.MaxBodySize, namesRequest: true, group: ratelimit.Execution,
			trigger: "unitary",
			handle: func(ctx context.Context, r *request) (int, any, error) {
				req, err := execution.DecodeUnitary(r.body)
				if err != nil {
					return 0, nil, err // the report has the names scanned
				}
				r.report["requestId"] = req.RequestID
				r.report["campaignId"] = req.CampaignID
				if err := req.Validate(); err != nil {
					return 0, nil, err
				}
				resp, err := svc.Execute(ctx, r.tenant(), r.principal.KeyID, req)
				if err != nil {
					return 0, nil, err
				}
				return http.StatusAccepted, resp, nil
			}},
		"POST /im/executions/highthroughput": {scopes: []auth.Scope{auth.ScopeTrigger}, maxBody: execution.MaxBodySize, namesRequest: true,
			group: ratelimit.HighThroughput, trigger: "highthroughput",
			handle: func(ctx context.Context, r *request) (int, any, error) {
				req, err := execution.DecodeUnitary(r.body)
				if err != nil {
					return 0, nil, err
				}
				r.report["requestId"] = req.RequestID
				r.report["campaignId"] = req.CampaignID
				if err := req.ValidateHighThroughput(); err != nil {
					return 0, nil, err
				}
				resp, err := svc.ExecuteHighThroughput(ctx, r.tenant(), r.principal.KeyID, req)
				if err != nil {
					return 0, nil, err
				}
				return http.StatusAccepted, resp, nil
			}},
		"GET /im/health": {handle: func(context.Context, *request) (int, any, error) {
			return http.StatusOK, map[string]string{"status": "UP"}, nil
		}},
	}}
	maps.Copy(rt.routes, tokenRoutes(acc, log))
	return rt
}
