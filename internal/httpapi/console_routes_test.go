package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/heraldhq/herald/internal/console"
	"github.com/heraldhq/herald/internal/httpapi"
)

// consoleGet calls Manage as its catch-all route does, with no credential.
func consoleGet(t *testing.T, path string, headers map[string]string) events.APIGatewayV2HTTPResponse {
	t.Helper()
	h := httpapi.Manage(httpapi.ManageDeps{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ev := events.APIGatewayV2HTTPRequest{RouteKey: "ANY /{proxy+}", RawPath: path, Headers: headers}
	ev.RequestContext.HTTP.Method = http.MethodGet
	ev.RequestContext.HTTP.Path = path
	resp, err := h(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// The console is served without a credential, with its headers; an
// unchanged file is a 304; an unknown one a 404; /console redirects to
// /console/ (the page's modules are relative to it), under /ajo too.
func TestTheConsoleIsServedWithoutACredential(t *testing.T) {
	index, _ := console.Lookup(console.Index)
	for _, tc := range []struct {
		name, path, ifNoneMatch string
		status                  int
		header, value           string
	}{
		{"the page", "/console/", "", 200, "Content-Type", "text/html; charset=utf-8"},
		{"a script", "/console/app.js", "", 200, "Content-Type", "text/javascript; charset=utf-8"},
		{"the page under /ajo", "/ajo/console/", "", 200, "Content-Security-Policy", console.CSP},
		{"an unchanged page", "/console/", index.ETag, 304, "ETag", index.ETag},
		{"an unknown file", "/console/nope.js", "", 404, "Content-Type", "application/json"},
		{"a nested path", "/console/a/b.js", "", 404, "Content-Type", "application/json"},
		{"the page without its slash", "/console", "", 308, "Location", "/console/"},
		{"the page without its slash under /ajo", "/ajo/console", "", 308, "Location", "/ajo/console/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{}
			if tc.ifNoneMatch != "" {
				h["if-none-match"] = tc.ifNoneMatch
			}
			resp := consoleGet(t, tc.path, h)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, resp.Body)
			}
			if got := resp.Headers[tc.header]; got != tc.value {
				t.Errorf("%s = %q, want %q", tc.header, got, tc.value)
			}
			if tc.status == 200 && resp.Headers["X-Content-Type-Options"] != "nosniff" {
				t.Errorf("no nosniff: %v", resp.Headers)
			}
		})
	}
}
