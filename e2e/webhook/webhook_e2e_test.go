// Package webhook_test runs feedback webhooks end to end on the local
// cloud: a webhook is created through the HTTP API to a receiver on this
// machine (loopback, which the local cloud allows), events are published
// as the Feedback function will publish them (App.WebhookPublisher), and
// the real WebhookFunction delivers them from the webhook queue on moto.
// The queue is drained by the test; retries wait seconds, not minutes
// (localcloud.FastTiming), and the retry window is 8 s, not 24 h.
package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/heraldhq/herald/infra/contract"
	"github.com/heraldhq/herald/infra/localcloud"
	"github.com/heraldhq/herald/internal/tenant"
	"github.com/heraldhq/herald/internal/webhook"
)

var cloud *localcloud.Cloud

// retryWindow is the webhook retry window of this suite's cloud (24 h
// deployed).
const retryWindow = 8 * time.Second

func TestMain(m *testing.M) {
	if localcloud.ShortRun() {
		os.Exit(m.Run())
	}
	timing := localcloud.FastTiming
	timing.Env = maps.Clone(localcloud.FastTiming.Env)
	timing.Env["HERALD_WEBHOOK_RETRY_WINDOW"] = retryWindow.String()
	os.Exit(localcloud.RunSuite(m, &cloud, localcloud.Options{Timing: &timing, Contract: contract.MustLoad()}))
}

func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() || cloud == nil {
		t.Skip("the webhook end-to-end suite runs without -short")
	}
}

const secret = "e2e-webhook-secret-0123456789"

// receiver is a tenant's endpoint: it verifies every delivery's signature
// and records the event IDs in arrival order; down says whether the n-th
// request (from 1) is refused with a 500.
type receiver struct {
	t   *testing.T
	mu  sync.Mutex
	n   int
	ids []string
	// bodies are the payloads delivered, by event ID.
	bodies map[string][]byte
	down   func(n int) bool
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.n++
	n := rc.n
	rc.mu.Unlock()
	if err := webhook.Verify(secret, r.Header.Get(webhook.HeaderTimestamp), r.Header.Get(webhook.HeaderSignature), body, time.Now(), 5*time.Minute); err != nil {
		rc.t.Errorf("request %d: %v", n, err)
	}
	var p struct {
		EventID   string `json:"eventId"`
		EventType string `json:"eventType"`
		IMSOrg    string `json:"imsOrg"`
	}
	if err := json.Unmarshal(body, &p); err != nil || p.EventID != r.Header.Get(webhook.HeaderEventID) || p.EventType != "message.feedback" {
		rc.t.Errorf("request %d: payload %s (%v) does not match its %s header", n, body, err, webhook.HeaderEventID)
	}
	if rc.down != nil && rc.down(n) {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	rc.mu.Lock()
	rc.ids = append(rc.ids, p.EventID)
	if rc.bodies == nil {
		rc.bodies = map[string][]byte{}
	}
	rc.bodies[p.EventID] = body
	rc.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) delivered() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.ids...)
}

func (rc *receiver) requests() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.n
}

var seq struct {
	sync.Mutex
	n int
}

// setup makes a tenant with a webhook of email and sms events pointing at
// a new receiver.
func setup(t *testing.T, down func(n int) bool) (localcloud.Account, *receiver) {
	t.Helper()
	seq.Lock()
	seq.n++
	n := seq.n
	seq.Unlock()
	acct, err := cloud.NewAccount(context.Background(), tenant.Tenant{Org: fmt.Sprintf("HOOK%d@AdobeOrg", n), Sandbox: "prod"}, "")
	if err != nil {
		t.Fatal(err)
	}
	rc := &receiver{t: t, down: down}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	cloud.MustExpect(t, acct, "POST", "/feedback-webhook", map[string]any{"name": "ops", "url": srv.URL + "/herald",
		"channels": []string{"email", "sms"}, "secret": secret}, 201, nil)
	return acct, rc
}

func event(acct localcloud.Account, id, channel string) webhook.Message {
	return webhook.Message{ID: acct.Tenant.Org + "-" + id, Tenant: acct.Tenant, Channel: channel, At: time.Now().UTC(), Payload: webhook.Payload{
		MessageExecution: webhook.MessageExecution{MessageExecutionID: "exec-1", MessageType: "transactional", CampaignID: "camp-1"},
		Feedback:         webhook.Feedback{Status: webhook.StatusDelivered},
		IdentityMap:      map[string][]webhook.Identity{"email": {{ID: "u-" + id}}},
	}}
}

func publish(t *testing.T, msgs ...webhook.Message) {
	t.Helper()
	p, err := cloud.App.WebhookPublisher()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Publish(context.Background(), msgs); err != nil {
		t.Fatal(err)
	}
}

func drain(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cloud.Drain(ctx); err != nil {
		t.Fatal(err)
	}
}

type deliveries struct {
	Items []struct {
		EventID  string `json:"eventId"`
		Status   string `json:"status"`
		Attempts int    `json:"attempts"`
	} `json:"items"`
}

func statuses(t *testing.T, acct localcloud.Account, query string) map[string]string {
	t.Helper()
	var d deliveries
	cloud.MustExpect(t, acct, "GET", "/feedback-webhook/deliveries"+query, nil, 200, &d)
	out := map[string]string{}
	for _, it := range d.Items {
		out[it.EventID] = it.Status + "/" + strconv.Itoa(it.Attempts)
	}
	return out
}

func TestEveryEventIsDeliveredOnceSigned(t *testing.T) {
	skipShort(t)
	acct, rc := setup(t, nil)
	a, b, c := event(acct, "a", "email"), event(acct, "b", "sms"), event(acct, "c", "email")
	// The push event's channel is not subscribed; a's second copy (the
	// Feedback function retrying) is delivered once.
	publish(t, a, b, event(acct, "push", "push"), c, a)
	drain(t)
	want := []string{a.ID, b.ID, c.ID}
	got := rc.delivered()
	if diff := cmp.Diff(want, got, sortStrings); diff != "" {
		t.Errorf("delivered (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{a.ID: "delivered/1", b.ID: "delivered/1", c.ID: "delivered/1"}, statuses(t, acct, "")); diff != "" {
		t.Errorf("GET /feedback-webhook/deliveries (-want +got):\n%s", diff)
	}
	// The same event published again later is acknowledged without a request.
	publish(t, b)
	drain(t)
	if n := rc.requests(); n != 3 {
		t.Errorf("the receiver got %d requests, want 3", n)
	}
}

func TestAReceiverDownForAWhileGetsEveryEventOnceAfterItRecovers(t *testing.T) {
	skipShort(t)
	acct, rc := setup(t, func(n int) bool { return n <= 4 })
	a, b := event(acct, "a", "email"), event(acct, "b", "email")
	publish(t, a, b)
	drain(t)
	if diff := cmp.Diff([]string{a.ID, b.ID}, rc.delivered(), sortStrings); diff != "" {
		t.Errorf("delivered (-want +got):\n%s", diff)
	}
	got := statuses(t, acct, "?status=delivered")
	if len(got) != 2 {
		t.Errorf("delivered records = %v, want both", got)
	}
	for id, s := range got {
		if s == "delivered/1" {
			t.Errorf("%s: %s; want retried after the receiver's 500s", id, s)
		}
	}
}

func TestEventsFailedForTheWholeWindowAreDeadLetteredAndRedriven(t *testing.T) {
	skipShort(t)
	var up sync.Mutex
	down := true
	acct, rc := setup(t, func(int) bool { up.Lock(); defer up.Unlock(); return down })
	a := event(acct, "a", "email")
	publish(t, a)
	drain(t)
	if diff := cmp.Diff(map[string]string{}, statuses(t, acct, "?status=delivered")); diff != "" {
		t.Errorf("delivered while down (-want +got):\n%s", diff)
	}
	failed := statuses(t, acct, "?status=failed")
	if _, ok := failed[a.ID]; !ok || len(failed) != 1 {
		t.Fatalf("failed records = %v, want %s after the %s window", failed, a.ID, retryWindow)
	}
	if n := deadLetters(t); n < 1 {
		t.Errorf("the webhook dead-letter queue holds %d messages, want the failed event", n)
	}
	up.Lock()
	down = false
	up.Unlock()
	var res webhook.RedriveResult
	if err := cloud.Expect(acct, "POST", "/feedback-webhook/deliveries/redrive", nil, 200, &res); err != nil || res.Requeued != 1 {
		t.Fatalf("redrive = %+v, %v; want 1 requeued", res, err)
	}
	drain(t)
	if diff := cmp.Diff([]string{a.ID}, rc.delivered()); diff != "" {
		t.Errorf("delivered after the redrive (-want +got):\n%s", diff)
	}
}

func deadLetters(t *testing.T) int {
	t.Helper()
	for _, q := range cloud.Stack.Queues {
		if q.LogicalID != "WebhookDeadLetterQueue" {
			continue
		}
		out, err := awssqs.NewFromConfig(cloud.AWS).GetQueueAttributes(context.Background(), &awssqs.GetQueueAttributesInput{QueueUrl: aws.String(q.URL),
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages}})
		if err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)])
		return n
	}
	t.Fatal("no WebhookDeadLetterQueue in the stack")
	return 0
}

var sortStrings = cmpopts.SortSlices(func(a, b string) bool { return a < b })
