package httpapi

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
)

// Every route of the API, Trigger's and Manage's, is reached under /ajo
// through the catch-all routes of template.yaml with the routeKey and path
// parameters a route of its own would have given it.
func TestEveryRouteIsServedUnderTheAJOBasePath(t *testing.T) {
	keys := apiRouteKeys()
	if len(keys) < 40 {
		t.Fatalf("apiRouteKeys() lists %d routes; the API has more (is a route table missing?)", len(keys))
	}
	var got events.APIGatewayV2HTTPRequest
	rt := &router{log: slog.New(slog.NewJSONHandler(io.Discard, nil)), routes: map[string]route{}}
	for _, k := range keys {
		rt.routes[k] = route{handle: func(_ context.Context, r *request) (int, any, error) {
			got = r.event
			return http.StatusOK, struct{}{}, nil
		}}
	}
	for _, key := range keys {
		method, pattern, _ := strings.Cut(key, " ")
		path, params := concretePath(pattern)
		catchAll := "ANY /ajo/{proxy+}" // Manage's
		if strings.HasPrefix(path, "/im/") {
			catchAll = "ANY /ajo/im/{proxy+}" // Trigger's
		}
		for _, via := range []struct{ name, routeKey, rawPath string }{
			{"/ajo", catchAll, AJOBasePath + path},
			{"/ through $default", "$default", path},
		} {
			t.Run(key+" under "+via.name, func(t *testing.T) {
				got = events.APIGatewayV2HTTPRequest{}
				ev := events.APIGatewayV2HTTPRequest{RouteKey: via.routeKey, RawPath: via.rawPath,
					RequestContext: events.APIGatewayV2HTTPRequestContext{RouteKey: via.routeKey,
						HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: via.rawPath}}}
				resp, _ := rt.serve(context.Background(), ev)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status %d, body %s", resp.StatusCode, resp.Body)
				}
				if got.RouteKey != key || got.RequestContext.RouteKey != key {
					t.Errorf("the route saw routeKey %q / %q, want %q", got.RouteKey, got.RequestContext.RouteKey, key)
				}
				if diff := cmp.Diff(params, got.PathParameters); diff != "" {
					t.Errorf("pathParameters (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// concretePath fills a route's {params} with values that need escaping,
// as a caller would send them, and returns the parameters API Gateway
// would decode.
func concretePath(pattern string) (string, map[string]string) {
	var params map[string]string
	segs := strings.Split(pattern, "/")
	for i, s := range segs {
		if name, ok := strings.CutPrefix(s, "{"); ok {
			name = strings.TrimSuffix(name, "}")
			if params == nil {
				params = map[string]string{}
			}
			params[name] = name + " 1@x"
			segs[i] = name + "%201@x"
		}
	}
	return strings.Join(segs, "/"), params
}

func TestAMoreSpecificRouteWins(t *testing.T) {
	rt := &router{log: slog.New(slog.NewJSONHandler(io.Discard, nil)), routes: map[string]route{}}
	var got string
	for _, k := range []string{"GET /profiles/{namespace}/{id}", "GET /profiles/batch/{id}", "GET /profiles/{namespace}/latest"} {
		rt.routes[k] = route{handle: func(_ context.Context, r *request) (int, any, error) {
			got = r.event.RouteKey
			return http.StatusOK, struct{}{}, nil
		}}
	}
	for path, want := range map[string]string{
		"/ajo/profiles/batch/7":      "GET /profiles/batch/{id}",
		"/ajo/profiles/email/latest": "GET /profiles/{namespace}/latest",
		"/ajo/profiles/email/7":      "GET /profiles/{namespace}/{id}",
	} {
		ev := events.APIGatewayV2HTTPRequest{RouteKey: "ANY /ajo/{proxy+}", RawPath: path,
			RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET"}}}
		if resp, _ := rt.serve(context.Background(), ev); resp.StatusCode != http.StatusOK || got != want {
			t.Errorf("%s: status %d, route %q, want %q", path, resp.StatusCode, got, want)
		}
	}
}

// routeKeys is written out so that no function links another's handlers;
// it must be exactly the keys of the route tables, Trigger's and
// Manage's, sorted.
func TestRouteKeysAreTheTables(t *testing.T) {
	keys := slices.Collect(maps.Keys(triggerRouter(nil, Access{}, nil).routes))
	keys = slices.AppendSeq(keys, maps.Keys(audienceExecutionRoutes(nil)))
	keys = slices.AppendSeq(keys, maps.Keys(allManageRoutes()))
	slices.Sort(keys)
	keys = slices.Compact(keys)
	if diff := cmp.Diff(keys, routeKeys); diff != "" {
		t.Errorf("routeKeys (-the tables +written):\n%s", diff)
	}
}
