package httpapi_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/httpapi"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/render"
)

const unitaryRoute = "POST /im/executions/unitary"

// triggerFixture is a harness with the campaigns trigger tests need.
type triggerFixture struct {
	*harness
	live     string // acme, live at version liveVersion, namespace email
	draft    string // acme, never activated
	creating string // acme, live, namespace crmId, creates profiles
	foreign  string // globex, live
	liveVer  int
}

func newTriggerFixture(tb testing.TB) *triggerFixture {
	tb.Helper()
	f := &triggerFixture{harness: newHarness(tb)}
	f.live = f.campaign(tb, acme, campaignOpts{activate: true})
	f.liveVer = f.bumpVersion(tb, acme, f.live)
	f.draft = f.campaign(tb, acme, campaignOpts{})
	f.creating = f.campaign(tb, acme, campaignOpts{namespace: "crmId", createProfiles: true, activate: true})
	f.foreign = f.campaign(tb, globex, campaignOpts{activate: true})
	f.putProfile(tb, acme, profile.Profile{Namespace: "email", ID: "jane@example.com", Attributes: map[string]any{"firstName": "Jane"}})
	return f
}

type obj = map[string]any

func unitary(requestID, campaignID string, recipients ...obj) obj {
	m := obj{"requestId": requestID, "campaignId": campaignID}
	if recipients != nil {
		m["recipients"] = recipients
	}
	return m
}

func external(userID string) obj {
	return obj{"type": "external", "userId": userID, "namespace": "email"}
}

func with(m obj, k string, v any) obj {
	out := obj{}
	for kk, vv := range m {
		out[kk] = vv
	}
	out[k] = v
	return out
}

func externals(n int) []obj {
	out := make([]obj, n)
	for i := range out {
		out[i] = external(fmt.Sprintf("user%d@example.com", i))
	}
	return out
}

func (f *triggerFixture) expectNothingQueued(tb testing.TB) {
	tb.Helper()
	if jobs := f.queue.Jobs(); len(jobs) != 0 {
		tb.Errorf("%d jobs were enqueued, want none", len(jobs))
	}
	if n := f.store.Executions(); n != 0 {
		tb.Errorf("%d executions were stored, want none", n)
	}
}

func TestUnitaryRejectsBadRequests(t *testing.T) {
	f := newTriggerFixture(t)
	ok := func(recipients ...obj) string { return mustJSON(t, unitary("req-1", f.live, recipients...)) }
	pad := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name         string
		body         string
		base64       bool
		lambda       map[string]any
		noCredential bool
		status       int
		fields       []string
		context      map[string]string
		detail       string // a substring of detail
	}{
		{name: "malformed JSON is a 400 on the body",
			body: `{"requestId": "req-1", "campaignId": `, status: 400, fields: []string{"body"}, context: map[string]string{"requestId": "req-1"}},
		{name: "a line comment is malformed JSON",
			body: "{\"requestId\": \"req-1\", // c\n\"campaignId\": \"" + f.live + "\", \"recipients\": []}", status: 400, fields: []string{"body"}, context: map[string]string{"requestId": "req-1"}},
		{name: "a block comment is malformed JSON",
			body: `{"requestId": "req-1", /* c */ "campaignId": "x", "recipients": []}`, status: 400, fields: []string{"body"}, context: map[string]string{"requestId": "req-1"}},
		{name: "two JSON values are refused",
			body: ok(external("a@example.com")) + ` {}`, status: 400, fields: []string{"body"},
			context: map[string]string{"requestId": "req-1", "campaignId": f.live}},
		{name: "an empty body is refused",
			body: "", status: 400, fields: []string{"body"}},
		{name: "a body that is not an object is refused",
			body: `["req-1"]`, status: 400, fields: []string{"body"}},
		{name: "recipients of the wrong type are named, with the request in the report",
			body: `{"requestId":"req-1","campaignId":"c","recipients":"everyone"}`, status: 400, fields: []string{"recipients"},
			context: map[string]string{"requestId": "req-1", "campaignId": "c"}},
		{name: "a body that is not base64 when flagged so is refused",
			body: "%%%", base64: true, status: 400, fields: []string{"body"}},
		{name: "a body over the size limit is a 413",
			body:   ok(with(external("a@example.com"), "context", obj{"pad": pad(execution.MaxBodySize)})),
			status: 413, detail: "limit", context: map[string]string{"requestId": "req-1", "campaignId": f.live}},
		{name: "a missing requestId is named",
			body: mustJSON(t, unitary("", f.live, external("a@example.com"))), status: 400, fields: []string{"requestId"},
			context: map[string]string{"campaignId": f.live}},
		{name: "a missing campaignId is named",
			body: mustJSON(t, unitary("req-1", "", external("a@example.com"))), status: 400, fields: []string{"campaignId"},
			context: map[string]string{"requestId": "req-1"}},
		{name: "missing recipients are named",
			body: mustJSON(t, unitary("req-1", f.live)), status: 400, fields: []string{"recipients"},
			context: map[string]string{"requestId": "req-1", "campaignId": f.live}},
		{name: "zero recipients are refused",
			body: mustJSON(t, with(unitary("req-1", f.live), "recipients", []obj{})), status: 400, fields: []string{"recipients"},
			context: map[string]string{"requestId": "req-1", "campaignId": f.live}},
		{name: "twenty-one recipients are refused",
			body: ok(externals(21)...), status: 400, fields: []string{"recipients"},
			context: map[string]string{"requestId": "req-1", "campaignId": f.live}},
		{name: "a duplicate userId is named",
			body: ok(external("a@example.com"), external("b@example.com"), external("a@example.com")), status: 400,
			fields: []string{"recipients[2].userId"}, context: map[string]string{"requestId": "req-1", "campaignId": f.live}},
		{name: "an unknown recipient type is named",
			body: ok(with(external("a@example.com"), "type", "anonymous")), status: 400, fields: []string{"recipients[0].type"},
			context: map[string]string{"requestId": "req-1", "campaignId": f.live}},
		{name: "an invalid channelData.emailAddress is named",
			body: ok(with(external("a@example.com"), "channelData", obj{"emailAddress": "a@b"})), status: 400,
			fields: []string{"recipients[0].channelData.emailAddress"}, context: map[string]string{"requestId": "req-1", "campaignId": f.live}},
		{name: "context over 200 KB is a 400 naming the field",
			body: ok(with(external("a@example.com"), "context", obj{"pad": pad(execution.MaxContextSize)})), status: 400,
			fields: []string{"recipients[].context"}, context: map[string]string{"requestId": "req-1", "campaignId": f.live}},
		{name: "context.system is reserved",
			body: ok(with(external("a@example.com"), "context", obj{"system": obj{"x": 1}})), status: 400,
			fields: []string{"recipients[0].context.system"}, context: map[string]string{"requestId": "req-1", "campaignId": f.live}},
		{name: "every problem is listed at once",
			body: mustJSON(t, unitary("", "", with(external("nope"), "type", ""))), status: 400,
			fields: []string{"requestId", "campaignId", "recipients[0].type", "recipients[0].userId"}},
		{name: "an unknown campaign is a 404",
			body: mustJSON(t, unitary("req-1", "no-such-campaign", external("a@example.com"))), status: 404,
			context: map[string]string{"requestId": "req-1", "campaignId": "no-such-campaign"}, detail: "not found"},
		{name: "another tenant's campaign is a 404, not a 403",
			body: mustJSON(t, unitary("req-1", f.foreign, external("a@example.com"))), status: 404,
			context: map[string]string{"requestId": "req-1", "campaignId": f.foreign}, detail: "not found"},
		{name: "a draft campaign is a 409",
			body: mustJSON(t, unitary("req-1", f.draft, external("a@example.com"))), status: 409,
			context: map[string]string{"requestId": "req-1", "campaignId": f.draft}, detail: "draft"},
		{name: "unknown aep profiles are a 404 naming their userIds",
			body: ok(obj{"type": "aep", "userId": "zed@example.com", "namespace": "email"},
				obj{"type": "aep", "userId": "jane@example.com", "namespace": "email"},
				obj{"type": "aep", "userId": "amy@example.com", "namespace": "email"}),
			status: 404, context: map[string]string{"requestId": "req-1", "campaignId": f.live},
			detail: "amy@example.com, zed@example.com"},
		{name: "no credential is a 401",
			body: ok(external("a@example.com")), noCredential: true, status: 401, context: map[string]string{"requestId": "req-1", "campaignId": f.live}},
		{name: "a credential without a key is a 401",
			body: ok(external("a@example.com")), lambda: map[string]any{}, status: 401, context: map[string]string{"requestId": "req-1", "campaignId": f.live}},
		{name: "an unauthenticated verdict is a 401 with its detail",
			body: ok(external("a@example.com")), lambda: map[string]any{"authError": "unauthenticated", "authDetail": "invalid credential"},
			status: 401, detail: "invalid credential", context: map[string]string{"requestId": "req-1", "campaignId": f.live}},
		{name: "a forbidden verdict is a 403 with the authorizer's detail",
			body: ok(external("a@example.com")), lambda: map[string]any{"authError": "forbidden", "authDetail": `the credential is not valid for org "globex"`},
			status: 403, detail: "globex", context: map[string]string{"requestId": "req-1", "campaignId": f.live}},
		{name: "a key without the trigger scope is a 403",
			body: ok(external("a@example.com")), lambda: authorized(acme, "hk_reader", "read manage"), status: 403, detail: "trigger",
			context: map[string]string{"requestId": "req-1", "campaignId": f.live}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.queue.Reset()
			lambda := acmeKey
			if tt.lambda != nil {
				lambda = tt.lambda
			}
			if tt.noCredential {
				lambda = nil
			}
			ev := event(unitaryRoute, tt.body, lambda, nil)
			ev.IsBase64Encoded = tt.base64
			status, body := call(t, f.trigger, ev)
			if status != tt.status {
				t.Fatalf("status = %d, want %d; body %s", status, tt.status, body)
			}
			e := errorBody(t, status, body)
			if diff := cmp.Diff(tt.fields, fieldNames(e)); diff != "" {
				t.Errorf("errors[].field (-want +got):\n%s", diff)
			}
			wantCtx := tt.context
			if wantCtx == nil {
				wantCtx = map[string]string{}
			}
			if diff := cmp.Diff(wantCtx, e.Report.AdditionalContext); diff != "" {
				t.Errorf("report.additionalContext (-want +got):\n%s", diff)
			}
			if !strings.Contains(e.Detail, tt.detail) {
				t.Errorf("detail = %q, want it to contain %q", e.Detail, tt.detail)
			}
			wantType := map[int]string{400: "invalid-request", 401: "unauthenticated", 403: "forbidden", 404: "not-found", 409: "conflict", 413: "payload-too-large"}[tt.status]
			if e.Type != httpapi.ErrorTypeBase+wantType {
				t.Errorf("type = %q, want %q", e.Type, httpapi.ErrorTypeBase+wantType)
			}
			f.expectNothingQueued(t)
		})
	}
}

func TestUnitaryAccepted(t *testing.T) {
	f := newTriggerFixture(t)
	body := mustJSON(t, unitary("req-1", f.live,
		obj{"type": "aep", "userId": "jane@example.com", "namespace": "email",
			"profile": obj{"firstName": "J"}, "context": obj{"orderId": json.Number("12345678901234567890"), "html": "<b>&</b>"}},
		with(external("bob@example.com"), "channelData", obj{"emailAddress": "bob+orders@example.com"}),
	))
	status, got := call(t, f.trigger, event(unitaryRoute, body, acmeKey, nil))
	if status != http.StatusAccepted {
		t.Fatalf("status = %d, want 202; body %s", status, got)
	}
	want := `{"executionId":"ex-1","requestId":"req-1","createdAt":"2026-03-01T12:00:00Z","createdBy":"hk_acme",` +
		`"modifiedAt":"2026-03-01T12:00:00Z","modifiedBy":"hk_acme"}`
	if diff := diffJSON(t, want, got); diff != "" {
		t.Errorf("202 body (-want +got):\n%s", diff)
	}

	job := func(r delivery.Recipient) delivery.Job {
		return delivery.Job{Tenant: acme, ExecutionID: "ex-1", CampaignID: f.live, Version: f.liveVer, Channel: campaign.Email,
			Ledger: delivery.LedgerV2, Recipients: []delivery.Recipient{r}}
	}
	wantJobs := []delivery.Job{
		job(delivery.Recipient{Type: "aep", UserID: "jane@example.com", Namespace: "email", Profile: toObject(map[string]any{"firstName": "J"}),
			Context: toObject(map[string]any{"orderId": json.Number("12345678901234567890"), "html": "<b>&</b>"})}),
		job(delivery.Recipient{Type: "external", UserID: "bob@example.com", Namespace: "email", Email: "bob+orders@example.com"}),
	}
	if diff := cmp.Diff(wantJobs, f.queue.Jobs()); diff != "" {
		t.Errorf("enqueued jobs (-want +got):\n%s", diff)
	}
	if n := f.store.Executions(); n != 1 {
		t.Errorf("stored %d executions, want 1", n)
	}
}

func TestUnitaryAcceptsTheSDKsPushPlatforms(t *testing.T) {
	f := newTriggerFixture(t)
	// AJO's and the mobile SDKs' platform names, in any case.
	body := mustJSON(t, unitary("req-ajo", f.live,
		with(external("push@example.com"), "channelData", obj{"pushInfo": obj{"appID": "shop-ios", "platform": "apnsSandbox", "token": "t"}}),
		with(external("fcm@example.com"), "channelData", obj{"pushInfo": obj{"appID": "shop-android", "platform": "FCM", "token": "u"}}),
	))
	status, got := call(t, f.trigger, event(unitaryRoute, body, acmeKey, nil))
	if status != http.StatusAccepted {
		t.Fatalf("status = %d, want 202; body %s", status, got)
	}
	rs := f.enqueuedRecipients()
	want := []delivery.Recipient{
		{Type: "external", UserID: "push@example.com", Namespace: "email", Push: &delivery.PushTarget{AppID: "shop-ios", Platform: "APNS_SANDBOX", Token: "t"}},
		{Type: "external", UserID: "fcm@example.com", Namespace: "email", Push: &delivery.PushTarget{AppID: "shop-android", Platform: "GCM", Token: "u"}},
	}
	if diff := cmp.Diff(want, rs); diff != "" {
		t.Errorf("enqueued recipients (-want +got):\n%s", diff)
	}
}

func TestUnitaryAcceptsAJOsPhoneNumbers(t *testing.T) {
	f := newTriggerFixture(t)
	// AJO's own examples: numbers without a country code, enqueued as
	// written and read at send time with the SMS configuration's region.
	body := mustJSON(t, unitary("req-ajo-phone", f.live,
		obj{"type": "external", "userId": "1234567890", "namespace": "phone"},
		with(external("sms@example.com"), "channelData", obj{"mobilePhoneNumber": "111-111-1111"}),
	))
	status, got := call(t, f.trigger, event(unitaryRoute, body, acmeKey, nil))
	if status != http.StatusAccepted {
		t.Fatalf("status = %d, want 202; body %s", status, got)
	}
	rs := f.enqueuedRecipients()
	want := []delivery.Recipient{
		{Type: "external", UserID: "1234567890", Namespace: "phone"},
		{Type: "external", UserID: "sms@example.com", Namespace: "email", Phone: "111-111-1111"},
	}
	if diff := cmp.Diff(want, rs); diff != "" {
		t.Errorf("enqueued recipients (-want +got):\n%s", diff)
	}
}

func TestUnitaryAcceptsTwentyRecipientsAndUnknownFields(t *testing.T) {
	f := newTriggerFixture(t)
	// The execution API ignores unknown members, as AJO does.
	req := with(unitary("req-20", f.live, externals(20)...), "somethingNew", true)
	status, body := call(t, f.trigger, event(unitaryRoute, mustJSON(t, req), acmeKey, nil))
	if status != http.StatusAccepted {
		t.Fatalf("status = %d, want 202; body %s", status, body)
	}
	if n := len(f.queue.Jobs()); n != 20 {
		t.Errorf("enqueued %d jobs, want one per recipient (20)", n)
	}
}

func TestUnitaryBase64Body(t *testing.T) {
	f := newTriggerFixture(t)
	ev := event(unitaryRoute, base64.StdEncoding.EncodeToString([]byte(mustJSON(t, unitary("req-1", f.live, external("a@example.com"))))), acmeKey, nil)
	ev.IsBase64Encoded = true
	if status, body := call(t, f.trigger, ev); status != http.StatusAccepted {
		t.Fatalf("status = %d, want 202; body %s", status, body)
	}
}

func TestUnitaryCreatesProfilesWhenTheCampaignAllows(t *testing.T) {
	f := newTriggerFixture(t)
	body := mustJSON(t, unitary("req-1", f.creating, obj{"type": "aep", "userId": "crm-77", "namespace": "crmId", "profile": obj{"firstName": "New"}}))
	status, got := call(t, f.trigger, event(unitaryRoute, body, acmeKey, nil))
	if status != http.StatusAccepted {
		t.Fatalf("status = %d, want 202; body %s", status, got)
	}
	p, err := f.store.Get(t.Context(), acme, profile.Identity{Namespace: "crmId", ID: "crm-77"})
	if err != nil {
		t.Fatalf("the unknown profile was not created: %v", err)
	}
	want := profile.Profile{Namespace: "crmId", ID: "crm-77", Attributes: map[string]any{}, Identities: map[string]string{"crmId": "crm-77"}, CreatedAt: now, UpdatedAt: now}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("created profile (-want +got):\n%s", diff)
	}
	if n := len(f.queue.Jobs()); n != 1 {
		t.Errorf("enqueued %d jobs, want 1", n)
	}
}

func TestUnitaryIsIdempotent(t *testing.T) {
	f := newTriggerFixture(t)
	body := mustJSON(t, unitary("req-1", f.live, externals(3)...))
	var first string
	for i := range 10 {
		status, got := call(t, f.trigger, event(unitaryRoute, body, acmeKey, nil))
		if status != http.StatusAccepted {
			t.Fatalf("call %d: status = %d, want 202; body %s", i+1, status, got)
		}
		if i == 0 {
			first = got
		} else if got != first {
			t.Errorf("call %d body = %s, want the first response %s", i+1, got, first)
		}
	}
	if n := f.store.Executions(); n != 1 {
		t.Errorf("10 identical calls stored %d executions, want 1", n)
	}
	if n := len(f.queue.Jobs()); n != 3 {
		t.Errorf("10 identical calls enqueued %d jobs, want 3 (once per recipient)", n)
	}

	// Whitespace and member order do not make a different request.
	reordered := `{ "recipients": [` + strings.TrimSuffix(strings.TrimPrefix(mustJSON(t, externals(3)), "["), "]") + `],
		"campaignId": "` + f.live + `", "requestId": "req-1" }`
	if status, got := call(t, f.trigger, event(unitaryRoute, reordered, acmeKey, nil)); status != http.StatusAccepted || got != first {
		t.Errorf("reordered replay = %d %s, want 202 %s", status, got, first)
	}

	other := mustJSON(t, unitary("req-1", f.live, externals(4)...))
	status, got := call(t, f.trigger, event(unitaryRoute, other, acmeKey, nil))
	if status != http.StatusConflict {
		t.Fatalf("same requestId, other body: status = %d, want 409; body %s", status, got)
	}
	e := errorBody(t, status, got)
	if diff := cmp.Diff(map[string]string{"requestId": "req-1", "campaignId": f.live}, e.Report.AdditionalContext); diff != "" {
		t.Errorf("report.additionalContext (-want +got):\n%s", diff)
	}
	if n, jobs := f.store.Executions(), len(f.queue.Jobs()); n != 1 || jobs != 3 {
		t.Errorf("after the conflict: %d executions and %d jobs, want 1 and 3", n, jobs)
	}

	// Another tenant's identical requestId is its own request.
	foreign := mustJSON(t, unitary("req-1", f.foreign, externals(3)...))
	if status, got := call(t, f.trigger, event(unitaryRoute, foreign, authorized(globex, "hk_globex", "trigger"), nil)); status != http.StatusAccepted || got == first {
		t.Errorf("another tenant's requestId = %d %s, want 202 with its own execution", status, got)
	}
}

func TestUnitaryConcurrentDuplicates(t *testing.T) {
	f := newTriggerFixture(t)
	body := mustJSON(t, unitary("req-1", f.live, externals(2)...))
	const n = 20
	statuses, bodies := make([]int, n), make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			resp, err := f.trigger(t.Context(), event(unitaryRoute, body, acmeKey, nil))
			if err != nil {
				t.Errorf("handler error: %v", err)
			}
			statuses[i], bodies[i] = resp.StatusCode, resp.Body
		})
	}
	wg.Wait()
	for i := range n {
		if statuses[i] != http.StatusAccepted || bodies[i] != bodies[0] {
			t.Errorf("call %d = %d %s, want 202 %s", i, statuses[i], bodies[i], bodies[0])
		}
	}
	if got := f.store.Executions(); got != 1 {
		t.Errorf("%d concurrent identical calls stored %d executions, want 1", n, got)
	}
	// A duplicate that replays while the first call is still queueing
	// queues again (Dispatch's ledger drops the repeat); every job is of
	// the one execution.
	var want execution.Response
	if err := json.Unmarshal([]byte(bodies[0]), &want); err != nil {
		t.Fatal(err)
	}
	jobs := f.queue.Jobs()
	if len(jobs) < 2 {
		t.Errorf("enqueued %d jobs, want at least 2", len(jobs))
	}
	for _, j := range jobs {
		if j.ExecutionID != want.ExecutionID {
			t.Errorf("job of execution %q, want %q", j.ExecutionID, want.ExecutionID)
		}
	}
}

func TestUnitaryReplayAfterAFailedEnqueue(t *testing.T) {
	f := newTriggerFixture(t)
	body := mustJSON(t, unitary("req-1", f.live, external("secret.person@example.com"), external("b@example.com")))
	f.queue.Err = fmt.Errorf("sqs: send job of secret.person@example.com: %w",
		&net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)})

	status, got := call(t, f.trigger, event(unitaryRoute, body, acmeKey, nil))
	if status != http.StatusInternalServerError {
		t.Fatalf("status = %d, want 500; body %s", status, got)
	}
	e := errorBody(t, status, got)
	if e.Type != httpapi.ErrorTypeBase+"internal" || !strings.Contains(e.Detail, "aws-req-1") || strings.Contains(e.Detail, "sqs") {
		t.Errorf("500 body = %+v, want a generic internal error naming the request id and not the cause", e)
	}
	logs := f.logs.String()
	if strings.Count(logs, `"msg":"request failed"`) != 1 || !strings.Contains(logs, "connection reset") {
		t.Errorf("logs = %s\nwant the cause logged once", logs)
	}
	if strings.Contains(logs, "secret.person@example.com") {
		t.Errorf("logs hold a recipient address: %s", logs)
	}
	if n, jobs := f.store.Executions(), len(f.queue.Jobs()); n != 1 || jobs != 0 {
		t.Fatalf("after the failed enqueue: %d executions and %d jobs, want 1 and 0", n, jobs)
	}

	f.queue.Err = nil
	status, replay := call(t, f.trigger, event(unitaryRoute, body, acmeKey, nil))
	if status != http.StatusAccepted {
		t.Fatalf("replay status = %d, want 202; body %s", status, replay)
	}
	var resp execution.Response
	if err := json.Unmarshal([]byte(replay), &resp); err != nil {
		t.Fatal(err)
	}
	if resp.ExecutionID != "ex-1" || resp.RequestID != "req-1" {
		t.Errorf("replay = %s, want the first call's execution ex-1", replay)
	}
	jobs := f.queue.Jobs()
	if len(jobs) != 2 || jobs[0].ExecutionID != "ex-1" || jobs[1].ExecutionID != "ex-1" {
		t.Errorf("replay enqueued %+v, want the 2 jobs of ex-1", jobs)
	}
	status, again := call(t, f.trigger, event(unitaryRoute, body, acmeKey, nil))
	if status != http.StatusAccepted || again != replay {
		t.Errorf("third call = %d %s, want 202 %s", status, again, replay)
	}
	if n, jobs := f.store.Executions(), len(f.queue.Jobs()); n != 1 || jobs != 2 {
		t.Errorf("after three calls: %d executions and %d jobs, want 1 and 2", n, jobs)
	}
}

func TestHealth(t *testing.T) {
	f := newHarness(t)
	status, body := call(t, f.trigger, event("GET /im/health", "", nil, nil))
	if status != http.StatusOK {
		t.Fatalf("status = %d, want 200", status)
	}
	if diff := diffJSON(t, `{"status":"UP"}`, body); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
}

func TestUnknownRouteIsNotFound(t *testing.T) {
	f := newHarness(t)
	for _, tc := range []struct {
		name    string
		handler httpapi.HandlerFunc
		route   string
	}{
		{"the trigger function", f.trigger, "POST /im/executions/batch"},
		{"the trigger function with another method", f.trigger, "DELETE /im/executions/unitary"},
		{"the manage function", f.manage, "DELETE /campaigns/{id}"},
	} {
		t.Run(tc.name+" answers 404 in the error shape", func(t *testing.T) {
			status, body := call(t, tc.handler, event(tc.route, "", acmeKey, nil))
			if status != http.StatusNotFound {
				t.Fatalf("status = %d, want 404", status)
			}
			if e := errorBody(t, status, body); e.Type != httpapi.ErrorTypeBase+"not-found" {
				t.Errorf("type = %q, want not-found", e.Type)
			}
		})
	}
}

// enqueuedRecipients lists the recipients of every queued job, in order.
func (f *triggerFixture) enqueuedRecipients() []delivery.Recipient {
	var rs []delivery.Recipient
	for _, j := range f.queue.Jobs() {
		rs = append(rs, j.Recipients...)
	}
	return rs
}

// toObject is m as a trigger's recipient carries its profile or context
// (decoded once into the engine's object; a map's members in sorted
// order).
func toObject(m map[string]any) render.Object {
	o, err := render.ObjectOf(m)
	if err != nil {
		panic(err)
	}
	return o
}
