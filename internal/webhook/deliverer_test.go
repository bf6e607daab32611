package webhook_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/webhook"
)

const secret = "0123456789abcdef-secret"

// receiver is a webhook endpoint that records what it receives and
// answers with the status its function returns.
type receiver struct {
	mu     sync.Mutex
	got    []request
	status func(n int) int
}

type request struct {
	header http.Header
	body   []byte
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.got = append(rc.got, request{header: r.Header.Clone(), body: body})
	n := len(rc.got)
	rc.mu.Unlock()
	code := http.StatusOK
	if rc.status != nil {
		code = rc.status(n)
	}
	if code >= 300 && code < 400 {
		w.Header().Set("Location", "http://127.0.0.1:1/elsewhere")
	}
	w.WriteHeader(code)
	_, _ = io.WriteString(w, "the receiver's answer, never recorded")
}

func (rc *receiver) requests() []request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]request(nil), rc.got...)
}

type fixture struct {
	store *memory.Store
	clock *clock
	d     *webhook.Deliverer
	dead  *fakeQueue
	rc    *receiver
	srv   *httptest.Server
}

// newFixture stores a webhook of acme's email and sms pointing at a
// loopback receiver (allowed, as the local cloud allows it).
func newFixture(t *testing.T, status func(n int) int) *fixture {
	t.Helper()
	rc := &receiver{status: status}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	f := &fixture{store: memory.New(), clock: &clock{t: t0}, dead: &fakeQueue{}, rc: rc, srv: srv}
	s := newService(f.store, publicResolver())
	s.AllowLoopbackHTTP = true
	in := validInput()
	in.URL, in.Secret = srv.URL+"/hook", secret
	if _, err := s.Create(context.Background(), acme, in); err != nil {
		t.Fatal(err)
	}
	f.d = &webhook.Deliverer{Store: f.store, DeadLetters: f.dead, AllowLoopbackHTTP: true, Now: f.clock.Now}
	return f
}

func message(id string) webhook.Message {
	n := 1
	return webhook.Message{ID: id, Tenant: acme, Channel: "email", At: t0.Add(-time.Minute), Payload: webhook.Payload{
		RequestID: "req-1",
		MessageExecution: webhook.MessageExecution{MessageExecutionID: "exec-1", MessageType: "transactional", CampaignID: "camp-1",
			CampaignVersionID: "3", CampaignType: "api-triggered"},
		Feedback:    webhook.Feedback{Status: webhook.StatusDelivered, NumberOfMessageParts: &n, DeliveryTimestamp: t0.Add(-time.Minute)},
		IdentityMap: map[string][]webhook.Identity{"crmId": {{ID: "u-1"}}},
	}}
}

func TestADeliveryIsSignedAndCarriesItsHeaders(t *testing.T) {
	f := newFixture(t, nil)
	if err := f.d.Deliver(context.Background(), message("ev-1")); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	got := f.rc.requests()
	if len(got) != 1 {
		t.Fatalf("the receiver got %d requests, want 1", len(got))
	}
	h := got[0].header
	for name, want := range map[string]string{"Content-Type": "application/json", "User-Agent": "Herald-Webhook/1",
		"X-Herald-Event-Id": "ev-1", "X-Api-Key": "k-1", "X-Herald-Timestamp": strconv.FormatInt(t0.Unix(), 10)} {
		if h.Get(name) != want {
			t.Errorf("header %s = %q, want %q", name, h.Get(name), want)
		}
	}
	if err := webhook.Verify(secret, h.Get("X-Herald-Timestamp"), h.Get("X-Herald-Signature"), got[0].body, t0, 5*time.Minute); err != nil {
		t.Errorf("the signature does not verify: %v", err)
	}
	if err := webhook.Verify("another-secret-0123", h.Get("X-Herald-Timestamp"), h.Get("X-Herald-Signature"), got[0].body, t0, 5*time.Minute); err == nil {
		t.Errorf("the signature verifies with another secret")
	}
	if err := webhook.Verify(secret, h.Get("X-Herald-Timestamp"), h.Get("X-Herald-Signature"), got[0].body, t0.Add(time.Hour), 5*time.Minute); err == nil {
		t.Errorf("an hour-old delivery verifies: replays would be accepted")
	}
	rec, err := f.store.GetDelivery(context.Background(), acme, "ev-1")
	if err != nil || rec.Status != webhook.Delivered || rec.Attempts != 1 || rec.LastStatusCode != 200 {
		t.Errorf("record = %+v, %v; want delivered after 1 attempt", rec, err)
	}
}

func TestTheSameEventIDIsPostedOnce(t *testing.T) {
	f := newFixture(t, nil)
	for range 3 {
		if err := f.d.Deliver(context.Background(), message("ev-1")); err != nil {
			t.Fatalf("Deliver: %v", err)
		}
	}
	if n := len(f.rc.requests()); n != 1 {
		t.Errorf("the receiver got %d requests, want 1", n)
	}
}

func TestAReceiverDownThenUpGetsTheEventOnce(t *testing.T) {
	f := newFixture(t, func(n int) int {
		if n <= 3 {
			return http.StatusServiceUnavailable
		}
		return http.StatusNoContent
	})
	ctx := context.Background()
	var waits []time.Duration
	for attempt := 1; ; attempt++ {
		err := f.d.Deliver(ctx, message("ev-1"))
		if err == nil {
			break
		}
		var re *webhook.RetryError
		if !errors.As(err, &re) || attempt > 5 {
			t.Fatalf("attempt %d: %v, want a retry", attempt, err)
		}
		waits = append(waits, re.After)
		f.clock.Add(re.After)
	}
	// A copy of the message that comes back later is not sent again.
	if err := f.d.Deliver(ctx, message("ev-1")); err != nil {
		t.Fatal(err)
	}
	if n := len(f.rc.requests()); n != 4 {
		t.Errorf("the receiver got %d requests, want 4 (3 refused, 1 accepted)", n)
	}
	for i, w := range waits {
		base := webhook.DefaultTiming.Backoff(i + 1)
		if w < base/2 || w > base {
			t.Errorf("wait %d = %s, want within [%s, %s]", i+1, w, base/2, base)
		}
	}
	rec, _ := f.store.GetDelivery(ctx, acme, "ev-1")
	if rec.Status != webhook.Delivered || rec.Attempts != 4 || rec.LastStatusCode != 204 || rec.LastError != "" {
		t.Errorf("record = %s after %d attempts (%d %q), want delivered after 4", rec.Status, rec.Attempts, rec.LastStatusCode, rec.LastError)
	}
}

func TestRetriesEndAfter24HoursWithAFailedRecordAndADeadLetter(t *testing.T) {
	f := newFixture(t, func(int) int { return http.StatusInternalServerError })
	ctx := context.Background()
	attempts := 0
	for {
		attempts++
		err := f.d.Deliver(ctx, message("ev-1"))
		if err == nil {
			break
		}
		var re *webhook.RetryError
		if !errors.As(err, &re) || attempts > 100 {
			t.Fatalf("attempt %d: %v", attempts, err)
		}
		f.clock.Add(re.After)
	}
	if elapsed := f.clock.Now().Sub(t0); elapsed < 24*time.Hour || elapsed > 24*time.Hour+time.Minute {
		t.Errorf("gave up after %s, want 24h", elapsed)
	}
	rec, _ := f.store.GetDelivery(ctx, acme, "ev-1")
	if rec.Status != webhook.Failed || rec.Attempts != attempts || rec.LastStatusCode != 500 || rec.LastError != webhook.ClassHTTPStatus {
		t.Errorf("record = %s, %d attempts, %d %q; want failed after %d, 500 http_status", rec.Status, rec.Attempts, rec.LastStatusCode, rec.LastError, attempts)
	}
	if ids := f.dead.ids(); !cmp.Equal(ids, []string{"ev-1"}) {
		t.Errorf("dead letters = %v, want [ev-1]", ids)
	}
	// A failed delivery is final: a copy does not try again.
	if err := f.d.Deliver(ctx, message("ev-1")); err != nil || len(f.rc.requests()) != attempts {
		t.Errorf("a copy after failure: %v, %d requests; want none more", err, len(f.rc.requests()))
	}
	// A redrive queues it again with a new window; it is then delivered.
	s := newService(f.store, publicResolver())
	q := &fakeQueue{}
	s.Queue = q
	res, err := s.Redrive(ctx, acme)
	if err != nil || res.Requeued != 1 {
		t.Fatalf("Redrive = %+v, %v; want 1 requeued", res, err)
	}
	f.rc.status = nil
	for _, m := range q.all() {
		if err := f.d.Deliver(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if rec, _ := f.store.GetDelivery(ctx, acme, "ev-1"); rec.Status != webhook.Delivered {
		t.Errorf("after the redrive: %s, want delivered", rec.Status)
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	f := newFixture(t, func(int) int { return http.StatusFound })
	err := f.d.Deliver(context.Background(), message("ev-1"))
	var re *webhook.RetryError
	if !errors.As(err, &re) {
		t.Fatalf("Deliver = %v, want a retry", err)
	}
	rec, _ := f.store.GetDelivery(context.Background(), acme, "ev-1")
	if rec.LastStatusCode != http.StatusFound || rec.LastError != webhook.ClassRedirect || len(f.rc.requests()) != 1 {
		t.Errorf("record %d %q, %d requests; want 302 redirect_not_followed, 1 request", rec.LastStatusCode, rec.LastError, len(f.rc.requests()))
	}
}

func TestDNSRebindingIsRefusedWhenConnecting(t *testing.T) {
	rc := &receiver{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	st := memory.New()
	res := publicResolver()
	// Public when the webhook is stored...
	res.set("rebind.acme.example", "93.184.216.34")
	in := validInput()
	in.URL = "https://rebind.acme.example" + port + "/hook"
	if _, err := newService(st, res).Create(context.Background(), acme, in); err != nil {
		t.Fatal(err)
	}
	// ...loopback (where the receiver listens) when it is called.
	res.set("rebind.acme.example", "127.0.0.1")
	d := &webhook.Deliverer{Store: st, Resolver: res, Now: func() time.Time { return t0 }}
	err := d.Deliver(context.Background(), message("ev-1"))
	var re *webhook.RetryError
	if !errors.As(err, &re) {
		t.Fatalf("Deliver = %v, want a retry", err)
	}
	rec, _ := st.GetDelivery(context.Background(), acme, "ev-1")
	if rec.LastError != webhook.ClassRefusedAddress || len(rc.requests()) != 0 {
		t.Errorf("record %q, %d requests; want refused_address and none", rec.LastError, len(rc.requests()))
	}
}

func TestEventsOfAChannelNoLongerSubscribedAreSkipped(t *testing.T) {
	f := newFixture(t, nil)
	m := message("ev-push")
	m.Channel = "push"
	if err := f.d.Deliver(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if err := f.store.DeleteWebhook(context.Background(), acme); err != nil {
		t.Fatal(err)
	}
	if err := f.d.Deliver(context.Background(), message("ev-gone")); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"ev-push", "ev-gone"} {
		if rec, _ := f.store.GetDelivery(context.Background(), acme, id); rec.Status != webhook.Skipped {
			t.Errorf("%s: %s, want skipped", id, rec.Status)
		}
	}
	if n := len(f.rc.requests()); n != 0 {
		t.Errorf("the receiver got %d requests, want none", n)
	}
}

func TestDeliveriesAreListedNewestFirstAndFilteredByStatus(t *testing.T) {
	f := newFixture(t, func(n int) int {
		if n == 2 {
			return 500
		}
		return 200
	})
	ctx := context.Background()
	for _, id := range []string{"ev-1", "ev-2", "ev-3"} {
		_ = f.d.Deliver(ctx, message(id))
		f.clock.Add(time.Second)
	}
	s := newService(f.store, publicResolver())
	p, err := s.Deliveries(ctx, acme, webhook.DeliveryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range p.Items {
		got = append(got, d.EventID+":"+string(d.Status))
	}
	if diff := cmp.Diff([]string{"ev-3:delivered", "ev-2:retrying", "ev-1:delivered"}, got); diff != "" {
		t.Errorf("Deliveries (-want +got):\n%s", diff)
	}
	p, err = s.Deliveries(ctx, acme, webhook.DeliveryFilter{Status: webhook.Retrying})
	if err != nil || len(p.Items) != 1 || p.Items[0].EventID != "ev-2" {
		t.Errorf("Deliveries status=retrying = %+v, %v", p.Items, err)
	}
	_, err = s.Deliveries(ctx, acme, webhook.DeliveryFilter{Status: "lost", Limit: 1000})
	if diff := cmp.Diff([]string{"status", "limit"}, fields(t, err)); diff != "" {
		t.Errorf("bad filter fields (-want +got):\n%s", diff)
	}
}

func TestConcurrentCopiesOfAnEventArePostedOnce(t *testing.T) {
	f := newFixture(t, nil)
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() { _ = f.d.Deliver(context.Background(), message("ev-"+strconv.Itoa(i))) })
		for range 3 {
			wg.Go(func() { _ = f.d.Deliver(context.Background(), message("ev-same")) })
		}
	}
	wg.Wait()
	seen := map[string]int{}
	for _, r := range f.rc.requests() {
		seen[r.header.Get(webhook.HeaderEventID)]++
	}
	if len(seen) != 11 || seen["ev-same"] != 1 {
		t.Errorf("requests per event = %v, want 11 events once each", seen)
	}
}

func TestAnEventIsRecordedFailedOnlyOnceItIsDeadLettered(t *testing.T) {
	f := newFixture(t, func(int) int { return http.StatusBadGateway })
	f.d.Timing = webhook.Timing{Window: time.Minute}
	ctx := context.Background()
	if err := f.d.Deliver(ctx, message("ev-1")); err == nil {
		t.Fatal("first attempt = nil, want a retry")
	}
	f.clock.Add(2 * time.Minute)
	f.dead.fail = errors.New("sqs down")
	err := f.d.Deliver(ctx, message("ev-1"))
	var re *webhook.RetryError
	if err == nil || errors.As(err, &re) {
		t.Fatalf("attempt with the dead-letter queue down = %v, want its error", err)
	}
	if rec, _ := f.store.GetDelivery(ctx, acme, "ev-1"); rec.Status == webhook.Failed {
		t.Errorf("recorded failed before it was dead-lettered")
	}
	f.dead.fail = nil
	f.clock.Add(time.Minute) // past the attempt's lease
	if err := f.d.Deliver(ctx, message("ev-1")); err != nil {
		t.Fatal(err)
	}
	rec, _ := f.store.GetDelivery(ctx, acme, "ev-1")
	if rec.Status != webhook.Failed || !cmp.Equal(f.dead.ids(), []string{"ev-1"}) {
		t.Errorf("status %s, dead letters %v; want failed and [ev-1]", rec.Status, f.dead.ids())
	}
}
