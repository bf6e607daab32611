package eventapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/eventapi"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/metrics"
	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/internal/tenant"
	"github.com/heraldhq/herald/internal/tracing"
)

// retryDelay is the dispatcher's every backoff; a retry waits between
// half of it and all of it (jitter).
const retryDelay = 20 * time.Second

// dispatchFixture is a dispatcher on memory fakes with one live email
// campaign (camp-1, version 1); the mailer throttles b@example.com.
type dispatchFixture struct {
	store  *memory.Store
	mailer *memory.Mailer
	d      *delivery.Dispatcher
}

func newDispatchFixture(t *testing.T) *dispatchFixture {
	t.Helper()
	ctx := context.Background()
	f := &dispatchFixture{store: memory.New(), mailer: &memory.Mailer{}}
	f.mailer.Fail = func(e delivery.Email) error {
		if e.To == "b@example.com" {
			return &delivery.SendError{Failure: delivery.Throttled, Code: "Throttling"}
		}
		return nil
	}
	settings := campaign.EmailSettings{FromName: "Acme", FromAddress: "orders@acme.example"}
	cfg := campaign.ChannelConfig{ID: "cfg-1", Name: "cfg", Channel: campaign.Email, Category: campaign.Transactional, Email: &settings, Revision: 1}
	if err := f.store.CreateConfig(ctx, acme, cfg); err != nil {
		t.Fatal(err)
	}
	content := campaign.EmailContent{Subject: "Order {{context.orderId}}", HTML: "<p>{{context.orderId}}</p>", Text: "{{context.orderId}}"}
	spec := campaign.Spec{ChannelConfigID: "cfg-1", Content: campaign.Content{Email: &content}, Audience: campaign.Audience{Namespace: "email"}}
	c := campaign.Campaign{ID: "camp-1", Name: "c", Type: campaign.Transactional, Channel: campaign.Email, Status: campaign.StatusDraft, Draft: spec, Revision: 1}
	if err := f.store.CreateCampaign(ctx, acme, c); err != nil {
		t.Fatal(err)
	}
	c.Status, c.LiveVersion, c.Revision = campaign.StatusLive, 1, 2
	v := campaign.Version{CampaignID: "camp-1", Number: 1, Type: campaign.Transactional, Channel: campaign.Email, Spec: spec, ActivatedAt: now}
	if err := f.store.Activate(ctx, acme, c, v, 1); err != nil {
		t.Fatal(err)
	}
	f.d = &delivery.Dispatcher{Campaigns: f.store, Profiles: f.store, Ledger: f.store, Parking: f.store, Mailer: f.mailer,
		Log: discard, Now: func() time.Time { return now }, Timing: delivery.Timing{RetryFirst: retryDelay, RetryMax: retryDelay}}
	return f
}

// message is an SQS message whose body is a job of campaign camp-1 for
// the email addresses tos, received once, at first.
func message(t *testing.T, id string, first time.Time, tos ...string) events.SQSMessage {
	t.Helper()
	j := delivery.Job{Tenant: acme, ExecutionID: "ex-" + id, CampaignID: "camp-1", Version: 1, Channel: campaign.Email, Ledger: delivery.LedgerV2,
		Context: render.MustParseObject(`{"orderId":"` + id + `"}`)}
	for _, to := range tos {
		j.Recipients = append(j.Recipients, delivery.Recipient{Type: delivery.TypeExternal, Namespace: "email", UserID: to})
	}
	b, err := delivery.EncodeJob(j)
	if err != nil {
		t.Fatal(err)
	}
	return events.SQSMessage{MessageId: id, ReceiptHandle: "rh-" + id, Body: string(b), Attributes: map[string]string{
		"ApproximateReceiveCount": "1", "ApproximateFirstReceiveTimestamp": strconv.FormatInt(first.UnixMilli(), 10)}}
}

func poison(id string) events.SQSMessage {
	return events.SQSMessage{MessageId: id, ReceiptHandle: "rh-" + id, Body: `{"tenant": {"org": "acme"`,
		Attributes: map[string]string{"ApproximateReceiveCount": "3"}}
}

// visibility records the delays DispatchSQS sets.
type visibility struct {
	mu  sync.Mutex
	set map[string]time.Duration
	err error
}

func (v *visibility) ChangeVisibility(_ context.Context, receiptHandle string, after time.Duration) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.set == nil {
		v.set = map[string]time.Duration{}
	}
	v.set[receiptHandle] = after
	return v.err
}

func failures(resp events.SQSEventResponse) []string {
	var out []string
	for _, f := range resp.BatchItemFailures {
		out = append(out, f.ItemIdentifier)
	}
	return out
}

func sentTo(m *memory.Mailer) []string {
	var out []string
	for _, e := range m.Sent() {
		out = append(out, e.To)
	}
	sort.Strings(out)
	return out
}

func TestDispatchSQSReportsExactlyTheMessagesToRetry(t *testing.T) {
	tests := []struct {
		name    string
		records func(t *testing.T) []events.SQSMessage
		failed  []string
		sent    []string
	}{
		{
			name: "a batch delivered in full has no failures",
			records: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{message(t, "m1", now, "a@example.com"), message(t, "m2", now, "c@example.com")}
			},
			sent: []string{"a@example.com", "c@example.com"},
		},
		{
			name: "a throttled job is reported and the others are not",
			records: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{message(t, "m1", now, "a@example.com"), message(t, "m2", now, "b@example.com"), message(t, "m3", now, "c@example.com")}
			},
			failed: []string{"m2"},
			sent:   []string{"a@example.com", "c@example.com"},
		},
		{
			name: "a poison message fails alone",
			records: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{message(t, "m1", now, "a@example.com"), poison("m2")}
			},
			failed: []string{"m2"},
			sent:   []string{"a@example.com"},
		},
		{
			name: "a job past its retry deadline from its first receipt is closed, not retried",
			records: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{message(t, "m1", now.Add(-2*time.Hour), "b@example.com")}
			},
		},
		{
			name: "a job some of whose recipients are throttled is retried as a whole",
			records: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{message(t, "m1", now, "a@example.com", "b@example.com")}
			},
			failed: []string{"m1"},
			sent:   []string{"a@example.com"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newDispatchFixture(t)
			vis := &visibility{}
			resp, err := eventapi.DispatchSQS(f.d, vis, discard)(context.Background(), events.SQSEvent{Records: tt.records(t)})
			if err != nil {
				t.Fatalf("DispatchSQS error %v; failures are reported per message", err)
			}
			if diff := cmp.Diff(tt.failed, failures(resp)); diff != "" {
				t.Errorf("batchItemFailures (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.sent, sentTo(f.mailer)); diff != "" {
				t.Errorf("sent to (-want +got):\n%s", diff)
			}
			// Each failed message, and only those, comes back after its
			// backoff.
			var delayed []string
			for rh, after := range vis.set {
				delayed = append(delayed, rh[len("rh-"):])
				if after < retryDelay/2 || after > retryDelay {
					t.Errorf("%s comes back after %s, want %s to %s", rh, after, retryDelay/2, retryDelay)
				}
			}
			sort.Strings(delayed)
			if diff := cmp.Diff(tt.failed, delayed); diff != "" {
				t.Errorf("messages whose visibility was set (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDispatchSQSReportsAFailureEvenWhenItsDelayIsNotSet(t *testing.T) {
	for _, tt := range []struct {
		name string
		vis  eventapi.Visibility
	}{
		{"without a Visibility the queue's timeout applies", nil},
		{"a Visibility that fails leaves the queue's timeout", &visibility{err: errors.New("sqs down")}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newDispatchFixture(t)
			resp, err := eventapi.DispatchSQS(f.d, tt.vis, discard)(context.Background(), events.SQSEvent{Records: []events.SQSMessage{message(t, "m1", now, "b@example.com"), poison("m2")}})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"m1", "m2"}, failures(resp)); diff != "" {
				t.Errorf("batchItemFailures (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDispatchSQSTakesTheFixturesAsTheQueueSendsThem(t *testing.T) {
	f := newDispatchFixture(t)
	vis := &visibility{}
	var ev events.SQSEvent
	if err := json.Unmarshal(loadEvent(t, "dispatch.poison.json"), &ev); err != nil {
		t.Fatal(err)
	}
	resp, err := eventapi.DispatchSQS(f.d, vis, discard)(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"2e1424d4-f796-459a-8184-9c92662be6da"}
	if diff := cmp.Diff(want, failures(resp)); diff != "" {
		t.Errorf("batchItemFailures (-want +got):\n%s", diff)
	}
	// Received five times: the backoff is at its cap.
	if after := vis.set[ev.Records[0].ReceiptHandle]; after < retryDelay/2 || after > retryDelay {
		t.Errorf("poison message comes back after %s, want %s to %s", after, retryDelay/2, retryDelay)
	}
}

// failingParking parks nothing.
type failingParking struct{ *memory.Store }

func (failingParking) Park(context.Context, tenant.Tenant, delivery.ParkedJob) error {
	return errors.New("store down")
}

func TestDeadLetterSQSClosesAndParksEachJob(t *testing.T) {
	f := newDispatchFixture(t)
	ctx := context.Background()
	// b was claimed and throttled; c was never looked at.
	if _, err := eventapi.DispatchSQS(f.d, nil, discard)(ctx, events.SQSEvent{Records: []events.SQSMessage{message(t, "m1", now, "b@example.com")}}); err != nil {
		t.Fatal(err)
	}
	ev := events.SQSEvent{Records: []events.SQSMessage{message(t, "m1", now, "b@example.com", "c@example.com"), poison("m2")}}
	resp, err := eventapi.DeadLetterSQS(f.d, discard)(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"m2"}, failures(resp)); diff != "" {
		t.Errorf("batchItemFailures (-want +got):\n%s (the undecodable message stays; the other is done)", diff)
	}
	want := map[string]delivery.Outcome{"b@example.com": delivery.FailedRetriesExhausted, "c@example.com": delivery.FailedRetriesExhausted}
	got := map[string]delivery.Outcome{}
	for _, e := range f.store.AllEntries() {
		got[e.UserID] = e.Outcome
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ledger outcomes (-want +got):\n%s", diff)
	}
	parked, err := f.store.Parked(ctx, acme, "ex-m1")
	if err != nil {
		t.Fatal(err)
	}
	if len(parked) != 1 || parked[0].Reason != "dead-letter queue" || len(parked[0].Job.Recipients) != 2 {
		t.Errorf("parked %+v, want the job of two recipients, for the dead-letter queue", parked)
	}
}

func TestDeadLetterSQSKeepsAJobItCannotPark(t *testing.T) {
	f := newDispatchFixture(t)
	f.d.Parking = failingParking{f.store}
	ctx := context.Background()
	resp, err := eventapi.DeadLetterSQS(f.d, discard)(ctx, events.SQSEvent{Records: []events.SQSMessage{message(t, "m1", now, "a@example.com")}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"m1"}, failures(resp)); diff != "" {
		t.Errorf("batchItemFailures (-want +got):\n%s", diff)
	}
	if parked, _ := f.store.Parked(ctx, acme, "ex-m1"); len(parked) != 0 {
		t.Errorf("parked %+v with parking down", parked)
	}
}

// lagMetrics keeps the dispatch lags recorded.
type lagMetrics struct{ lags []float64 }

func (m *lagMetrics) Add(metric metrics.Metric, v float64, _ metrics.Dims) {
	if metric == metrics.DispatchLag {
		m.lags = append(m.lags, v)
	}
}

func TestDispatchSQSMeasuresLagFromTheMessagesSendingLessItsDelay(t *testing.T) {
	f := newDispatchFixture(t)
	m := &lagMetrics{}
	f.d.Metrics = m
	msg := message(t, "m1", now, "a@example.com")
	msg.Attributes["SentTimestamp"] = strconv.FormatInt(time.Now().Add(-10*time.Second).UnixMilli(), 10)
	four := "4"
	msg.MessageAttributes = map[string]events.SQSMessageAttribute{delivery.DelayAttribute: {DataType: "Number", StringValue: &four}}
	if _, err := eventapi.DispatchSQS(f.d, &visibility{}, discard)(context.Background(), events.SQSEvent{Records: []events.SQSMessage{msg}}); err != nil {
		t.Fatal(err)
	}
	if len(m.lags) != 1 || m.lags[0] < 5900 || m.lags[0] > 8000 {
		t.Errorf("dispatch lags %v ms, want one of about 6000 (sent 10 s ago, 4 s of it a deliberate delay)", m.lags)
	}
}

// In AWS, SQS keeps the trace header of the call that sent a message
// (AWSTraceHeader): each job's work is a subsegment of that call, in the
// trigger's trace, annotated with its execution and campaign, even when
// Lambda did not sample the dispatch invocation itself; a job that failed
// is a fault. A message sent untraced is a job of the invocation's trace.
func TestDispatchSQSJoinsEachJobToTheTraceThatQueuedIt(t *testing.T) {
	f := newDispatchFixture(t)
	var mu sync.Mutex
	var docs []map[string]any
	tr := tracing.New(func(b []byte) error {
		var d map[string]any
		_, body, _ := bytes.Cut(b, []byte("\n"))
		if err := json.Unmarshal(body, &d); err != nil {
			t.Error(err)
		}
		mu.Lock()
		defer mu.Unlock()
		docs = append(docs, d)
		return nil
	})
	queued := func(m events.SQSMessage, parent string) events.SQSMessage {
		m.Attributes["AWSTraceHeader"] = "Root=1-692cf0a0-5c1a3d8e9b7f4a6c2d1e0f9a;Parent=" + parent + ";Sampled=1"
		return m
	}
	ev := events.SQSEvent{Records: []events.SQSMessage{
		queued(message(t, "m1", now, "a@example.com"), "aaaaaaaaaaaaaaaa"),
		queued(message(t, "m2", now, "b@example.com"), "bbbbbbbbbbbbbbbb"),
		message(t, "m3", now, "c@example.com"),
	}}
	//nolint:staticcheck // aws-lambda-go's own key, a plain string
	ctx := context.WithValue(context.Background(), "x-amzn-trace-id", "Root=1-692cf0a1-000000000000000000000001;Parent=1111111111111111;Sampled=0")
	ctx, inv := tr.Begin(ctx, "Dispatch")
	if inv != nil {
		t.Fatal("an unsampled invocation was traced")
	}
	if _, err := eventapi.DispatchSQS(f.d, &visibility{}, discard)(ctx, ev); err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]any{}
	for _, d := range docs {
		got[d["parent_id"].(string)] = d
	}
	if len(docs) != 2 || got["aaaaaaaaaaaaaaaa"] == nil || got["bbbbbbbbbbbbbbbb"] == nil {
		t.Fatalf("documents = %v", docs)
	}
	for parent, d := range got {
		ann, _ := d["annotations"].(map[string]any)
		if d["trace_id"] != "1-692cf0a0-5c1a3d8e9b7f4a6c2d1e0f9a" || d["type"] != "subsegment" || d["name"] != "job" || ann["campaignId"] != "camp-1" {
			t.Errorf("job under %s = %v", parent, d)
		}
	}
	if ann := got["aaaaaaaaaaaaaaaa"]["annotations"].(map[string]any); ann["executionId"] != "ex-m1" || got["aaaaaaaaaaaaaaaa"]["fault"] != nil {
		t.Errorf("the delivered job = %v", got["aaaaaaaaaaaaaaaa"])
	}
	if got["bbbbbbbbbbbbbbbb"]["fault"] != true {
		t.Errorf("the throttled job is not a fault: %v", got["bbbbbbbbbbbbbbbb"])
	}
}
