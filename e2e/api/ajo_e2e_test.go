package api_test

import (
	"encoding/json"
	"net/http"
	"testing"
)

// An integration written for AJO swaps only the host and keeps its base
// path /ajo; what no route matches is answered in Herald's error shape,
// not API Gateway's {"message":"Not Found"}.
func TestTheAJOBasePathAndUnknownRoutesThroughTheGateway(t *testing.T) {
	f := newFixture(t, false)
	status, body := do(t, "POST", "/ajo/im/executions/unitary", f.Headers(), f.unitary("ajo-1",
		map[string]any{"type": "external", "namespace": "email", "userId": "ajo@example.com",
			"channelData": map[string]any{"emailAddress": "ajo@example.com"}, "context": orderContext("J-1")}))
	if status != http.StatusAccepted {
		t.Fatalf("POST /ajo/im/executions/unitary = %d %s, want 202", status, body)
	}
	drain(t)
	if got := sentTo(t, "ajo@example.com"); len(got) != 1 {
		t.Errorf("%d emails sent to ajo@example.com, want 1", len(got))
	}
	if status, body := do(t, "GET", "/ajo/campaigns/"+f.campaignID, f.Headers(), nil); status != http.StatusOK {
		t.Errorf("GET /ajo/campaigns/{id} = %d %s", status, body)
	}
	var sample struct{ URL string }
	f.mustDo("GET", "/ajo/campaigns/"+f.campaignID+"/request-sample", nil, 200, &sample)
	if want := cloud.URL + "/ajo/im/executions/unitary"; sample.URL != want {
		t.Errorf("a request sample read under /ajo has URL %q, want %q (the base the caller uses)", sample.URL, want)
	}
	if status, body := do(t, "GET", "/ajo/im/health", nil, nil); status != http.StatusOK {
		t.Errorf("GET /ajo/im/health without a key = %d %s", status, body)
	}

	for _, tt := range []struct {
		name, method, path string
		headers            map[string]string
		status             int
		allow              string
	}{
		{"an unknown path without a key is a 404", "GET", "/nope", nil, 404, ""},
		{"an unknown path under /ajo is a 404", "GET", "/ajo/nope", f.Headers(), 404, ""},
		{"another method on a Trigger path is a 405", "PUT", "/im/health", nil, 405, "GET"},
		{"another method on a Manage path is a 405", "PUT", "/campaigns/" + f.campaignID, f.Headers(), 405, "DELETE, GET, PATCH"},
		{"another method under /ajo is a 405", "GET", "/ajo/im/executions/unitary", f.Headers(), 405, "POST"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, h, body, err := cloud.Call(tt.method, tt.path, tt.headers, nil)
			if err != nil {
				t.Fatal(err)
			}
			if status != tt.status || h.Get("Allow") != tt.allow {
				t.Fatalf("%s %s = %d (Allow %q) %s, want %d (Allow %q)", tt.method, tt.path, status, h.Get("Allow"), body, tt.status, tt.allow)
			}
			var e struct {
				Type   string `json:"type"`
				Status int    `json:"status"`
				Report *struct {
					AdditionalContext map[string]string `json:"additionalContext"`
				} `json:"report"`
			}
			if err := json.Unmarshal(body, &e); err != nil || e.Type == "" || e.Status != tt.status || e.Report == nil {
				t.Errorf("body %s is not the error shape (%v)", body, err)
			}
		})
	}
}
