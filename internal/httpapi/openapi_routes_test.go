package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"io"
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

// A client that accepts gzip gets the embedded gzipped bytes (a fraction
// of the JSON), base64 for API Gateway, under their own ETag; they
// decompress to the document. One that refuses gzip gets the JSON.
func TestTheOpenAPIDocumentIsServedGzippedToClientsThatAcceptIt(t *testing.T) {
	f := newTriggerFixture(t)
	tests := []struct {
		acceptEncoding, ifNoneMatch string
		gzipped                     bool
		status                      int
	}{
		{"gzip, deflate, br", "", true, http.StatusOK},
		{"br;q=1.0, GZIP;q=0.5", "", true, http.StatusOK},
		{"*", "", true, http.StatusOK},
		{"identity", "", false, http.StatusOK},
		{"gzip;q=0, *", "", false, http.StatusOK},
		{"gzip;q=0", "", false, http.StatusOK},
		{"gzip", openapi.GzipETag(), true, http.StatusNotModified},
		{"gzip", openapi.ETag(), true, http.StatusOK}, // the JSON's tag is not the gzipped one's
		{"", openapi.GzipETag(), false, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.acceptEncoding+" "+tt.ifNoneMatch, func(t *testing.T) {
			ev := pathEvent("GET /openapi.json", "GET", "/openapi.json", "", nil)
			ev.Headers = map[string]string{"accept-encoding": tt.acceptEncoding, "if-none-match": tt.ifNoneMatch}
			resp, err := f.manage(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			wantTag := openapi.ETag()
			if tt.gzipped {
				wantTag = openapi.GzipETag()
			}
			if resp.Headers["ETag"] != wantTag || resp.Headers["Vary"] != "Accept-Encoding" {
				t.Errorf("ETag %q (want %q), Vary %q", resp.Headers["ETag"], wantTag, resp.Headers["Vary"])
			}
			if tt.status == http.StatusNotModified {
				return
			}
			body := []byte(resp.Body)
			if tt.gzipped {
				if resp.Headers["Content-Encoding"] != "gzip" || !resp.IsBase64Encoded {
					t.Fatalf("Content-Encoding %q, base64 %v: want gzip, base64", resp.Headers["Content-Encoding"], resp.IsBase64Encoded)
				}
				raw, err := base64.StdEncoding.DecodeString(resp.Body)
				if err != nil {
					t.Fatal(err)
				}
				if len(raw)*5 > len(openapi.Document()) {
					t.Errorf("%d gzipped bytes for a %d-byte document", len(raw), len(openapi.Document()))
				}
				zr, err := gzip.NewReader(bytes.NewReader(raw))
				if err != nil {
					t.Fatal(err)
				}
				if body, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			} else if resp.Headers["Content-Encoding"] != "" || resp.IsBase64Encoded {
				t.Errorf("Content-Encoding %q, base64 %v for a client that refuses gzip", resp.Headers["Content-Encoding"], resp.IsBase64Encoded)
			}
			if !bytes.Equal(body, openapi.Document()) {
				t.Error("the body is not the document")
			}
		})
	}
}
