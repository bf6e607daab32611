// Package api_test holds Herald's end-to-end tests: Herald runs as
// `make run` does, moto with the template's resources, the HTTP gateway
// with the authorizer in front of the handlers, and Dispatch fed from the
// real SQS queue (drained by the test, so nothing sleeps). What was sent
// is read back from moto. The audience suite (e2e/audience) and the
// mutants (e2e/mutant) run against local clouds of their own.
package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/infra/contract"
	"github.com/heraldhq/herald/infra/localcloud"
	"github.com/heraldhq/herald/infra/motoserver"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/tenant"
)

var (
	cloud *localcloud.Cloud
	logs  localcloud.Buffer
)

func TestMain(m *testing.M) {
	// The reputation guard judges from 10 sends, so a test can trip it
	// (reputation_e2e_test.go); the other tests' tenants send fewer.
	timing := localcloud.FastTiming
	timing.Env = maps.Clone(timing.Env)
	timing.Env["HERALD_REPUTATION_MIN_SENDS"] = "10"
	os.Exit(localcloud.RunSuite(m, &cloud, localcloud.Options{Timing: &timing, Contract: contract.MustLoad(),
		Log: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}))
}

// fixture is one tenant with a key, a configuration and a live campaign.
type fixture struct {
	t *testing.T
	localcloud.Account
	campaignID string
}

const (
	subjectTmpl = `Your order {{context.orderId}} has shipped, {{profile.person.name.firstName}}`
	htmlTmpl    = `<html><body><p>Hi {{profile.person.name.firstName}},</p><p>Order {{context.orderId}} ships with {{context.carrier}}.</p><ul>{{#each context.items}}<li>{{name}} x{{qty}}</li>{{/each}}</ul></body></html>`
	textTmpl    = `Hi {{profile.person.name.firstName}}, order {{context.orderId}} ships with {{context.carrier}}.`
)

var fixtureSeq struct {
	sync.Mutex
	n int
}

// newFixture creates a fresh tenant (so tests never see each other's
// data) with a live transactional email campaign, through the HTTP API.
func newFixture(t *testing.T, createProfiles bool) *fixture {
	t.Helper()
	fixtureSeq.Lock()
	fixtureSeq.n++
	n := fixtureSeq.n
	fixtureSeq.Unlock()
	acct, err := cloud.NewAccount(context.Background(), tenant.Tenant{Org: fmt.Sprintf("E2E%d@AdobeOrg", n), Sandbox: "prod"}, fmt.Sprintf("shop%d.%s", n, localcloud.DemoSenderDomain))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, Account: acct}
	var cfg struct{ ID string }
	f.mustDo("POST", "/channel-configurations", map[string]any{"name": "Orders", "channel": "email", "category": "transactional",
		"email": map[string]any{"fromName": "Shop", "fromAddress": "orders@" + f.Domain, "replyTo": []string{"help@" + f.Domain}}}, 201, &cfg)
	var c struct{ ID string }
	f.mustDo("POST", "/campaigns", map[string]any{"name": "Order shipped", "type": "transactional", "channel": "email",
		"channelConfigurationId": cfg.ID,
		"content":                map[string]any{"email": map[string]any{"subject": subjectTmpl, "html": htmlTmpl, "text": textTmpl}},
		"audience":               map[string]any{"namespace": "email", "createProfiles": createProfiles}}, 201, &c)
	f.mustDo("POST", "/campaigns/"+c.ID+"/activate", nil, 200, nil)
	f.campaignID = c.ID
	return f
}

// do sends a request through the gateway and returns status and body.
func do(t *testing.T, method, path string, headers map[string]string, body any) (int, []byte) {
	t.Helper()
	return cloud.MustCall(t, method, path, headers, body)
}

func (f *fixture) mustDo(method, path string, body any, want int, out any) {
	f.t.Helper()
	cloud.MustExpect(f.t, f.Account, method, path, body, want, out)
}

func (f *fixture) putProfile(email, firstName string) {
	f.t.Helper()
	f.mustDo("PUT", "/profiles/email/"+email, map[string]any{
		"attributes": map[string]any{"person": map[string]any{"name": map[string]any{"firstName": firstName}}},
		"identities": map[string]any{"email": email}}, 200, nil)
}

func (f *fixture) unitary(requestID string, recipients ...map[string]any) map[string]any {
	return map[string]any{"requestId": requestID, "campaignId": f.campaignID, "recipients": recipients}
}

func orderContext(orderID string) map[string]any {
	return map[string]any{"orderId": orderID, "carrier": "UPS <Ground>",
		"items": []any{map[string]any{"name": "Trail shoes", "qty": 1}, map[string]any{"name": "Socks", "qty": 3}}}
}

// drain runs Dispatch over everything queued.
func drain(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cloud.Drain(ctx); err != nil {
		t.Fatal(err)
	}
}

// sentTo returns what moto recorded as sent to the given addresses.
func sentTo(t *testing.T, addrs ...string) []motoserver.Email {
	t.Helper()
	all, err := cloud.Moto.SentEmails(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []motoserver.Email
	for _, e := range all {
		for _, to := range e.Destinations.To {
			for _, a := range addrs {
				if to == a {
					out = append(out, e)
				}
			}
		}
	}
	return out
}

func TestHappyPathSendsOnePersonalizedEmailPerRecipient(t *testing.T) {
	f := newFixture(t, false)
	f.putProfile("ada@example.com", "Ada")
	status, body := do(t, "POST", "/im/executions/unitary", f.Headers(), f.unitary("happy-1",
		map[string]any{"type": "aep", "namespace": "email", "userId": "ada@example.com", "context": orderContext("A-1")},
		map[string]any{"type": "external", "namespace": "crmId", "userId": "c-42",
			"channelData": map[string]any{"emailAddress": "bob@example.com"},
			"profile":     map[string]any{"person": map[string]any{"name": map[string]any{"firstName": "Bob"}}},
			"context":     orderContext("B-2")},
	))
	if status != http.StatusAccepted {
		t.Fatalf("status = %d %s, want 202", status, body)
	}
	var resp map[string]string
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"executionId", "requestId", "createdAt", "createdBy", "modifiedAt", "modifiedBy"} {
		if resp[k] == "" {
			t.Errorf("response lacks %s: %s", k, body)
		}
	}
	if resp["requestId"] != "happy-1" || resp["createdBy"] != f.KeyID {
		t.Errorf("response = %s, want requestId happy-1 created by %s", body, f.KeyID)
	}
	drain(t)

	got := map[string][2]string{}
	for _, e := range sentTo(t, "ada@example.com", "bob@example.com") {
		got[e.Destinations.To[0]] = [2]string{e.Subject, e.Body}
		if e.Source != `"Shop" <orders@`+f.Domain+`>` {
			t.Errorf("From = %q, want the configuration's name and address", e.Source)
		}
	}
	html := func(name, order string) string {
		return `<html><body><p>Hi ` + name + `,</p><p>Order ` + order + ` ships with UPS &lt;Ground&gt;.</p><ul><li>Trail shoes x1</li><li>Socks x3</li></ul></body></html>`
	}
	want := map[string][2]string{
		"ada@example.com": {"Your order A-1 has shipped, Ada", html("Ada", "A-1")},
		"bob@example.com": {"Your order B-2 has shipped, Bob", html("Bob", "B-2")},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("emails moto received (-want +got):\n%s", diff)
	}
	entries, err := cloud.App.Store().Ledger(context.Background(), f.Tenant, resp["executionId"])
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].Outcome != delivery.Sent || entries[1].Outcome != delivery.Sent {
		t.Errorf("ledger = %+v, want two sent entries", entries)
	}
}

func TestReplayingARequestTenTimesSendsOnceAndAnswersTheSame(t *testing.T) {
	f := newFixture(t, false)
	f.putProfile("replay@example.com", "Rae")
	req := f.unitary("replay-1", map[string]any{"type": "aep", "namespace": "email", "userId": "replay@example.com", "context": orderContext("R-1")})
	var first []byte
	for i := range 10 {
		status, body := do(t, "POST", "/im/executions/unitary", f.Headers(), req)
		if status != http.StatusAccepted {
			t.Fatalf("call %d: status %d %s", i, status, body)
		}
		if i == 0 {
			first = body
			drain(t) // the first call is delivered before the replays arrive
		} else if !bytes.Equal(body, first) {
			t.Errorf("call %d answered %s, want the first answer %s", i, body, first)
		}
	}
	drain(t)
	if n := len(sentTo(t, "replay@example.com")); n != 1 {
		t.Errorf("moto received %d emails, want 1", n)
	}
	changed := f.unitary("replay-1", map[string]any{"type": "aep", "namespace": "email", "userId": "replay@example.com", "context": orderContext("R-2")})
	if status, body := do(t, "POST", "/im/executions/unitary", f.Headers(), changed); status != http.StatusConflict {
		t.Errorf("same requestId, other body: %d %s, want 409", status, body)
	}
}

func TestConcurrentIdenticalRequestsSendOnce(t *testing.T) {
	f := newFixture(t, false)
	f.putProfile("race@example.com", "Rex")
	req := f.unitary("race-1", map[string]any{"type": "aep", "namespace": "email", "userId": "race@example.com", "context": orderContext("C-1")})
	bodies := make([][]byte, 20)
	var wg sync.WaitGroup
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, body := do(t, "POST", "/im/executions/unitary", f.Headers(), req)
			if status != http.StatusAccepted {
				t.Errorf("status %d %s", status, body)
			}
			bodies[i] = body
		}()
	}
	wg.Wait()
	for i, b := range bodies {
		if !bytes.Equal(b, bodies[0]) {
			t.Errorf("answer %d = %s, want %s", i, b, bodies[0])
		}
	}
	drain(t)
	if n := len(sentTo(t, "race@example.com")); n != 1 {
		t.Errorf("moto received %d emails, want 1", n)
	}
}

func TestTheSameSQSMessageDeliveredTwiceSendsOnce(t *testing.T) {
	f := newFixture(t, false)
	f.putProfile("twice@example.com", "Tia")
	status, body := do(t, "POST", "/im/executions/unitary", f.Headers(), f.unitary("twice-1",
		map[string]any{"type": "aep", "namespace": "email", "userId": "twice@example.com", "context": orderContext("T-1")}))
	if status != http.StatusAccepted {
		t.Fatalf("status %d %s", status, body)
	}
	ctx := context.Background()
	q := awssqs.NewFromConfig(cloud.AWS)
	out, err := q.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: aws.String(cloud.Config.DispatchQueueURL),
		MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 60})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 {
		t.Fatalf("queue held %d messages, want 1", len(out.Messages))
	}
	ev := sqsEvent(out.Messages[0])
	dispatch := cloud.Handlers.SQS["DispatchFunction"]
	for i := range 2 {
		resp, err := dispatch(ctx, ev)
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("delivery %d: %+v, %v", i, resp, err)
		}
	}
	if _, err := q.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: aws.String(cloud.Config.DispatchQueueURL), ReceiptHandle: out.Messages[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	if n := len(sentTo(t, "twice@example.com")); n != 1 {
		t.Errorf("moto received %d emails, want 1", n)
	}
}

func TestAPoisonMessageIsReportedAsABatchItemFailure(t *testing.T) {
	ev := events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "poison", Body: `{"tenant":`, EventSource: "aws:sqs"},
		{MessageId: "no-recipients", Body: `{"tenant":{"org":"X@AdobeOrg","sandbox":"prod"},"executionId":"e","campaignId":"c","version":1,"recipients":[]}`, EventSource: "aws:sqs"},
	}}
	resp, err := cloud.Handlers.SQS["DispatchFunction"](context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	want := []events.SQSBatchItemFailure{{ItemIdentifier: "poison"}, {ItemIdentifier: "no-recipients"}}
	if diff := cmp.Diff(want, resp.BatchItemFailures); diff != "" {
		t.Errorf("batchItemFailures (-want +got):\n%s", diff)
	}
}

func sqsEvent(m sqstypes.Message) events.SQSEvent {
	return events.SQSEvent{Records: []events.SQSMessage{{
		MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body),
		EventSource: "aws:sqs", Attributes: map[string]string{"ApproximateReceiveCount": "1"},
	}}}
}

// TestBadInputGetsTheErrorShapeAndSendsNothing covers every bad input of
// the walking skeleton through the gateway, and reads moto to prove
// nothing went out.
func TestBadInputGetsTheErrorShapeAndSendsNothing(t *testing.T) {
	f := newFixture(t, false)
	other := newFixture(t, false)
	f.putProfile("bad@example.com", "Bea")
	// A draft campaign of f's tenant.
	var draft struct{ ID string }
	f.mustDo("POST", "/campaigns", map[string]any{"name": "Draft", "type": "transactional", "channel": "email"}, 201, &draft)

	rcp := func(extra map[string]any) map[string]any {
		r := map[string]any{"type": "aep", "namespace": "email", "userId": "bad@example.com", "context": orderContext("X")}
		for k, v := range extra {
			r[k] = v
		}
		return r
	}
	many := func(n int) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = map[string]any{"type": "external", "namespace": "crmId", "userId": fmt.Sprint(i), "channelData": map[string]any{"emailAddress": "bad@example.com"}}
		}
		return out
	}
	big := strings.Repeat("x", 201<<10)
	tests := []struct {
		name    string
		headers map[string]string
		body    any
		status  int
		field   string // a field the errors must name, if any
	}{
		{"malformed JSON", nil, `{"requestId":`, 400, "body"},
		{"JSON with comments", nil, "{\n// a comment\n\"requestId\":\"x\"}", 400, "body"},
		{"a body over the limit", nil, `{"requestId":"` + strings.Repeat("y", 250<<10) + `"}`, 413, ""},
		{"no requestId", nil, map[string]any{"campaignId": f.campaignID, "recipients": []any{rcp(nil)}}, 400, "requestId"},
		{"no campaignId", nil, map[string]any{"requestId": "b1", "recipients": []any{rcp(nil)}}, 400, "campaignId"},
		{"no recipients", nil, map[string]any{"requestId": "b1", "campaignId": f.campaignID}, 400, "recipients"},
		{"zero recipients", nil, map[string]any{"requestId": "b1", "campaignId": f.campaignID, "recipients": []any{}}, 400, "recipients"},
		{"21 recipients", nil, map[string]any{"requestId": "b1", "campaignId": f.campaignID, "recipients": many(21)}, 400, "recipients"},
		{"duplicate userIds", nil, map[string]any{"requestId": "b1", "campaignId": f.campaignID, "recipients": []any{rcp(nil), rcp(nil)}}, 400, "recipients[1].userId"},
		{"an unknown recipient type", nil, map[string]any{"requestId": "b1", "campaignId": f.campaignID, "recipients": []any{rcp(map[string]any{"type": "segment"})}}, 400, "recipients[0].type"},
		{"an invalid email in channelData", nil, map[string]any{"requestId": "b1", "campaignId": f.campaignID, "recipients": []any{rcp(map[string]any{"channelData": map[string]any{"emailAddress": "not-an-address"}})}}, 400, "recipients[0].channelData.emailAddress"},
		{"context over 200 KB", nil, map[string]any{"requestId": "b1", "campaignId": f.campaignID, "recipients": []any{rcp(map[string]any{"context": map[string]any{"blob": big[:201<<10-20]}})}}, 400, "recipients[].context"},
		{"an unknown campaign", nil, map[string]any{"requestId": "b1", "campaignId": "no-such-campaign", "recipients": []any{rcp(nil)}}, 404, ""},
		{"a campaign that is not live", nil, map[string]any{"requestId": "b1", "campaignId": draft.ID, "recipients": []any{rcp(nil)}}, 409, ""},
		{"an unknown aep profile without profile creation", nil, map[string]any{"requestId": "b1", "campaignId": f.campaignID, "recipients": []any{rcp(nil), rcp(map[string]any{"userId": "ghost@example.com"})}}, 404, ""},
		{"no credentials", map[string]string{"Authorization": ""}, map[string]any{"requestId": "b1", "campaignId": f.campaignID, "recipients": []any{rcp(nil)}}, 401, ""},
		{"an unknown credential", map[string]string{"Authorization": "Bearer hrld_not_a_real_secret_000000000000000"}, map[string]any{"requestId": "b1", "campaignId": f.campaignID, "recipients": []any{rcp(nil)}}, 401, ""},
		{"another tenant's campaign id", nil, map[string]any{"requestId": "b1", "campaignId": other.campaignID, "recipients": []any{rcp(nil)}}, 404, ""},
		{"a wrong org header", map[string]string{"x-gw-ims-org-id": other.Tenant.Org}, map[string]any{"requestId": "b1", "campaignId": f.campaignID, "recipients": []any{rcp(nil)}}, 403, ""},
		{"a wrong sandbox header", map[string]string{"x-sandbox-name": "dev"}, map[string]any{"requestId": "b1", "campaignId": f.campaignID, "recipients": []any{rcp(nil)}}, 403, ""},
	}
	for _, tt := range tests {
		t.Run("rejects "+tt.name, func(t *testing.T) {
			h := f.Headers()
			for k, v := range tt.headers {
				if v == "" {
					delete(h, k)
				} else {
					h[k] = v
				}
			}
			status, body := do(t, "POST", "/im/executions/unitary", h, tt.body)
			if status != tt.status {
				t.Fatalf("status = %d %s, want %d", status, body, tt.status)
			}
			checkErrorShape(t, body, tt.status, tt.field)
		})
	}
	t.Run("names the missing userIds", func(t *testing.T) {
		_, body := do(t, "POST", "/im/executions/unitary", f.Headers(), map[string]any{"requestId": "b2", "campaignId": f.campaignID,
			"recipients": []any{rcp(nil), rcp(map[string]any{"userId": "ghost@example.com"})}})
		if !strings.Contains(string(body), "ghost@example.com") || strings.Contains(string(body), "bad@example.com") {
			t.Errorf("404 body %s should name ghost@example.com only", body)
		}
	})
	t.Run("rejects unknown and owned fields in management bodies", func(t *testing.T) {
		for _, field := range []string{"status", "id", "tenant", "colour"} {
			status, body := do(t, "POST", "/campaigns", f.Headers(), map[string]any{"name": "X", "type": "transactional", "channel": "email", field: "live"})
			if status != 400 {
				t.Errorf("%s: status %d %s, want 400", field, status, body)
				continue
			}
			checkErrorShape(t, body, 400, field)
		}
	})
	drain(t)
	if sent := sentTo(t, "bad@example.com", "ghost@example.com"); len(sent) != 0 {
		t.Errorf("moto received %d emails after bad input, want 0", len(sent))
	}
}

func checkErrorShape(t *testing.T, body []byte, status int, field string) {
	t.Helper()
	var e struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Status int    `json:"status"`
		Detail string `json:"detail"`
		Report *struct {
			AdditionalContext map[string]string `json:"additionalContext"`
		} `json:"report"`
		Errors []struct{ Field, Message string } `json:"errors"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body is not JSON: %s", body)
	}
	if !strings.HasPrefix(e.Type, "urn:herald:error:") || e.Title == "" || e.Status != status || e.Detail == "" || e.Report == nil || e.Report.AdditionalContext == nil {
		t.Errorf("error body %s lacks the documented shape", body)
	}
	if field == "" {
		return
	}
	for _, fe := range e.Errors {
		if fe.Field == field && fe.Message != "" {
			return
		}
	}
	t.Errorf("errors %+v do not name field %q", e.Errors, field)
}

// TestLogsNeverCarryPersonalData runs the happy path and searches every
// log line for addresses, names, context values and message text.
func TestLogsNeverCarryPersonalData(t *testing.T) {
	f := newFixture(t, true)
	f.putProfile("private.person@example.com", "Zelda")
	status, body := do(t, "POST", "/im/executions/unitary", f.Headers(), f.unitary("privacy-1",
		map[string]any{"type": "aep", "namespace": "email", "userId": "private.person@example.com",
			"context": map[string]any{"orderId": "SECRET-ORDER-77", "carrier": "OwlPost", "items": []any{}}},
		map[string]any{"type": "aep", "namespace": "email", "userId": "new.person@example.com",
			"channelData": map[string]any{"emailAddress": "new.person@example.com"},
			"profile":     map[string]any{"person": map[string]any{"name": map[string]any{"firstName": "Quentin"}}},
			"context":     map[string]any{"orderId": "SECRET-ORDER-78", "carrier": "OwlPost", "items": []any{}}},
	))
	if status != http.StatusAccepted {
		t.Fatalf("status %d %s", status, body)
	}
	drain(t)
	if n := len(sentTo(t, "private.person@example.com", "new.person@example.com")); n != 2 {
		t.Fatalf("moto received %d emails, want 2", n)
	}
	out := logs.String()
	if !strings.Contains(out, "privacy") && !strings.Contains(out, "execution accepted") {
		t.Fatalf("no logs were captured; the test would prove nothing")
	}
	for _, secret := range []string{"private.person", "new.person", "example.com", "Zelda", "Quentin", "SECRET-ORDER", "OwlPost", "has shipped", f.Secret} {
		if strings.Contains(out, secret) {
			line := regexp.MustCompile(`(?m)^.*` + regexp.QuoteMeta(secret) + `.*$`).FindString(out)
			t.Errorf("logs contain %q: %s", secret, line)
		}
	}
}
