package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/heraldhq/herald/internal/httpapi"
)

// pathEvent is a request as API Gateway delivers it through a catch-all
// route (routeKey "ANY /ajo/{proxy+}", "$default"): the route is known
// only by the method and the raw path.
func pathEvent(routeKey, method, rawPath, body string, lambda map[string]any) events.APIGatewayV2HTTPRequest {
	ev := event(routeKey, body, lambda, nil)
	ev.RawPath = rawPath
	ev.RequestContext.HTTP = events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: rawPath}
	if strings.HasPrefix(routeKey, "ANY /ajo/") {
		ev.PathParameters = map[string]string{"proxy": strings.TrimPrefix(rawPath, "/ajo/")}
	}
	return ev
}

// An integration written for AJO only swaps the host:
// https://platform.adobe.io/ajo/im/executions/unitary is answered as
// /im/executions/unitary is.
func TestTheAJOBasePathAnswersAsTheRoot(t *testing.T) {
	f := newTriggerFixture(t)
	valid := func(id string) string { return mustJSON(t, unitary(id, f.live, external("a@example.com"))) }
	tests := []struct {
		name    string
		handler httpapi.HandlerFunc
		direct  events.APIGatewayV2HTTPRequest
		ajo     events.APIGatewayV2HTTPRequest
	}{
		{"a unitary execution is accepted", f.trigger,
			event(unitaryRoute, valid("req-1"), acmeKey, nil),
			pathEvent("ANY /ajo/im/{proxy+}", "POST", "/ajo/im/executions/unitary", valid("req-1"), acmeKey)},
		{"a bad unitary execution is refused alike", f.trigger,
			event(unitaryRoute, mustJSON(t, unitary("req-2", f.live)), acmeKey, nil),
			pathEvent("ANY /ajo/im/{proxy+}", "POST", "/ajo/im/executions/unitary", mustJSON(t, unitary("req-2", f.live)), acmeKey)},
		{"a missing credential is a 401 alike", f.trigger,
			event(unitaryRoute, valid("req-3"), nil, nil),
			pathEvent("ANY /ajo/im/{proxy+}", "POST", "/ajo/im/executions/unitary", valid("req-3"), nil)},
		{"health needs no credential", f.trigger,
			event("GET /im/health", "", nil, nil),
			pathEvent("ANY /ajo/im/{proxy+}", "GET", "/ajo/im/health", "", nil)},
		{"a campaign is read with its path parameter", f.manage,
			event("GET /campaigns/{id}", "", acmeKey, idParam(f.live)),
			pathEvent("ANY /ajo/{proxy+}", "GET", "/ajo/campaigns/"+f.live, "", acmeKey)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantStatus, want := call(t, tt.handler, tt.direct)
			status, got := call(t, tt.handler, tt.ajo)
			if status != wantStatus {
				t.Fatalf("under /ajo: status %d %s; at the root: %d %s", status, got, wantStatus, want)
			}
			if diff := diffJSON(t, want, got); diff != "" {
				t.Errorf("the answer under /ajo differs from the root's (-root +ajo):\n%s", diff)
			}
		})
	}
	if n := f.store.Executions(); n != 1 {
		t.Errorf("%d executions stored; the /ajo call should have replayed the root's (same requestId)", n)
	}
}

// What no route matches reaches the $default route (or a catch-all) and
// is answered in the error shape of every other answer, not API Gateway's
// bare {"message":"Not Found"}: a 404 for an unknown path, a 405 with
// Allow for a known path with another method, whichever function serves it.
func TestUnknownPathsAndMethodsAreAnsweredInTheErrorShape(t *testing.T) {
	f := newTriggerFixture(t)
	tests := []struct {
		name     string
		handler  httpapi.HandlerFunc
		routeKey string
		method   string
		path     string
		lambda   map[string]any
		status   int
		allow    string
	}{
		{"an unknown path is a 404", f.manage, "$default", "GET", "/nope", nil, 404, ""},
		{"an unknown path is a 404 with a credential too", f.manage, "$default", "POST", "/campaigns/c-1/launch", acmeKey, 404, ""},
		{"the root is a 404", f.manage, "$default", "GET", "/", nil, 404, ""},
		{"an unknown path under /ajo is a 404", f.manage, "ANY /ajo/{proxy+}", "GET", "/ajo/nope", acmeKey, 404, ""},
		{"an unknown execution route under /ajo is a 404", f.trigger, "ANY /ajo/im/{proxy+}", "POST", "/ajo/im/executions/bulk", acmeKey, 404, ""},
		{"the high-throughput route is served under /ajo too", f.trigger, "ANY /ajo/im/{proxy+}", "POST", "/ajo/im/executions/highthroughput", acmeKey, 400, ""},
		{"a path near /ajo is not under it", f.manage, "$default", "GET", "/ajox/im/health", nil, 404, ""},
		{"another method on a Trigger path is a 405 from Manage's $default", f.manage, "$default", "PUT", "/im/health", nil, 405, "GET"},
		{"another method on unitary is a 405", f.manage, "$default", "GET", "/im/executions/unitary", nil, 405, "POST"},
		{"another method under /ajo/im is a 405", f.trigger, "ANY /ajo/im/{proxy+}", "DELETE", "/ajo/im/executions/unitary", acmeKey, 405, "POST"},
		{"a 405 lists every method the path takes", f.manage, "$default", "POST", "/campaigns/c-1", nil, 405, "DELETE, GET, PATCH"},
		{"another method under /ajo is a 405", f.manage, "ANY /ajo/{proxy+}", "PUT", "/ajo/campaigns/c-1/activate", acmeKey, 405, "POST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := tt.handler(context.Background(), pathEvent(tt.routeKey, tt.method, tt.path, "", tt.lambda))
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.status, resp.Body)
			}
			e := errorBody(t, resp.StatusCode, resp.Body)
			if tt.status == 404 && e.Type != httpapi.ErrorTypeBase+"not-found" || tt.status == 405 && e.Type != httpapi.ErrorTypeBase+"method-not-allowed" {
				t.Errorf("type %q", e.Type)
			}
			if got := resp.Headers["Allow"]; got != tt.allow {
				t.Errorf("Allow = %q, want %q", got, tt.allow)
			}
			if ct := resp.Headers["Content-Type"]; ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
}
