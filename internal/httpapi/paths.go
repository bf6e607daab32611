package httpapi

import (
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/heraldhq/herald/internal/audience"
	"github.com/heraldhq/herald/internal/capping"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/erasure"
	"github.com/heraldhq/herald/internal/recurrence"
	"github.com/heraldhq/herald/internal/reputation"
	"github.com/heraldhq/herald/internal/status"
	"github.com/heraldhq/herald/internal/webhook"
)

// AJOBasePath is the base path of Adobe Journey Optimizer's API
// (https://platform.adobe.io/ajo): every route is served under it as well
// as under /, so an integration written for AJO only swaps the host.
//
// API Gateway reaches the functions through catch-all routes
// (template.yaml): Trigger declares its few /im routes and "ANY
// /ajo/im/{proxy+}"; Manage declares only "ANY /{proxy+}" (root and /ajo
// alike), its public /unsubscribe routes and $default. SAM adds one
// statement (about 400 bytes) to a function's resource policy per event,
// and Lambda caps the policy at 20 KB: a route per management path hit the
// cap at about fifty routes (aws/serverless-application-model#337).
// Those routes carry a routeKey the table does not hold, so the router
// matches the request's path against its table instead (resolve).
const AJOBasePath = "/ajo"

// resolve finds the route of a request whose routeKey is not in the
// table ($default or an /ajo catch-all): it strips AJOBasePath from the
// path, matches the rest against the table as API Gateway would (literal
// segments before {params}) and rewrites the event's routeKey and path
// parameters so the route sees what a direct route would have given it.
// A path no route has is a 404; a path some route has with another method
// is a 405, and allow lists the methods that path takes.
func (rt *router) resolve(r *request) (rte route, allow []string, err error) {
	method := r.event.RequestContext.HTTP.Method
	path := r.event.RawPath
	if path == "" {
		path = r.event.RequestContext.HTTP.Path
	}
	if rest, ok := strings.CutPrefix(path, AJOBasePath); ok && (rest == "" || rest[0] == '/') {
		path, r.basePath = rest, AJOBasePath
	}
	segs := splitPath(path)
	var best string
	var bestParams map[string]string
	var bestScore []int
	methods := map[string]bool{}
	for _, key := range rt.keys() {
		m, pattern, _ := strings.Cut(key, " ")
		params, score, ok := matchPath(splitPath(pattern), segs)
		if !ok {
			continue
		}
		methods[m] = true
		if _, mine := rt.routes[key]; !mine || m != method {
			continue
		}
		if best == "" || slices.Compare(score, bestScore) > 0 {
			best, bestParams, bestScore = key, params, score
		}
	}
	if best != "" {
		r.event.RouteKey = best
		r.event.RequestContext.RouteKey = best
		r.event.PathParameters = bestParams
		return rt.routes[best], nil, nil
	}
	if len(methods) == 0 || methods[method] {
		// methods[method]: the other function serves it, which API
		// Gateway would have routed there; say so as a 404 rather than
		// answer for it.
		return route{}, nil, derrors.New(derrors.NotFound, "no route for %s", safePath(path))
	}
	allow = slices.Sorted(maps.Keys(methods))
	return route{}, allow, derrors.New(derrors.MethodNotAllowed, "%s takes %s", safePath(path), strings.Join(allow, ", "))
}

// keys lists the route keys the router matches paths against: its own
// and, when known is set, those of the rest of the API.
func (rt *router) keys() []string {
	keys := slices.Collect(maps.Keys(rt.routes))
	for _, k := range rt.known {
		if _, ok := rt.routes[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// RouteKeys lists the route keys ("POST /im/executions/unitary") of
// every route of the API, sorted: the routes template.yaml must declare.
func RouteKeys() []string { return slices.Clone(apiRouteKeys()) }

// PublicRouteKeys lists, sorted, the route keys that take no credential.
func PublicRouteKeys() []string {
	var out []string
	for _, rt := range []*router{triggerRouter(nil, Access{}, nil), {routes: audienceExecutionRoutes(nil)}, {routes: allManageRoutes()}} {
		for k, r := range rt.routes {
			if r.scopes == nil {
				out = append(out, k)
			}
		}
	}
	slices.Sort(out)
	return out
}

// allManageRoutes is Manage's table with every optional group present.
func allManageRoutes() map[string]route {
	return manageRoutes(ManageDeps{
		Audiences: &audience.Service{}, Recurrences: &recurrence.Service{}, Executions: &status.Service{}, Webhooks: &webhook.Service{},
		Reputation: &reputation.Service{}, Erasure: &erasure.Service{}, FrequencyCaps: &capping.Service{},
	})
}

// routeKeys lists every route key of the API, Trigger's and Manage's,
// sorted: how a function answers 405 rather than 404 for a path another
// function serves. It is written out rather than built from the route
// tables, which would link every route's handler, and so every service,
// into every function; TestRouteKeysAreTheTables holds it to the tables.
var routeKeys = []string{
	"DELETE /audiences/{id}",
	"DELETE /audiences/{id}/members",
	"DELETE /campaigns/{id}",
	"DELETE /campaigns/{id}/recurrences/{recurrenceId}",
	"DELETE /channel-configurations/{id}",
	"DELETE /feedback-webhook",
	"DELETE /frequency-caps",
	"DELETE /im/executions/schedules/{scheduleId}",
	"DELETE /profiles/{namespace}/{id}",
	"DELETE /reputation/{channel}",
	"DELETE /suppressions/{channel}/{address}",
	"GET /audiences",
	"GET /audiences/{id}",
	"GET /audiences/{id}/members",
	"GET /campaigns",
	"GET /campaigns/{id}",
	"GET /campaigns/{id}/executions",
	"GET /campaigns/{id}/recurrences",
	"GET /campaigns/{id}/report",
	"GET /campaigns/{id}/request-sample",
	"GET /campaigns/{id}/versions",
	"GET /campaigns/{id}/versions/{number}",
	"GET /channel-configurations",
	"GET /channel-configurations/{id}",
	"GET /console/",
	"GET /console/{file}",
	"GET /executions/{executionId}",
	"GET /executions/{executionId}/recipients",
	"GET /executions/{executionId}/report",
	"GET /feedback-webhook",
	"GET /feedback-webhook/deliveries",
	"GET /frequency-caps",
	"GET /im/executions/audience/{executionId}",
	"GET /im/executions/schedules/{scheduleId}",
	"GET /im/health",
	"GET /openapi.json",
	"GET /profiles/{namespace}/{id}",
	"GET /reputation",
	"GET /suppressions",
	"GET /suppressions/{channel}/{address}",
	"GET /unsubscribe",
	"PATCH /campaigns/{id}",
	"PATCH /channel-configurations/{id}",
	"PATCH /feedback-webhook",
	"PATCH /profiles/{namespace}/{id}",
	"POST /audiences",
	"POST /audiences/{id}/members",
	"POST /campaigns",
	"POST /campaigns/{id}/activate",
	"POST /campaigns/{id}/archive",
	"POST /campaigns/{id}/duplicate",
	"POST /campaigns/{id}/preview",
	"POST /campaigns/{id}/promote",
	"POST /campaigns/{id}/proofs",
	"POST /campaigns/{id}/recurrences",
	"POST /campaigns/{id}/review",
	"POST /campaigns/{id}/stop",
	"POST /channel-configurations",
	"POST /erasures",
	"POST /executions/{executionId}/redrive",
	"POST /feedback-webhook",
	"POST /feedback-webhook/deliveries/redrive",
	"POST /im/executions/audience",
	"POST /im/executions/highthroughput",
	"POST /im/executions/unitary",
	"POST /ims/token/v3",
	"POST /profiles/batch",
	"POST /unsubscribe",
	"PUT /frequency-caps",
	"PUT /profiles/{namespace}/{id}",
	"PUT /suppressions/{channel}/{address}",
}

// apiRouteKeys returns routeKeys (callers must not modify it).
func apiRouteKeys() []string { return routeKeys }

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// matchPath matches path segments against a route's pattern segments
// ({name} matches one non-empty segment) and scores the match: a literal
// segment (2) is more specific than a parameter (1).
func matchPath(pattern, path []string) (map[string]string, []int, bool) {
	if len(pattern) != len(path) {
		return nil, nil, false
	}
	var params map[string]string
	score := make([]int, len(pattern))
	for i, ps := range pattern {
		if name, ok := strings.CutPrefix(ps, "{"); ok && strings.HasSuffix(name, "}") {
			if path[i] == "" {
				return nil, nil, false
			}
			v, err := url.PathUnescape(path[i])
			if err != nil {
				v = path[i]
			}
			if params == nil {
				params = map[string]string{}
			}
			params[strings.TrimSuffix(name, "}")] = v
			score[i] = 1
			continue
		}
		if ps != path[i] {
			return nil, nil, false
		}
		score[i] = 2
	}
	return params, score, true
}

// safePath bounds a path echoed in an error detail.
func safePath(p string) string {
	const max = 200
	p = strings.ToValidUTF8(p, "\uFFFD")
	if len(p) > max {
		return strings.ToValidUTF8(p[:max], "") + "…"
	}
	if p == "" {
		return "/"
	}
	return p
}
