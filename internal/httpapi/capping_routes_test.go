package httpapi_test

import (
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/capping"
	"github.com/heraldhq/herald/internal/httpapi"
	"github.com/heraldhq/herald/internal/memory"
)

func TestTheFrequencyCapRoutes(t *testing.T) {
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	svc := &capping.Service{Store: memory.New(), Now: func() time.Time { return now }}
	h := httpapi.Manage(httpapi.ManageDeps{Access: testAccess, FrequencyCaps: svc}, slog.New(slog.DiscardHandler))
	readKey := authorized(acme, "hk_read", "read")
	get := func(t *testing.T) string {
		t.Helper()
		status, body := call(t, h, event("GET /frequency-caps", "", readKey, nil))
		if status != 200 {
			t.Fatalf("GET /frequency-caps = %d %s", status, body)
		}
		return body
	}
	if body := get(t); body != `{"rules":[]}` {
		t.Errorf("GET of a tenant without rules = %s, want no rules", body)
	}
	put := `{"rules":[{"channel":"email","limit":3,"window":"rolling7d"},{"channel":"sms","limit":1,"window":"rolling24h"}]}`
	if status, body := call(t, h, event("PUT /frequency-caps", put, readKey, nil)); status != 403 {
		t.Errorf("PUT with a read key = %d %s, want 403", status, body)
	}
	if status, body := call(t, h, event("PUT /frequency-caps", put, acmeKey, nil)); status != 200 {
		t.Fatalf("PUT /frequency-caps = %d %s", status, body)
	}
	want := `{"rules":[{"channel":"email","limit":3,"window":"rolling7d"},{"channel":"sms","limit":1,"window":"rolling24h"}],"updatedAt":"2026-11-30T10:00:00Z"}`
	if body := get(t); body != want {
		t.Errorf("GET after PUT = %s, want %s", body, want)
	}
	// What GET shows can be sent back as it is.
	if status, body := call(t, h, event("PUT /frequency-caps", want, acmeKey, nil)); status != 200 {
		t.Errorf("PUT of what GET showed = %d %s, want 200", status, body)
	}

	for _, c := range []struct {
		name, body string
		fields     []string
	}{
		{"bad rules name their fields", `{"rules":[{"channel":"fax","limit":0,"window":"rolling7d"},{"channel":"email","limit":2,"window":"weekly"}]}`,
			[]string{"rules[0].channel", "rules[0].limit", "rules[1].window"}},
		{"two rules of one channel and window", `{"rules":[{"channel":"sms","limit":1,"window":"rolling7d"},{"channel":"sms","limit":2,"window":"rolling7d"}]}`,
			[]string{"rules[1].window"}},
		{"rules are required", `{}`, []string{"rules"}},
		{"an unknown member", `{"rules":[],"max":3}`, []string{"max"}},
	} {
		status, body := call(t, h, event("PUT /frequency-caps", c.body, acmeKey, nil))
		var e struct {
			Type   string
			Errors []struct{ Field string }
		}
		_ = json.Unmarshal([]byte(body), &e)
		var fields []string
		for _, f := range e.Errors {
			fields = append(fields, f.Field)
		}
		if status != 400 || cmp.Diff(c.fields, fields) != "" {
			t.Errorf("%s: PUT = %d %s, want 400 naming %v", c.name, status, body, c.fields)
		}
	}
	if body := get(t); body != want {
		t.Errorf("GET after refused PUTs = %s, want the rules unchanged", body)
	}
	if status, body := call(t, h, event("DELETE /frequency-caps", "", acmeKey, nil)); status != 204 {
		t.Errorf("DELETE /frequency-caps = %d %s, want 204", status, body)
	}
	if body := get(t); body != `{"rules":[]}` {
		t.Errorf("GET after DELETE = %s, want no rules", body)
	}
}
