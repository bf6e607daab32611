package httpapi_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"

	"github.com/heraldhq/herald/internal/openapi"
)

// The OpenAPI document is public, at the root and under /ajo, served as
// the embedded bytes with their ETag; a client holding the ETag gets a
// 304 with no body.
func TestTheOpenAPIDocumentIsServedWithoutACredential(t *testing.T) {
	f := newTriggerFixture(t)
	tests := []struct {
		name        string
		routeKey    string
		path        string
		ifNoneMatch string
		status      int
	}{
		{"at its route", "GET /openapi.json", "/openapi.json", "", http.StatusOK},
		{"through the catch-all", "ANY /{proxy+}", "/openapi.json", "", http.StatusOK},
		{"under /ajo", "ANY /ajo/{proxy+}", "/ajo/openapi.json", "", http.StatusOK},
		{"revalidated with its ETag", "GET /openapi.json", "/openapi.json", openapi.ETag(), http.StatusNotModified},
		{"revalidated with a weak ETag", "GET /openapi.json", "/openapi.json", "W/" + openapi.ETag(), http.StatusNotModified},
		{"revalidated with a stale ETag", "GET /openapi.json", "/openapi.json", `"stale"`, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := pathEvent(tt.routeKey, "GET", tt.path, "", nil)
			if tt.ifNoneMatch != "" {
				ev.Headers = map[string]string{"if-none-match": tt.ifNoneMatch}
			}
			resp, err := f.manage(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %.200s", resp.StatusCode, tt.status, resp.Body)
			}
			if resp.Headers["ETag"] != openapi.ETag() || resp.Headers["Cache-Control"] == "" {
				t.Errorf("ETag %q, Cache-Control %q", resp.Headers["ETag"], resp.Headers["Cache-Control"])
			}
			if tt.status == http.StatusNotModified {
				if resp.Body != "" {
					t.Errorf("a 304 with a body of %d bytes", len(resp.Body))
				}
				return
			}
			if ct := resp.Headers["Content-Type"]; ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if !bytes.Equal([]byte(resp.Body), openapi.Document()) {
				t.Error("the body is not the embedded document")
			}
		})
	}
}
