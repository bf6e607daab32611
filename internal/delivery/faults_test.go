package delivery_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/tenant"
)

// flakyLedger is the memory ledger whose Finish fails while failFinish
// is positive, as a store that stopped answering would.
type flakyLedger struct {
	*memory.Store
	mu         sync.Mutex
	failFinish int
	failClaim  int
}

// take spends one of the failures left in *n, if any, and reports
// whether the call fails.
func (l *flakyLedger) take(n *int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if *n > 0 {
		*n--
		return true
	}
	return false
}

func (l *flakyLedger) Claim(ctx context.Context, t tenant.Tenant, e delivery.Entry) (delivery.Entry, bool, error) {
	if l.take(&l.failClaim) {
		return delivery.Entry{}, false, errors.New("dynamodb: InternalServerError")
	}
	return l.Store.Claim(ctx, t, e)
}

func (l *flakyLedger) ClaimAndStart(ctx context.Context, t tenant.Tenant, e delivery.Entry, addr string, cw *delivery.CapWrite) (delivery.ClaimResult, error) {
	if l.take(&l.failClaim) {
		return 0, errors.New("dynamodb: InternalServerError")
	}
	return l.Store.ClaimAndStart(ctx, t, e, addr, cw)
}

func (l *flakyLedger) Finish(ctx context.Context, t tenant.Tenant, e delivery.Entry) error {
	if l.take(&l.failFinish) {
		return errors.New("dynamodb: InternalServerError")
	}
	return l.Store.Finish(ctx, t, e)
}

func external(ns, id, email string) delivery.Recipient {
	return delivery.Recipient{Type: "external", Namespace: ns, UserID: id, Email: email}
}

// counts returns the execution's counters.
func (f *fixture) counts(t *testing.T) map[delivery.Outcome]int64 {
	t.Helper()
	c, err := f.store.Counts(context.Background(), acme, "ex-1")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wantCounts checks the execution's outcome counts; what names them in
// the failure.
func (f *fixture) wantCounts(t *testing.T, want map[delivery.Outcome]int64, what string) {
	t.Helper()
	if diff := cmp.Diff(want, f.counts(t)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

// wantSent checks how many emails the mailer sent; format says so with
// the number sent (its one verb).
func (f *fixture) wantSent(t *testing.T, want int, format string) {
	t.Helper()
	if n := len(f.mailer.Sent()); n != want {
		t.Errorf(format, n)
	}
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

func TestRecipientsDifferingOnlyByNamespaceEachGetTheirOwnMessage(t *testing.T) {
	f := newFixture(t, defaultContent, defaultSettings)
	j := job(external("crmId", "cust-42", "a@example.com"), external("loyaltyId", "cust-42", "b@example.com"))
	if err := f.d.Dispatch(context.Background(), j); err != nil {
		t.Fatal(err)
	}
	var to []string
	for _, e := range f.mailer.Sent() {
		to = append(to, e.To)
	}
	if diff := cmp.Diff([]string{"a@example.com", "b@example.com"}, sortedStrings(to)); diff != "" {
		t.Errorf("sent to (-want +got):\n%s", diff)
	}
	if n := len(f.store.AllEntries()); n != 2 {
		t.Errorf("ledger has %d entries, want 2", n)
	}
	f.wantCounts(t, map[delivery.Outcome]int64{delivery.Sent: 2}, "counts")
}

func TestTwoRecipientsWithOneAddressGetOneMessage(t *testing.T) {
	f := newFixture(t, defaultContent, defaultSettings)
	f.d.Parallel = 1
	j := job(external("crmId", "1", "Jane@Example.com"), external("crmId", "2", "jane@example.com"))
	for range 2 {
		if err := f.d.Dispatch(context.Background(), j); err != nil {
			t.Fatal(err)
		}
	}
	f.wantSent(t, 1, "sent %d emails to one address, want 1")
	want := []outcome{{"1", delivery.Done, delivery.Sent}, {"2", delivery.Done, delivery.ExcludedDuplicate}}
	if diff := cmp.Diff(want, f.ledger()); diff != "" {
		t.Errorf("ledger (-want +got):\n%s", diff)
	}
}

func TestEachFailureClassEndsAsTheIssueSays(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		wantRetry bool
		want      delivery.Outcome // after the first dispatch; "" while retried
		wantCalls int              // provider calls after a second dispatch with the provider healthy
		wantFinal delivery.Outcome
	}{
		{"a 5xx is ambiguous and never sent again", &delivery.SendError{Failure: delivery.Uncertain, Code: "5xx"}, false, "ambiguous:5xx", 1, "ambiguous:5xx"},
		{"a timeout after writing is ambiguous", &delivery.SendError{Failure: delivery.Uncertain, Code: "timeout"}, false, "ambiguous:timeout", 1, "ambiguous:timeout"},
		{"an error nobody classified counts as ambiguous", errors.New("boom"), false, "ambiguous:unclassified", 1, "ambiguous:unclassified"},
		{"a refusal fails with its code", &delivery.SendError{Failure: delivery.Refused, Code: "MessageRejected"}, false, "failed:MessageRejected", 1, "failed:MessageRejected"},
		{"a request that never reached the provider is retried", &delivery.SendError{Failure: delivery.NotSent, Code: "unreachable"}, true, "", 2, delivery.Sent},
		{"a throttle is retried", &delivery.SendError{Failure: delivery.Throttled, Code: "TooManyRequestsException"}, true, "", 2, delivery.Sent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, defaultContent, defaultSettings)
			calls := 0
			fail := true
			f.mailer.Fail = func(delivery.Email) error {
				calls++
				if fail {
					return tt.err
				}
				return nil
			}
			j := job(external("email", "a@example.com", ""))
			err := f.d.Dispatch(context.Background(), j)
			if got := errors.Is(err, delivery.ErrRetry); got != tt.wantRetry || !tt.wantRetry && err != nil {
				t.Fatalf("first Dispatch = %v, want retry %t", err, tt.wantRetry)
			}
			state := delivery.Done
			if tt.want == "" {
				state = delivery.Claimed
			}
			if diff := cmp.Diff([]outcome{{"a@example.com", state, tt.want}}, f.ledger()); diff != "" {
				t.Errorf("ledger after the first dispatch (-want +got):\n%s", diff)
			}
			fail = false
			f.advance(delivery.DefaultTiming.RetryFirst)
			if err := f.d.Dispatch(context.Background(), j); err != nil {
				t.Fatalf("second Dispatch: %v", err)
			}
			if calls != tt.wantCalls {
				t.Errorf("provider calls = %d, want %d", calls, tt.wantCalls)
			}
			if diff := cmp.Diff([]outcome{{"a@example.com", delivery.Done, tt.wantFinal}}, f.ledger()); diff != "" {
				t.Errorf("ledger at the end (-want +got):\n%s", diff)
			}
			f.wantCounts(t, map[delivery.Outcome]int64{tt.wantFinal: 1}, "counts")
		})
	}
}

func TestRetriesEndAtTheDeadline(t *testing.T) {
	tests := []struct {
		failure delivery.Failure
		code    string
		want    delivery.Outcome
	}{
		{delivery.NotSent, "unreachable", delivery.FailedUnavailable},
		{delivery.Throttled, "Throttling", delivery.FailedThrottled},
		{delivery.Held, "SendingPausedException", "failed:SendingPausedException"},
	}
	for _, tt := range tests {
		t.Run(string(tt.want), func(t *testing.T) {
			f := newFixture(t, defaultContent, defaultSettings)
			calls := 0
			f.mailer.Fail = func(delivery.Email) error {
				calls++
				return &delivery.SendError{Failure: tt.failure, Code: tt.code}
			}
			j := job(external("email", "a@example.com", ""))
			j.Receipt = delivery.Receipt{Count: 1, First: t0}
			deadline := delivery.DefaultTiming.RetryDeadline
			for step := time.Duration(0); step < deadline; step += 10 * time.Minute {
				if err := f.d.Dispatch(context.Background(), j); !errors.Is(err, delivery.ErrRetry) {
					t.Fatalf("Dispatch %s in = %v, want a retry before the deadline", step, err)
				}
				f.advance(10 * time.Minute)
				j.Receipt.Count++
			}
			if err := f.d.Dispatch(context.Background(), j); err != nil {
				t.Fatalf("Dispatch past the deadline = %v, want the recipient closed", err)
			}
			if diff := cmp.Diff([]outcome{{"a@example.com", delivery.Done, tt.want}}, f.ledger()); diff != "" {
				t.Errorf("ledger (-want +got):\n%s", diff)
			}
			if len(f.mailer.Sent()) != 0 {
				t.Errorf("something was sent")
			}
		})
	}
}

func TestAHeldChannelWaitsForAProbe(t *testing.T) {
	f := newFixture(t, defaultContent, defaultSettings)
	f.d.Parallel = 1
	paused := true
	calls := 0
	f.mailer.Fail = func(delivery.Email) error {
		calls++
		if paused {
			return &delivery.SendError{Failure: delivery.Held, Code: "SendingPausedException"}
		}
		return nil
	}
	j := job(external("email", "a@example.com", ""), external("email", "b@example.com", ""), external("email", "c@example.com", ""))
	err := f.d.Dispatch(context.Background(), j)
	var re *delivery.RetryError
	if !errors.As(err, &re) {
		t.Fatalf("Dispatch = %v, want a retry", err)
	}
	if calls != 1 {
		t.Errorf("provider calls = %d, want 1: after an account-level refusal nothing more is attempted", calls)
	}
	if re.After < time.Second {
		t.Errorf("retry after %s, want the hold's length", re.After)
	}
	// Before the hold ends: still nothing attempted.
	if err := f.d.Dispatch(context.Background(), j); !errors.Is(err, delivery.ErrRetry) || calls != 1 {
		t.Fatalf("Dispatch during the hold = %v with %d calls, want a retry and no call", err, calls)
	}
	// The probe fails: held again, for longer.
	f.advance(re.After)
	if err := f.d.Dispatch(context.Background(), j); !errors.As(err, &re) || calls != 2 {
		t.Fatalf("Dispatch at the probe = %v with %d calls, want a retry after one probe", err, calls)
	}
	paused = false
	f.advance(re.After)
	if err := f.d.Dispatch(context.Background(), j); err != nil {
		t.Fatalf("Dispatch after the account recovered: %v", err)
	}
	f.wantSent(t, 3, "sent %d emails after the probe succeeded, want 3")
	f.wantCounts(t, map[delivery.Outcome]int64{delivery.Sent: 3}, "counts")
}

func TestAnOutcomeNotRecordedAfterASendIsNeverSentAgain(t *testing.T) {
	f := newFixture(t, defaultContent, defaultSettings)
	fl := &flakyLedger{Store: f.store, failFinish: 1000}
	f.d.Ledger = fl
	j := job(external("email", "a@example.com", ""))
	if err := f.d.Dispatch(context.Background(), j); !errors.Is(err, delivery.ErrRetry) {
		t.Fatalf("Dispatch with the outcome unrecordable = %v, want a retry", err)
	}
	// Redelivered while the attempt could still be alive: waited for.
	f.advance(delivery.DefaultTiming.RetryFirst)
	fl.mu.Lock()
	fl.failFinish = 0
	fl.mu.Unlock()
	if err := f.d.Dispatch(context.Background(), j); !errors.Is(err, delivery.ErrRetry) {
		t.Fatalf("Dispatch before the attempt is stale = %v, want a retry", err)
	}
	f.advance(delivery.DefaultTiming.StaleAttempt)
	if err := f.d.Dispatch(context.Background(), j); err != nil {
		t.Fatalf("Dispatch once the attempt is stale: %v", err)
	}
	f.wantSent(t, 1, "sent %d emails, want 1")
	if diff := cmp.Diff([]outcome{{"a@example.com", delivery.Done, delivery.AmbiguousInterrupted}}, f.ledger()); diff != "" {
		t.Errorf("ledger (-want +got):\n%s", diff)
	}
}

func TestCheckpointsComeInOrder(t *testing.T) {
	f := newFixture(t, defaultContent, defaultSettings)
	var mu sync.Mutex
	var got []string
	f.d.Checkpoint = func(name string, _ delivery.Key) { mu.Lock(); got = append(got, name); mu.Unlock() }
	if err := f.d.Dispatch(context.Background(), job(external("email", "a@example.com", ""))); err != nil {
		t.Fatal(err)
	}
	want := []string{delivery.CheckpointClaimed, delivery.CheckpointStarted, delivery.CheckpointSent, delivery.CheckpointFinished}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("checkpoints (-want +got):\n%s", diff)
	}
}

func TestCountsAddUpWhateverIsRepeated(t *testing.T) {
	f := newFixture(t, defaultContent, defaultSettings)
	f.mailer.Fail = func(e delivery.Email) error {
		if e.To == "bounce@example.com" {
			return &delivery.SendError{Failure: delivery.Refused, Code: "MessageRejected"}
		}
		return nil
	}
	j := job(external("email", "a@example.com", ""), external("email", "b@example.com", ""), external("email", "bounce@example.com", ""),
		external("crmId", "no-address", ""), external("crmId", "dup", "a@example.com"))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { _ = f.d.Dispatch(context.Background(), j) })
	}
	wg.Wait()
	if err := f.d.Dispatch(context.Background(), j); err != nil {
		t.Fatal(err)
	}
	want := map[delivery.Outcome]int64{delivery.Sent: 2, "failed:MessageRejected": 1, delivery.ExcludedNoAddress: 1, delivery.ExcludedDuplicate: 1}
	f.wantCounts(t, want, "counts after five deliveries of one job")
	f.wantSent(t, 2, "sent %d emails, want 2")
}

func TestAbandonClosesOpenRecipientsAndARedriveSendsThem(t *testing.T) {
	f := newFixture(t, defaultContent, defaultSettings)
	f.d.Parking = f.store
	ctx := context.Background()
	throttled := true
	f.mailer.Fail = func(e delivery.Email) error {
		if throttled && e.To == "b@example.com" {
			return &delivery.SendError{Failure: delivery.Throttled, Code: "Throttling"}
		}
		return nil
	}
	a, b, c := external("email", "a@example.com", ""), external("email", "b@example.com", ""), external("email", "c@example.com", "")
	j := job(a, b, c)
	j.Channel = campaign.Email
	// a is sent, b throttled (claim kept); c was never looked at.
	if err := f.d.Dispatch(ctx, job(a, b)); !errors.Is(err, delivery.ErrRetry) {
		t.Fatalf("Dispatch = %v, want a retry", err)
	}
	closed, err := f.d.Abandon(ctx, j, "dead-letter queue")
	if err != nil || closed != 2 {
		t.Fatalf("Abandon = %d, %v; want 2 closed", closed, err)
	}
	want := []outcome{{"a@example.com", delivery.Done, delivery.Sent}, {"b@example.com", delivery.Done, delivery.FailedRetriesExhausted},
		{"c@example.com", delivery.Done, delivery.FailedRetriesExhausted}}
	if diff := cmp.Diff(want, f.ledger()); diff != "" {
		t.Errorf("ledger after Abandon (-want +got):\n%s", diff)
	}
	if again, err := f.d.Abandon(ctx, j, "dead-letter queue"); err != nil || again != 0 {
		t.Errorf("Abandon again = %d, %v; want nothing more closed", again, err)
	}
	f.wantCounts(t, map[delivery.Outcome]int64{delivery.Sent: 1, delivery.FailedRetriesExhausted: 2}, "counts after Abandon")

	q := &memory.Queue{}
	res, err := (&delivery.Redriver{Ledger: f.store, Parking: f.store, Queue: q}).Redrive(ctx, acme, "ex-1")
	if err != nil || res.Jobs != 1 || res.Reopened != 2 {
		t.Fatalf("Redrive = %+v, %v; want 1 job, 2 reopened", res, err)
	}
	if parked, _ := f.store.Parked(ctx, acme, "ex-1"); len(parked) != 0 {
		t.Errorf("still parked after the redrive: %+v", parked)
	}
	throttled = false
	for _, rj := range q.Jobs() {
		if err := f.d.Dispatch(ctx, rj); err != nil {
			t.Fatalf("Dispatch of the redriven job: %v", err)
		}
	}
	f.wantCounts(t, map[delivery.Outcome]int64{delivery.Sent: 3}, "counts after the redrive")
	f.wantSent(t, 3, "sent %d emails, want 3 (a once, b and c after the redrive)")
}

func TestAbandonTakesAStaleAttemptForAmbiguous(t *testing.T) {
	f := newFixture(t, defaultContent, defaultSettings)
	f.d.Parking = f.store
	ctx := context.Background()
	k := delivery.Key{ExecutionID: "ex-1", Namespace: "email", UserID: "a@example.com", Channel: campaign.Email}
	e := delivery.Entry{Key: k, CampaignID: "camp-1", Version: 1, State: delivery.Claimed, Token: "gone", ClaimedAt: t0}
	if _, _, err := f.store.Claim(ctx, acme, e); err != nil {
		t.Fatal(err)
	}
	e.InFlight, e.AttemptAt = true, t0
	if err := f.store.Start(ctx, acme, e, "gone"); err != nil {
		t.Fatal(err)
	}
	j := job(external("email", "a@example.com", ""))
	j.Channel = campaign.Email
	if _, err := f.d.Abandon(ctx, j, "dlq"); err == nil {
		t.Errorf("Abandon while the attempt may be alive = nil, want an error (try again later)")
	}
	f.advance(delivery.DefaultTiming.StaleAttempt)
	if _, err := f.d.Abandon(ctx, j, "dlq"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]outcome{{"a@example.com", delivery.Done, delivery.AmbiguousInterrupted}}, f.ledger()); diff != "" {
		t.Errorf("ledger (-want +got):\n%s", diff)
	}
}

func TestLegacyJobsFindEntriesUnderTheEarlierKey(t *testing.T) {
	f := newFixture(t, defaultContent, defaultSettings)
	k := delivery.Key{ExecutionID: "ex-1", UserID: "a@example.com", Channel: campaign.Email}
	f.store.PutLegacyEntry(acme, delivery.Entry{Key: k, CampaignID: "camp-1", Version: 1, State: delivery.Done, Outcome: delivery.Sent, Token: "old", ClaimedAt: t0})
	j := job(external("email", "a@example.com", ""))
	j.Ledger = 0 // queued before LedgerV2
	if err := f.d.Dispatch(context.Background(), j); err != nil {
		t.Fatal(err)
	}
	f.wantSent(t, 0, "a legacy job sent %d emails to a recipient the earlier code had sent to, want 0")
	f.wantCounts(t, map[delivery.Outcome]int64{delivery.Sent: 1}, "counts")
}

func TestAProofIsNeverLeftOpen(t *testing.T) {
	f := newFixture(t, defaultContent, defaultSettings)
	f.mailer.Fail = func(delivery.Email) error {
		return &delivery.SendError{Failure: delivery.Throttled, Code: "Throttling"}
	}
	v, err := f.store.GetVersion(context.Background(), acme, "camp-1", 1)
	if err != nil {
		t.Fatal(err)
	}
	j := delivery.Job{Tenant: acme, ExecutionID: "proof-1", CampaignID: "camp-1", Version: 1, Recipients: []delivery.Recipient{external("email", "a@example.com", "")}}
	out, err := f.d.DispatchProof(context.Background(), j, v)
	if err != nil {
		t.Fatalf("DispatchProof: %v", err)
	}
	if diff := cmp.Diff([]delivery.Outcome{delivery.FailedThrottled}, out); diff != "" {
		t.Errorf("proof outcomes (-want +got):\n%s", diff)
	}
}

func TestLogsCarryCodesNeverValues(t *testing.T) {
	content := defaultContent
	content.Text = `{{formatNumber context.card 2}} {{formatDate context.when "yyyy"}}`
	f := newFixture(t, content, defaultSettings)
	var buf bytes.Buffer
	f.d.Log = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.mailer.Fail = func(e delivery.Email) error {
		return &delivery.SendError{Failure: delivery.Refused, Code: "MessageRejected",
			Err: errors.New("Email address is not verified. The following identities failed the check: secret.person@example.com")}
	}
	r := external("email", "secret.person@example.com", "")
	r.Context = toObject(map[string]any{"card": "4111-1111-1111-1111", "when": "not a date secret.person@example.com"})
	r2 := external("email", "other.secret@example.com", "")
	r2.Context = toObject(map[string]any{"card": 12.5, "when": "2026-01-01"})
	if err := f.d.Dispatch(context.Background(), job(r, r2)); err != nil {
		t.Fatal(err)
	}
	logs := buf.String()
	// The card's whole value, not "4111": a timestamp's nanoseconds can
	// hold that.
	for _, pii := range []string{"secret.person", "4111-1111", "other.secret", "not verified"} {
		if strings.Contains(logs, pii) {
			t.Errorf("logs contain %q:\n%s", pii, logs)
		}
	}
	for _, code := range []string{"render_error", "MessageRejected"} {
		if !strings.Contains(logs, code) {
			t.Errorf("logs lack the code %q:\n%s", code, logs)
		}
	}
}

func sortedStrings(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestNoAttemptStartsWithoutTimeToRecordItsAnswer(t *testing.T) {
	f := newFixture(t, defaultContent, defaultSettings)
	f.d.Timing = delivery.Timing{SendTimeout: 10 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := f.d.Dispatch(ctx, job(external("email", "a@example.com", "")))
	if !errors.Is(err, delivery.ErrRetry) {
		t.Fatalf("Dispatch with 5 s left and a 10 s send timeout = %v, want a retry", err)
	}
	f.wantSent(t, 0, "sent %d emails, want none")
	if entries := f.store.AllEntries(); len(entries) != 0 {
		t.Fatalf("ledger = %+v, want nothing: no work starts without the time to finish it", entries)
	}
	if err := f.d.Dispatch(context.Background(), job(external("email", "a@example.com", ""))); err != nil {
		t.Fatalf("the next delivery: %v", err)
	}
	f.wantSent(t, 1, "sent %d emails after the next delivery, want 1")
}

func TestAClaimThatNeverLandsIsClosedAtTheDeadline(t *testing.T) {
	f := newFixture(t, defaultContent, defaultSettings)
	f.d.Ledger = &flakyLedger{Store: f.store, failClaim: 1 << 30}
	j := job(external("email", "a@example.com", ""))
	j.Receipt = delivery.Receipt{Count: 1, First: t0}
	if err := f.d.Dispatch(context.Background(), j); !errors.Is(err, delivery.ErrRetry) {
		t.Fatalf("Dispatch before the deadline = %v, want a retry", err)
	}
	f.advance(delivery.DefaultTiming.RetryDeadline)
	if err := f.d.Dispatch(context.Background(), j); err != nil {
		t.Fatalf("Dispatch past the deadline = %v, want the recipient closed", err)
	}
	if diff := cmp.Diff([]outcome{{"a@example.com", delivery.Done, delivery.FailedStoreUnavailable}}, f.ledger()); diff != "" {
		t.Errorf("ledger (-want +got):\n%s", diff)
	}
	f.wantCounts(t, map[delivery.Outcome]int64{delivery.FailedStoreUnavailable: 1}, "counts")
	f.wantSent(t, 0, "sent %d emails, want 0")
}

// countingLedger counts the ledger's writes.
type countingLedger struct {
	*memory.Store
	mu     sync.Mutex
	writes int
}

func (l *countingLedger) count() { l.mu.Lock(); l.writes++; l.mu.Unlock() }

func (l *countingLedger) Claim(ctx context.Context, t tenant.Tenant, e delivery.Entry) (delivery.Entry, bool, error) {
	l.count()
	return l.Store.Claim(ctx, t, e)
}

func (l *countingLedger) ClaimAndStart(ctx context.Context, t tenant.Tenant, e delivery.Entry, addr string, cw *delivery.CapWrite) (delivery.ClaimResult, error) {
	l.count()
	return l.Store.ClaimAndStart(ctx, t, e, addr, cw)
}

func (l *countingLedger) ClaimAddress(ctx context.Context, t tenant.Tenant, exec string, ch campaign.Channel, addr, owner string) (string, error) {
	l.count()
	return l.Store.ClaimAddress(ctx, t, exec, ch, addr, owner)
}

func TestARedeliveredJobSkipsTheRecipientsAlreadyCounted(t *testing.T) {
	f := newFixture(t, defaultContent, defaultSettings)
	l := &countingLedger{Store: f.store}
	f.d.Ledger = l
	f.mailer.Fail = func(e delivery.Email) error {
		if e.To == "slow@example.com" {
			return &delivery.SendError{Failure: delivery.Throttled, Code: "Throttling"}
		}
		return nil
	}
	j := job(external("email", "a@example.com", ""), external("email", "b@example.com", ""), external("email", "slow@example.com", ""))
	if err := f.d.Dispatch(context.Background(), j); !errors.Is(err, delivery.ErrRetry) {
		t.Fatalf("first Dispatch = %v, want a retry", err)
	}
	f.mailer.Fail = nil
	l.mu.Lock()
	l.writes = 0
	l.mu.Unlock()
	j.Receipt = delivery.Receipt{Count: 2}
	if err := f.d.Dispatch(context.Background(), j); err != nil {
		t.Fatal(err)
	}
	// All three for the recipient still open: its one-write claim finds
	// the entry it left, then the long way claims the address and
	// takes the entry over.
	if l.writes != 3 {
		t.Errorf("the redelivery made %d claim writes, want 3 (only the recipient still open)", l.writes)
	}
	f.wantSent(t, 3, "sent %d emails, want 3")
	f.wantCounts(t, map[delivery.Outcome]int64{delivery.Sent: 3}, "counts")
}
