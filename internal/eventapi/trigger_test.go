package eventapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/eventapi"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/httpapi"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/tenant"
)

// loadEvent reads events/name with its ${demo.*} placeholders filled in
// for the fixture's tenant and campaigns.
func loadEvent(t *testing.T, name string) json.RawMessage {
	t.Helper()
	b, err := os.ReadFile("../../events/" + name)
	if err != nil {
		t.Fatal(err)
	}
	r := strings.NewReplacer("${demo.campaignId}", "tx", "${demo.profileId}", "jane@example.com", "${demo.profileNamespace}", "email",
		"${demo.org}", acme.Org, "${demo.sandbox}", acme.Sandbox)
	return json.RawMessage(r.Replace(string(b)))
}

// httpRecorder is the HTTP handler Trigger hands API Gateway events to.
type httpRecorder struct {
	got []events.APIGatewayV2HTTPRequest
}

// httpAPI is the Trigger function's HTTP API with serve as its handler.
func httpAPI(serve func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)) eventapi.HTTPAPI {
	return eventapi.HTTPAPI{Serve: serve, ErrorReply: httpapi.ErrorReply}
}

func (h *httpRecorder) serve(_ context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	h.got = append(h.got, req)
	return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusTeapot, Body: "from the HTTP handler"}, nil
}

func TestTriggerRoutesAnHTTPEventToTheHTTPHandler(t *testing.T) {
	f := newFixture(t)
	h := &httpRecorder{}
	handle := eventapi.Trigger(httpAPI(h.serve), f.unitary, f.aud, acme, discard)
	out, err := handle(context.Background(), loadEvent(t, "trigger.unitary-invalid.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := events.APIGatewayV2HTTPResponse{StatusCode: http.StatusTeapot, Body: "from the HTTP handler"}
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	if len(h.got) != 1 || h.got[0].RouteKey != "POST /im/executions/unitary" || h.got[0].RequestContext.HTTP.Method != http.MethodPost {
		t.Errorf("HTTP handler got %+v, want the one POST /im/executions/unitary event", h.got)
	}
	if got := f.recipients(); len(got) != 0 {
		t.Errorf("queued %v; the HTTP handler alone answers an HTTP event", got)
	}
}

func TestTriggerRunsEventAndSchedulerBodiesForTheEventTenant(t *testing.T) {
	tests := []struct {
		name   string
		event  func(t *testing.T) json.RawMessage
		want   execution.Response
		queued []string
	}{
		{
			name:   "an EventBridge event's detail with recipients is a unitary execution by events:<source>",
			event:  func(t *testing.T) json.RawMessage { return loadEvent(t, "trigger.eventbridge-unitary.json") },
			want:   response("ex-1", "eventbridge-order-1042", "events:shop.orders"),
			queued: []string{"jane@example.com"},
		},
		{
			name:   "a Scheduler body with recipients is a unitary execution by the scheduler",
			event:  func(t *testing.T) json.RawMessage { return loadEvent(t, "trigger.scheduler-unitary.json") },
			want:   response("ex-1", "scheduler-reminder-1042", "scheduler"),
			queued: []string{"jane@example.com"},
		},
		{
			name: "an EventBridge event's detail without recipients is an audience execution",
			event: func(*testing.T) json.RawMessage {
				return json.RawMessage(`{"version":"0","id":"e-1","detail-type":"Sale","source":"acme.sales","time":"2026-03-01T12:00:00Z",` +
					`"detail":{"requestId":"sale-1","campaignId":"mk","context":{"discount":10}}}`)
			},
			want:   response("ex-1", "sale-1", "events:acme.sales"),
			queued: []string{"u1", "u2", "u3"},
		},
		{
			name:   "a Scheduler body without recipients is an audience execution",
			event:  func(*testing.T) json.RawMessage { return json.RawMessage(`{"requestId":"weekly-1","campaignId":"mk"}`) },
			want:   response("ex-1", "weekly-1", "scheduler"),
			queued: []string{"u1", "u2", "u3"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if err := f.store.Put(context.Background(), acme, profile.Profile{Namespace: "email", ID: "jane@example.com"}); err != nil {
				t.Fatal(err)
			}
			h := &httpRecorder{}
			out, err := eventapi.Trigger(httpAPI(h.serve), f.unitary, f.aud, acme, discard)(context.Background(), tt.event(t))
			if err != nil {
				t.Fatalf("handler error %v, want the execution accepted", err)
			}
			if diff := cmp.Diff(tt.want, out); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.queued, f.recipients()); diff != "" {
				t.Errorf("queued recipients (-want +got):\n%s", diff)
			}
			if len(h.got) != 0 {
				t.Errorf("the HTTP handler got %d events; none was an HTTP event", len(h.got))
			}
		})
	}
}

func response(executionID, requestID, by string) execution.Response {
	return execution.Response{ExecutionID: executionID, RequestID: requestID, CreatedAt: now, CreatedBy: by, ModifiedAt: now, ModifiedBy: by}
}

func TestTriggerRefusesWhatCannotRunWithoutARetry(t *testing.T) {
	tests := []struct {
		name   string
		tenant tenant.Tenant
		event  string
		status int
		detail string
		fields []string
	}{
		{
			name:   "no event tenant configured refuses every body",
			event:  `{"requestId":"r-1","campaignId":"tx","recipients":[{"type":"external","userId":"a@example.com","namespace":"email"}]}`,
			status: http.StatusForbidden,
			detail: "events and schedules are not accepted: no event tenant is configured (HERALD_EVENT_ORG, HERALD_EVENT_SANDBOX)",
		},
		{
			name:   "a unitary body that does not validate is refused with its fields",
			tenant: acme,
			event:  `{"requestId":"r-1","campaignId":"tx","recipients":[{"type":"robot","userId":"a@example.com"}]}`,
			status: http.StatusBadRequest,
			fields: []string{"recipients[0].type", "recipients[0].namespace"},
		},
		{
			name:   "a unitary body of the wrong shape is refused with its field",
			tenant: acme,
			event:  `{"requestId":"r-1","campaignId":"tx","recipients":"everyone"}`,
			status: http.StatusBadRequest,
			fields: []string{"recipients"},
		},
		{
			name:   "an audience body that does not validate is refused with its fields",
			tenant: acme,
			event:  `{"campaignId":"mk","context":{"system":1}}`,
			status: http.StatusBadRequest,
			fields: []string{"context.system"},
		},
		{
			name:   "an audience body of the wrong shape is refused with its field",
			tenant: acme,
			event:  `{"campaignId":7}`,
			status: http.StatusBadRequest,
			fields: []string{"campaignId"},
		},
		{
			name:   "an EventBridge detail naming an unknown campaign is not found",
			tenant: acme,
			event:  `{"version":"0","id":"e-9","detail-type":"Sale","source":"acme.sales","detail":{"campaignId":"nope"}}`,
			status: http.StatusNotFound,
			detail: `campaign "nope" not found`,
		},
		{
			name:   "a transactional campaign is no audience execution",
			tenant: acme,
			event:  `{"campaignId":"tx"}`,
			status: http.StatusConflict,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			out, err := eventapi.Trigger(httpAPI((&httpRecorder{}).serve), f.unitary, f.aud, tt.tenant, discard)(context.Background(), json.RawMessage(tt.event))
			if err != nil {
				t.Fatalf("handler error %v; a refusal is final, not retried", err)
			}
			raw, ok := out.(json.RawMessage)
			if !ok {
				t.Fatalf("answer %T %v, want the error body", out, out)
			}
			var got httpapi.ErrorResponse
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatalf("error body %s: %v", raw, err)
			}
			if got.Status != tt.status {
				t.Errorf("status %d, want %d (body %s)", got.Status, tt.status, raw)
			}
			if tt.detail != "" && got.Detail != tt.detail {
				t.Errorf("detail %q, want %q", got.Detail, tt.detail)
			}
			var fields []string
			for _, fe := range got.Errors {
				fields = append(fields, fe.Field)
			}
			if diff := cmp.Diff(tt.fields, fields); diff != "" {
				t.Errorf("errors[].field (-want +got):\n%s", diff)
			}
			if got := f.recipients(); len(got) != 0 {
				t.Errorf("refused, yet %v were queued", got)
			}
		})
	}
}

func TestTriggerDropsEventsItCannotRead(t *testing.T) {
	for _, tt := range []struct{ name, event string }{
		{"a JSON array is dropped", `[1,2]`},
		{"a JSON string is dropped", `"hello"`},
		{"an EventBridge event that does not decode is dropped", `{"detail-type":"Sale","source":"acme.sales","time":"yesterday","detail":{"campaignId":"mk"}}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			out, err := eventapi.Trigger(httpAPI((&httpRecorder{}).serve), f.unitary, f.aud, acme, discard)(context.Background(), json.RawMessage(tt.event))
			if out != nil || err != nil {
				t.Errorf("handler = %v, %v; want nil, nil (logged, not retried)", out, err)
			}
			if got := f.recipients(); len(got) != 0 {
				t.Errorf("queued %v", got)
			}
		})
	}
}

func TestTriggerReturnsAnErrorForLambdaToRetry(t *testing.T) {
	tests := []struct {
		name  string
		event string
	}{
		{"a unitary execution the queue does not take is retried",
			`{"requestId":"r-1","campaignId":"tx","recipients":[{"type":"external","userId":"a@example.com","namespace":"email"}]}`},
		{"an audience execution the queue does not take is retried", `{"requestId":"r-2","campaignId":"mk"}`},
		{"an HTTP event that does not decode is an error", `{"routeKey":"POST /im/executions/unitary","requestContext":"nope"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.queue.Err = errors.New("queue down")
			out, err := eventapi.Trigger(httpAPI((&httpRecorder{}).serve), f.unitary, f.aud, acme, discard)(context.Background(), json.RawMessage(tt.event))
			if err == nil {
				t.Fatalf("handler = %v, nil; want an error so Lambda retries", out)
			}
			if k := derrors.KindOf(err); k != derrors.Internal {
				t.Errorf("error kind %v, want internal", k)
			}
			if out != nil {
				t.Errorf("answer %v beside the error, want none", out)
			}
		})
	}
}

func TestARetriedTriggerRunsOnce(t *testing.T) {
	f := newFixture(t)
	handle := eventapi.Trigger(httpAPI((&httpRecorder{}).serve), f.unitary, f.aud, acme, discard)
	ev := json.RawMessage(`{"requestId":"weekly-1","campaignId":"mk"}`)
	f.queue.Err = errors.New("queue down")
	if _, err := handle(context.Background(), ev); err == nil {
		t.Fatal("first delivery: no error with the queue down")
	}
	f.queue.Err = nil
	// The retry comes a minute later (Lambda's first async retry), well
	// inside the fan-out's lease: the failed invocation released it.
	later := now.Add(time.Minute)
	f.aud.Now = func() time.Time { return later }
	for i := range 2 {
		out, err := handle(context.Background(), ev)
		if err != nil {
			t.Fatalf("retry %d: %v", i+1, err)
		}
		if diff := cmp.Diff(response("ex-1", "weekly-1", "scheduler"), out); diff != "" {
			t.Errorf("retry %d answer (-want +got):\n%s", i+1, diff)
		}
	}
	if diff := cmp.Diff([]string{"u1", "u2", "u3"}, f.recipients()); diff != "" {
		t.Errorf("queued recipients (-want +got):\n%s", diff)
	}
}
