package httpapi_test

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/contextschema"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/httpapi"
)

// A decode error names the field by its path, and the error report names
// the request, whatever the status and however early the error is found.
func TestErrorsNameTheFieldAndTheRequest(t *testing.T) {
	f := newTriggerFixture(t)
	svc := &execution.Unitary{Schemas: contextschema.Compiler{}, Store: f.store, Campaigns: f.store, Profiles: f.store, Queue: f.queue, Now: func() time.Time { return now }}
	aud := &execution.AudienceExecutions{Schemas: contextschema.Compiler{}, Records: f.store, Executions: f.store, Campaigns: f.store, Members: f.store, Pacer: f.store, Queue: f.queue, Now: func() time.Time { return now }}
	trigger := httpapi.TriggerWithAudiences(svc, aud, testAccess, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	const audienceRoute = "POST /im/executions/audience"
	both := map[string]string{"requestId": "req-9", "campaignId": "c-9"}
	tests := []struct {
		name    string
		route   string
		body    string
		lambda  map[string]any
		status  int
		fields  []string
		context map[string]string
	}{
		{name: "a malformed schedule.executeAt is named, the request reported though its names come after",
			route: audienceRoute, body: `{"schedule":{"executeAt":"tomorrow"},"requestId":"req-9","campaignId":"c-9"}`,
			status: 400, fields: []string{"schedule.executeAt"}, context: both},
		{name: "an executeAt of the wrong type is named",
			route: audienceRoute, body: `{"requestId":"req-9","campaignId":"c-9","schedule":{"executeAt":17}}`,
			status: 400, fields: []string{"schedule.executeAt"}, context: both},
		{name: "every wrong value is named by its full path, array index included",
			route: unitaryRoute, body: `{"requestId":"req-9","campaignId":"c-9","recipients":[{"type":"external","userId":"a"},{"type":"external","userId":7,"profile":[]}]}`,
			status: 400, fields: []string{"recipients[1].profile", "recipients[1].userId"}, context: both},
		{name: "names are matched as the decoder matches them",
			route: unitaryRoute, body: `{"RequestId":"req-9","CAMPAIGNID":"c-9","recipients":"all"}`,
			status: 400, fields: []string{"recipients"}, context: both},
		{name: "malformed JSON reports the names read before it",
			route: audienceRoute, body: `{"requestId":"req-9","campaignId":"c-9","schedule":{`,
			status: 400, fields: []string{"body"}, context: both},
		{name: "names of another type are not reported",
			route: audienceRoute, body: `{"requestId":9,"campaignId":{"id":"c-9"}}`,
			status: 400, fields: []string{"campaignId", "requestId"}, context: map[string]string{}},
		{name: "a 401 reports the request",
			route: audienceRoute, body: `{"requestId":"req-9","campaignId":"c-9"}`, lambda: map[string]any{},
			status: 401, context: both},
		{name: "a 413 reports the request",
			route: unitaryRoute, body: `{"requestId":"req-9","campaignId":"c-9","pad":"` + strings.Repeat("x", execution.MaxBodySize) + `"}`,
			status: 413, context: both},
		{name: "a 404 reports the request",
			route: audienceRoute, body: `{"requestId":"req-9","campaignId":"c-9"}`,
			status: 404, context: both},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lambda := acmeKey
			if tt.lambda != nil {
				lambda = tt.lambda
			}
			status, body := call(t, trigger, event(tt.route, tt.body, lambda, nil))
			if status != tt.status {
				t.Fatalf("status %d, want %d; body %s", status, tt.status, body)
			}
			e := errorBody(t, status, body)
			if diff := cmp.Diff(tt.fields, fieldNames(e)); diff != "" {
				t.Errorf("errors[].field (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.context, e.Report.AdditionalContext); diff != "" {
				t.Errorf("report.additionalContext (-want +got):\n%s", diff)
			}
		})
	}
}
