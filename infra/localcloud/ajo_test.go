package localcloud

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/heraldhq/herald/internal/httpapi"
)

// templateGateway is the gateway of template.yaml with handlers that are
// never called: enough to ask which route a request reaches.
func templateGateway(t *testing.T) (*Stack, *Gateway) {
	t.Helper()
	s, err := LoadStack("../../template.yaml", StackOptions{MotoURL: "http://127.0.0.1:5000", Parameters: DefaultParameters})
	if err != nil {
		t.Fatal(err)
	}
	h := Handlers{HTTP: map[string]HTTPHandler{}}
	for _, r := range s.Routes {
		h.HTTP[r.Function] = func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			return events.APIGatewayV2HTTPResponse{}, nil
		}
	}
	g, err := NewGateway(s, h, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s, g
}

// publicRoutes take no key; every other route authenticates its caller in
// the function. The console's files are public: the page holds no data,
// and its API calls carry the signed-in person's token.
var publicRoutes = []string{"GET /console/", "GET /console/{file}", "GET /im/health", "GET /openapi.json", "GET /unsubscribe", "POST /ims/token/v3", "POST /unsubscribe"}

// servedBy is the function whose route table holds a route key.
func servedBy(key string) string {
	if _, path, _ := strings.Cut(key, " "); strings.HasPrefix(path, "/im/") || strings.HasPrefix(path, "/ims/") {
		return "TriggerFunction"
	}
	return "ManageFunction"
}

// The routes that take no credential are exactly the public ones: a route
// added without scopes would be open to anyone.
func TestOnlyThePublicRoutesTakeNoCredential(t *testing.T) {
	if got := httpapi.PublicRouteKeys(); !slices.Equal(got, publicRoutes) {
		t.Errorf("routes without scopes = %v, want %v", got, publicRoutes)
	}
}

// concrete fills a route pattern's parameters.
func concrete(pattern string) string {
	path := pattern
	for _, seg := range strings.Split(pattern, "/") {
		if strings.HasPrefix(seg, "{") {
			path = strings.Replace(path, seg, "p1", 1)
		}
	}
	return path
}

// Every route the handlers serve is reachable through the template, at the
// root and under AJO's base path /ajo, on the function that serves it,
// and with no Lambda authorizer in front (the functions authenticate; an
// authorizer would cost a second invocation per call and answer its own
// bare 401/403): API Gateway would otherwise answer it 404 or send it to
// the wrong function.
func TestEveryHandlerRouteIsReachableAtTheRootAndUnderAJO(t *testing.T) {
	_, g := templateGateway(t)
	keys := httpapi.RouteKeys()
	if len(keys) < 50 {
		t.Fatalf("only %d routes; the handlers serve more", len(keys))
	}
	for _, key := range keys {
		method, pattern, _ := strings.Cut(key, " ")
		for _, path := range []string{concrete(pattern), "/ajo" + concrete(pattern)} {
			got, _ := g.match(method, path)
			if got == nil || got.Function != servedBy(key) {
				t.Errorf("%s %s reaches %+v, want %s", method, path, got, servedBy(key))
				continue
			}
			if got.Authorizer != "" {
				t.Errorf("%s %s reaches route %s through the authorizer %s", method, path, got.Key(), got.Authorizer)
			}
		}
	}
}

// The template declares no route that no handler serves (it would be a 404
// from its function): every route but the catch-alls is one of the
// handlers' routes.
func TestTheTemplateDeclaresNoRouteTheHandlersLack(t *testing.T) {
	s, _ := templateGateway(t)
	keys := httpapi.RouteKeys()
	for _, r := range s.Routes {
		if r.Path == "$default" || strings.HasSuffix(r.Path, "{proxy+}") {
			continue
		}
		if !slices.Contains(keys, r.Key()) {
			t.Errorf("template.yaml declares %s, which no handler serves", r.Key())
		}
		if r.Function != servedBy(r.Key()) {
			t.Errorf("template.yaml sends %s to %s, want %s", r.Key(), r.Function, servedBy(r.Key()))
		}
	}
}

// What no handler route matches reaches Manage, which answers 404, or 405
// with Allow, in the error shape: unknown paths through its catch-all
// route, the root through $default.
func TestUnmatchedRequestsReachManage(t *testing.T) {
	_, g := templateGateway(t)
	for _, req := range []struct{ method, path string }{
		{"GET", "/nope"}, {"PUT", "/im/health"}, {"GET", "/im/executions/unitary"}, {"GET", "/"}, {"GET", "/ajox/im/health"},
		{"GET", "/ajo/im/nope"},
	} {
		got, _ := g.match(req.method, req.path)
		want := "ManageFunction"
		if strings.HasPrefix(req.path, "/ajo/im/") {
			want = "TriggerFunction" // its router answers for /ajo/im/*
		}
		if got == nil || got.Function != want {
			t.Errorf("%s %s reaches %+v, want %s", req.method, req.path, got, want)
		}
	}
}
