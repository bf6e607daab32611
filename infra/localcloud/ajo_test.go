package localcloud

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

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
	h := Handlers{HTTP: map[string]HTTPHandler{}, Authorizers: map[string]AuthorizerHandler{}}
	for _, r := range s.Routes {
		h.HTTP[r.Function] = func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			return events.APIGatewayV2HTTPResponse{}, nil
		}
		if r.Authorizer != "" {
			h.Authorizers[r.Authorizer] = func(context.Context, events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
				return events.APIGatewayV2CustomAuthorizerSimpleResponse{}, nil
			}
		}
	}
	g, err := NewGateway(s, h, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s, g
}

// Every route of template.yaml is also served under AJO's base path /ajo,
// by the same function and, where the route has one, the same authorizer.
func TestEveryTemplateRouteIsServedUnderAJO(t *testing.T) {
	s, g := templateGateway(t)
	n := 0
	for _, r := range s.Routes {
		if r.Path == "$default" || strings.HasPrefix(r.Path, "/ajo/") {
			continue
		}
		n++
		path := r.Path
		for _, seg := range strings.Split(r.Path, "/") {
			if strings.HasPrefix(seg, "{") {
				path = strings.Replace(path, seg, "p1", 1)
			}
		}
		t.Run(r.Key(), func(t *testing.T) {
			got, _ := g.match(r.Method, "/ajo"+path)
			if got == nil || got.Function != r.Function {
				t.Fatalf("%s /ajo%s reaches %+v, want %s", r.Method, path, got, r.Function)
			}
			if !strings.HasPrefix(got.Path, "/ajo/") {
				t.Errorf("%s /ajo%s reaches route %s, want an /ajo route", r.Method, path, got.Key())
			}
			if r.Authorizer != "" && got.Authorizer != r.Authorizer {
				t.Errorf("%s /ajo%s runs authorizer %q, want %q as at the root", r.Method, path, got.Authorizer, r.Authorizer)
			}
		})
	}
	if n < 40 {
		t.Errorf("only %d routes checked; the template has more", n)
	}
}

// What no route matches reaches Manage's $default route, without the
// authorizer: Manage answers 404, or 405 with Allow, in the error shape.
func TestUnmatchedRequestsReachTheDefaultRoute(t *testing.T) {
	_, g := templateGateway(t)
	for _, req := range []struct{ method, path string }{
		{"GET", "/nope"}, {"PUT", "/im/health"}, {"GET", "/im/executions/unitary"}, {"GET", "/"}, {"GET", "/ajox/im/health"},
	} {
		got, _ := g.match(req.method, req.path)
		if got == nil || got.Path != "$default" || got.Function != "ManageFunction" || got.Authorizer != "" {
			t.Errorf("%s %s reaches %+v, want ManageFunction's $default route without authorizer", req.method, req.path, got)
		}
	}
}

// The template declares exactly the routes the handlers serve: a route
// only in the template would be a 404 from its function, and one only in
// a route table would be reachable under /ajo but not at the root.
func TestTheTemplateDeclaresEveryRouteTheHandlersServe(t *testing.T) {
	s, _ := templateGateway(t)
	var declared []string
	for _, r := range s.Routes {
		if r.Path != "$default" && !strings.HasPrefix(r.Path, "/ajo/") {
			declared = append(declared, r.Key())
		}
	}
	slices.Sort(declared)
	if diff := cmp.Diff(httpapi.RouteKeys(), declared); diff != "" {
		t.Errorf("template.yaml routes (-handlers +template):\n%s", diff)
	}
}
