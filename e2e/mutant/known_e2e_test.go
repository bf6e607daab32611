package mutant_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/infra/mutant"
)

// The requests that were 500s on main (issue 10), and their kin, on the
// real store: each is a 4xx in the documented shape and writes nothing.
func TestKnownBadInputIsRefusedOnMoto(t *testing.T) {
	env, err := newTenant()
	if err != nil {
		t.Fatal(err)
	}
	fx, err := mutant.NewFixture(env.Call, time.Now(), env.Values)
	if err != nil {
		t.Fatal(err)
	}
	put := func(body string) mutant.Request {
		return mutant.Request{Route: "PUT /profiles/{namespace}/{id}", Params: map[string]string{"namespace": "crmId", "id": "k-1"}, Body: json.RawMessage(body)}
	}
	long := strings.Repeat("x", 3000)
	deep := strings.Repeat(`{"n":`, 40) + `1` + strings.Repeat(`}`, 40)
	tests := []struct {
		name   string
		req    mutant.Request
		status int
	}{
		{"an empty attribute key", put(`{"attributes":{"":1}}`), 400},
		{"an empty nested attribute key", put(`{"attributes":{"a":[{"":1}]}}`), 400},
		{"1e308", put(`{"attributes":{"n":1e308}}`), 400},
		{"1e-131", put(`{"attributes":{"n":1e-131}}`), 400},
		{"39 significant digits", put(`{"attributes":{"n":123456789012345678901234567890123456789}}`), 400},
		{"attributes nested 40 deep", put(`{"attributes":{"d":` + deep + `}}`), 400},
		{"a lone surrogate", put(`{"attributes":{"s":"\ud800"}}`), 400},
		{"invalid UTF-8", put("{\"attributes\":{\"s\":\"\xff\"}}"), 400},
		{"a batch of bad numbers", mutant.Request{Route: "POST /profiles/batch",
			Body: json.RawMessage(`{"profiles":[{"namespace":"crmId","id":"k-2","attributes":{"n":1e308}}]}`)}, 200},
		{"a campaign id of 3000 bytes", mutant.Request{Route: "GET /campaigns/{id}", Params: map[string]string{"id": long}}, 400},
		{"a configuration id of 3000 bytes", mutant.Request{Route: "GET /channel-configurations/{id}", Params: map[string]string{"id": long}}, 400},
		{"an audience id of 3000 bytes", mutant.Request{Route: "GET /audiences/{id}/members", Params: map[string]string{"id": long}}, 400},
		{"an execution id of 3000 bytes", mutant.Request{Route: "GET /im/executions/audience/{executionId}", Params: map[string]string{"executionId": long}}, 400},
		{"a suppressed address of 3000 bytes", mutant.Request{Route: "PUT /suppressions/{channel}/{address}",
			Params: map[string]string{"channel": "email", "address": long + "@example.com"}}, 400},
		{"a recurrence context of 1e400", mutant.Request{Route: "POST /campaigns/{id}/recurrences", Params: map[string]string{"id": "$market"},
			Body: json.RawMessage(`{"expression":"rate(1 day)","context":{"n":1e400}}`)}, 201},
		{"a recurrence context of 190 KB of markup", mutant.Request{Route: "POST /campaigns/{id}/recurrences", Params: map[string]string{"id": "$market"},
			Body: json.RawMessage(`{"expression":"rate(1 day)","context":{"html":"` + strings.Repeat("<", 190<<10) + `"}}`)}, 201},
		{"an audience execution context of 190 KB of markup", mutant.Request{Route: "POST /im/executions/audience",
			Body: json.RawMessage(`{"requestId":"$requestId","campaignId":"$market","context":{"html":"` + strings.Repeat("&", 190<<10) + `"}}`)}, 202},
		{"a cursor that is not one of ours", mutant.Request{Route: "GET /campaigns", Query: map[string]string{"cursor": "eyJwayI6IlQjb3RoZXIjcHJvZCJ9"}}, 400},
		{"a members cursor that is not one of ours", mutant.Request{Route: "GET /audiences/{id}/members", Params: map[string]string{"id": "$audience"},
			Query: map[string]string{"cursor": "!!!"}}, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is answered "+http.StatusText(tt.status), func(t *testing.T) {
			before, _ := wire.state()
			status, body, err := env.Call(fx.Bind(tt.req))
			if err != nil {
				t.Fatal(err)
			}
			if status != tt.status {
				t.Errorf("status = %d, want %d; body %.400s", status, tt.status, body)
			}
			if after, _ := wire.state(); status >= 400 && after != before {
				t.Errorf("refused, yet something was written (%s → %s)", before, after)
			}
		})
	}
}
