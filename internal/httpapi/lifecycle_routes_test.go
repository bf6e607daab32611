package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCampaignRoutesHonourETagsAndQueryParameters(t *testing.T) {
	f := newHarness(t)
	id := f.campaign(t, acme, campaignOpts{})
	get := event("GET /campaigns/{id}", "", acmeKey, idParam(id))
	resp, err := f.manage(t.Context(), get)
	if err != nil || resp.StatusCode != 200 || resp.Headers["ETag"] != `"1"` {
		t.Fatalf("GET = %d ETag %q", resp.StatusCode, resp.Headers["ETag"])
	}
	tests := []struct {
		name    string
		ifMatch string
		status  int
	}{
		{"a stale ETag is a 412", `"7"`, http.StatusPreconditionFailed},
		{"a tag that is not ours is a 412", `"abc"`, http.StatusPreconditionFailed},
		{"a weak form of the current ETag matches", `W/"1"`, http.StatusOK},
		{"a star matches", `*`, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := event("PATCH /campaigns/{id}", `{"description":"d"}`, acmeKey, idParam(id))
			ev.Headers["if-match"] = tt.ifMatch
			status, body := call(t, f.manage, ev)
			if status != tt.status {
				t.Errorf("PATCH If-Match %s = %d %s, want %d", tt.ifMatch, status, body, tt.status)
			}
			if status != 200 {
				errorBody(t, status, body)
			}
		})
	}
	ev := event("GET /campaigns", "", acmeKey, nil)
	ev.QueryStringParameters = map[string]string{"colour": "red", "status": "live"}
	status, body := call(t, f.manage, ev)
	if diff := cmp.Diff([]string{"colour"}, fieldNames(errorBody(t, status, body))); diff != "" || status != 400 {
		t.Errorf("unknown query parameter = %d (-want +got):\n%s", status, diff)
	}
	ev = event("DELETE /campaigns/{id}", "", acmeKey, idParam(id))
	if status, body := call(t, f.manage, ev); status != http.StatusNoContent || body != "" {
		t.Errorf("DELETE draft = %d %q, want 204 and no body", status, body)
	}
	if status, _ := call(t, f.manage, get); status != 404 {
		t.Errorf("GET after DELETE = %d, want 404", status)
	}
}
