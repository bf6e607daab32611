package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/contextschema"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/eventapi"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/httpapi"
)

// badInput is a refused request: its status, the fields the error names,
// and (checked for every case) that nothing was stored or queued.
type badInput struct {
	name   string
	route  string
	body   string
	params map[string]string
	query  map[string]string
	status int
	fields []string
}

func runBadInput(t *testing.T, f *triggerFixture, tests []badInput) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			handler := f.manage
			if strings.Contains(tt.route, " /im/") {
				handler = f.trigger
			}
			stored, queued := f.store.Fingerprint(), f.queue.Fingerprint()
			ev := event(tt.route, tt.body, acmeKey, tt.params)
			ev.QueryStringParameters = tt.query
			status, body := call(t, handler, ev)
			if status != tt.status {
				t.Fatalf("status = %d, want %d; body %s", status, tt.status, body)
			}
			if diff := cmp.Diff(tt.fields, fieldNames(errorBody(t, status, body))); diff != "" {
				t.Errorf("errors[].field (-want +got):\n%s", diff)
			}
			if f.store.Fingerprint() != stored {
				t.Error("the refused request changed the store")
			}
			if f.queue.Fingerprint() != queued {
				t.Error("the refused request queued jobs")
			}
		})
	}
}

var profileParams = map[string]string{"namespace": "crmId", "id": "42"}

// Each case was a 500, or a silent U+FFFD, on main before issue 10.
func TestBadTextIsRefusedNotReplaced(t *testing.T) {
	f := newTriggerFixture(t)
	unitaryWith := func(recipient string) string {
		return `{"requestId":"req-bad","campaignId":"` + f.live + `","recipients":[` + recipient + `]}`
	}
	runBadInput(t, f, []badInput{
		{name: "an email address with invalid UTF-8 is named, not sent to f\ufffd\ufffdz@example.com", route: unitaryRoute,
			body:   unitaryWith("{\"type\":\"external\",\"namespace\":\"email\",\"userId\":\"a@example.com\",\"channelData\":{\"emailAddress\":\"f\xff\xfez@example.com\"}}"),
			status: http.StatusBadRequest, fields: []string{"recipients[0].channelData.emailAddress"}},
		{name: "a lone surrogate in context is named", route: unitaryRoute,
			body:   unitaryWith(`{"type":"external","namespace":"email","userId":"a@example.com","context":{"name":"x\ud800y"}}`),
			status: http.StatusBadRequest, fields: []string{"recipients[0].context.name"}},
		{name: "a lone surrogate in a profile attribute is named", route: "PUT /profiles/{namespace}/{id}", params: profileParams,
			body: `{"attributes":{"firstName":"\udc00"}}`, status: http.StatusBadRequest, fields: []string{"attributes.firstName"}},
		{name: "a path parameter that is not UTF-8 is named", route: "PUT /profiles/{namespace}/{id}",
			params: map[string]string{"namespace": "crmId", "id": "4\xff2"}, body: `{}`,
			status: http.StatusBadRequest, fields: []string{"id"}},
		{name: "a path parameter over 512 bytes is named", route: "GET /campaigns/{id}",
			params: map[string]string{"id": strings.Repeat("x", 3000)}, status: http.StatusBadRequest, fields: []string{"id"}},
		{name: "a query parameter that is not UTF-8 is named", route: "GET /campaigns",
			query: map[string]string{"name": "\xff"}, status: http.StatusBadRequest, fields: []string{"name"}},
	})
}

// Profile and context decode into render.Object, which checks its own
// shape: a value that is not an object is named by its path as before,
// on the fast path and on the checked one (a member name in another case).
func TestRecipientDataThatIsNotAnObjectIsNamed(t *testing.T) {
	f := newTriggerFixture(t)
	unitaryWith := func(recipient string) string {
		return `{"requestId":"req-bad","campaignId":"` + f.live + `","recipients":[` + recipient + `]}`
	}
	runBadInput(t, f, []badInput{
		{name: "a context that is a string", route: unitaryRoute,
			body:   unitaryWith(`{"type":"external","namespace":"email","userId":"a@example.com","context":"x"}`),
			status: http.StatusBadRequest, fields: []string{"recipients[0].context"}},
		{name: "a profile that is an array, beside a context of the wrong type, on the checked path", route: unitaryRoute,
			body:   unitaryWith(`{"type":"external","namespace":"email","userId":"a@example.com","profile":[1],"context":7,"Type":"x"}`),
			status: http.StatusBadRequest, fields: []string{"recipients[0].context", "recipients[0].profile"}},
	})
	status, body := call(t, f.trigger, event(unitaryRoute, unitaryWith(`{"type":"external","namespace":"email","userId":"a@example.com","context":true}`), acmeKey, nil))
	if e := errorBody(t, status, body); len(e.Errors) != 1 || e.Errors[0].Message != "must be an object, not a boolean" {
		t.Errorf("errors = %+v, want context: must be an object, not a boolean", e.Errors)
	}
}

// An audience execution's context decodes into render.Object too: a
// value that is not an object, or a reserved member, is named, and
// nothing is stored or queued.
func TestAudienceContextThatIsNotAnObjectIsNamed(t *testing.T) {
	f := newTriggerFixture(t)
	svc := &execution.Unitary{Schemas: contextschema.Compiler{}, Store: f.store, Campaigns: f.store, Profiles: f.store, Queue: f.queue, Now: func() time.Time { return now }}
	aud := &execution.AudienceExecutions{Schemas: contextschema.Compiler{}, Records: f.store, Executions: f.store, Campaigns: f.store, Members: f.store, Pacer: f.store, Queue: f.queue, Now: func() time.Time { return now }}
	f.trigger = httpapi.TriggerWithAudiences(svc, aud, testAccess, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	const route = "POST /im/executions/audience"
	runBadInput(t, f, []badInput{
		{name: "a context that is a number", route: route,
			body: `{"requestId":"req-bad","campaignId":"c-1","context":5}`, status: http.StatusBadRequest, fields: []string{"context"}},
		{name: "a context with a reserved member", route: route,
			body: `{"requestId":"req-bad","campaignId":"c-1","context":{"a":1,"system":{}}}`, status: http.StatusBadRequest, fields: []string{"context.system"}},
	})
}

func TestProfileValuesBeyondTheStoreAreRefused(t *testing.T) {
	f := newTriggerFixture(t)
	put := "PUT /profiles/{namespace}/{id}"
	runBadInput(t, f, []badInput{
		{name: "an empty attribute key is named", route: put, params: profileParams,
			body: `{"attributes":{"":1}}`, status: http.StatusBadRequest, fields: []string{"attributes"}},
		{name: "1e308 is named", route: put, params: profileParams,
			body: `{"attributes":{"big":1e308}}`, status: http.StatusBadRequest, fields: []string{"attributes.big"}},
		{name: "1e-131 is named", route: put, params: profileParams,
			body: `{"attributes":{"tiny":1e-131}}`, status: http.StatusBadRequest, fields: []string{"attributes.tiny"}},
		{name: "39 significant digits are named", route: put, params: profileParams,
			body: `{"attributes":{"id":123456789012345678901234567890123456789}}`, status: http.StatusBadRequest, fields: []string{"attributes.id"}},
		{name: "a PATCH with 1e308 is named", route: "PATCH /profiles/{namespace}/{id}",
			params: map[string]string{"namespace": "email", "id": "jane@example.com"},
			body:   `{"attributes":{"n":{"big":-1e308}}}`, status: http.StatusBadRequest, fields: []string{"attributes.n.big"}},
		{name: "a userId with U+2028 is named", route: put, params: map[string]string{"namespace": "crmId", "id": "4\u20282"},
			body: `{}`, status: http.StatusBadRequest, fields: []string{"id"}},
		{name: "an identity with NEL is named", route: put, params: profileParams,
			body: `{"identities":{"crm2":"a\u0085b"}}`, status: http.StatusBadRequest, fields: []string{"identities.crm2"}},
	})
}

func TestProfileBatchMarksPermanentFailuresAs400(t *testing.T) {
	f := newTriggerFixture(t)
	stored := f.store.Fingerprint()
	status, body := call(t, f.manage, event("POST /profiles/batch",
		`{"profiles":[{"namespace":"crmId","id":"1","attributes":{"":1}},{"namespace":"crmId","id":"2","attributes":{"n":1e308}},{"namespace":"crmId","id":"3","attributes":{"n":1e-131}}]}`,
		acmeKey, nil))
	if status != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", status, body)
	}
	var out struct{ Results []struct{ Status int } }
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, r := range out.Results {
		got = append(got, r.Status)
	}
	if diff := cmp.Diff([]int{400, 400, 400}, got); diff != "" {
		t.Errorf("item statuses (-want +got):\n%s", diff)
	}
	if strings.Contains(body, "retry") {
		t.Errorf("body %s asks for a retry", body)
	}
	if f.store.Fingerprint() != stored {
		t.Error("the refused profiles changed the store")
	}
}

func TestHeaderFieldsAndIdentitiesRefuseControlCharacters(t *testing.T) {
	f := newTriggerFixture(t)
	config := func(email string) string {
		return `{"name":"x","channel":"email","category":"transactional","email":` + email + `}`
	}
	campaign := func(subject string) string {
		return `{"name":"x","type":"transactional","channel":"email","content":{"email":{"subject":"` + subject + `","html":"<p>x</p>"}}}`
	}
	unitary := func(requestID, recipient string) string {
		return `{"requestId":"` + requestID + `","campaignId":"` + f.live + `","recipients":[` + recipient + `]}`
	}
	runBadInput(t, f, []badInput{
		{name: "a From name with U+2028 is named", route: "POST /channel-configurations",
			body: config(`{"fromName":"Acme\u2028Bcc: x@example.com","fromAddress":"orders@acme.example"}`), status: 400, fields: []string{"email.fromName"}},
		{name: "a From name with NEL is named", route: "POST /channel-configurations",
			body: config(`{"fromName":"Acme\u0085","fromAddress":"orders@acme.example"}`), status: 400, fields: []string{"email.fromName"}},
		{name: "a From name with VT is named", route: "POST /channel-configurations",
			body: config(`{"fromName":"Acme\u000b","fromAddress":"orders@acme.example"}`), status: 400, fields: []string{"email.fromName"}},
		{name: "a From name with NUL is named", route: "POST /channel-configurations",
			body: config(`{"fromName":"Acme\u0000","fromAddress":"orders@acme.example"}`), status: 400, fields: []string{"email.fromName"}},
		{name: "a From address with U+2029 is named", route: "POST /channel-configurations",
			body: config(`{"fromName":"Acme","fromAddress":"orders\u2029@acme.example"}`), status: 400, fields: []string{"email.fromAddress"}},
		{name: "a reply-to address with NEL is named", route: "POST /channel-configurations",
			body: config(`{"fromName":"Acme","fromAddress":"orders@acme.example","replyTo":["help\u0085@acme.example"]}`), status: 400, fields: []string{"email.replyTo[0]"}},
		{name: "a subject with U+2028 is named", route: "POST /campaigns",
			body: campaign(`Hi\u2028there`), status: 400, fields: []string{"content.email.subject"}},
		{name: "a subject with NUL is named", route: "POST /campaigns",
			body: campaign(`Hi\u0000`), status: 400, fields: []string{"content.email.subject"}},
		{name: "a userId with U+2028 is named", route: unitaryRoute,
			body:   unitary("req-ctl-1", `{"type":"external","namespace":"crmId","userId":"4\u20282"}`),
			status: 400, fields: []string{"recipients[0].userId"}},
		{name: "a namespace with NEL is named", route: unitaryRoute,
			body:   unitary("req-ctl-2", `{"type":"external","namespace":"crm\u0085Id","userId":"42"}`),
			status: 400, fields: []string{"recipients[0].namespace"}},
		{name: "a requestId with U+2029 is named", route: unitaryRoute,
			body:   unitary("req\u2029", `{"type":"external","namespace":"crmId","userId":"42"}`),
			status: 400, fields: []string{"requestId"}},
	})
}

// On main this 234 KB request encoded to a 468 KB job (encoding/json
// writes each U+2028 as \u2028), over SQS's limit: every retry was a 500
// and the records stayed stored. The job now keeps the characters raw.
func TestALineSeparatorProfileOverrideIsQueuedAtItsSize(t *testing.T) {
	f := newTriggerFixture(t)
	body := `{"requestId":"req-2028","campaignId":"` + f.live + `","recipients":[{"type":"external","namespace":"email",` +
		`"userId":"a@example.com","profile":{"s":"` + strings.Repeat("\u2028", 78000) + `"}}]}`
	if len(body) > execution.MaxBodySize {
		t.Fatalf("the body is %d bytes, over the limit %d", len(body), execution.MaxBodySize)
	}
	status, resp := call(t, f.trigger, event(unitaryRoute, body, acmeKey, nil))
	if status != http.StatusAccepted {
		t.Fatalf("status = %d, want 202; body %.300s", status, resp)
	}
	jobs := f.queue.Jobs()
	if len(jobs) != 1 {
		t.Fatalf("%d jobs queued, want 1", len(jobs))
	}
	b, err := delivery.EncodeJob(jobs[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > len(body)+1024 || len(b) > delivery.MaxJobSize {
		t.Errorf("the job is %d bytes for a %d-byte request, want it no larger than the request plus its envelope", len(b), len(body))
	}
}

// The profile, audience, recurrence and suppression bodies were decoded
// with encoding/json, whose unknown-field error names the bare key: a
// nested one was named as if it were at the top, an empty one as "".
func TestUnknownFieldsAreNamedByTheirFullPath(t *testing.T) {
	f := newTriggerFixture(t)
	runBadInput(t, f, []badInput{
		{name: "an unknown device field is named with its device", route: "PUT /profiles/{namespace}/{id}", params: profileParams,
			body: `{"devices":[{"appId":"a","platform":"APNS","token":"t","foo":1}]}`, status: 400, fields: []string{"devices[0].foo"}},
		{name: "an empty top-level key is named [\"\"]", route: "PUT /profiles/{namespace}/{id}", params: profileParams,
			body: `{"":1}`, status: 400, fields: []string{`[""]`}},
		{name: "a batch item's unknown field is named with its index", route: "POST /profiles/batch",
			body: `{"profiles":[{"namespace":"crmId","id":"1"},{"namespace":"crmId","id":"2","color":"red"}]}`, status: 400, fields: []string{"profiles[1].color"}},
	})
}

// EventBridge and Scheduler bodies reach the same services without the
// HTTP router: they are checked for bad text too.
func TestEventBodiesWithBadTextAreRefused(t *testing.T) {
	f := newTriggerFixture(t)
	svc := &execution.Unitary{Schemas: contextschema.Compiler{}, Store: f.store, Campaigns: f.store, Profiles: f.store, Queue: f.queue, Now: func() time.Time { return now }}
	aud := &execution.AudienceExecutions{Schemas: contextschema.Compiler{}, Records: f.store, Executions: f.store, Campaigns: f.store, Members: f.store, Pacer: f.store, Queue: f.queue, Now: func() time.Time { return now }}
	handler := eventapi.Trigger(eventapi.HTTPAPI{Serve: f.trigger, ErrorReply: httpapi.ErrorReply}, svc, aud, acme, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	detail := `{"requestId":"ev-1","campaignId":"` + f.live + `","recipients":[{"type":"external","namespace":"email","userId":"a@example.com",` +
		`"channelData":{"emailAddress":"f\udcffz@example.com"}}]}`
	stored, queued := f.store.Fingerprint(), f.queue.Fingerprint()
	out, err := handler(context.Background(), json.RawMessage(`{"version":"0","id":"e-1","detail-type":"Order shipped","source":"acme.orders","detail":`+detail+`}`))
	if err != nil {
		t.Fatalf("handler error %v; a refusal is final, not retried", err)
	}
	raw, _ := out.(json.RawMessage)
	e := errorBody(t, http.StatusBadRequest, string(raw))
	if diff := cmp.Diff([]string{"recipients[0].channelData.emailAddress"}, fieldNames(e)); diff != "" {
		t.Errorf("errors[].field (-want +got):\n%s", diff)
	}
	if f.store.Fingerprint() != stored || f.queue.Fingerprint() != queued {
		t.Error("the refused event stored or queued something")
	}
}
