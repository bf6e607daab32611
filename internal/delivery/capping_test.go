package delivery_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/capping"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/tenant"
)

// capFixture is a marketing (or transactional) email campaign whose
// tenant caps email at limit per rolling 24 hours.
func capFixture(t *testing.T, cat campaign.Type, limit int) *fixture {
	t.Helper()
	f := newFixtureIn(t, cat, defaultContent, defaultSettings)
	svc := &capping.Service{Store: f.store, Now: f.clock}
	if _, err := svc.SetRules(context.Background(), acme, capping.RuleSet{Rules: []capping.Rule{
		{Channel: campaign.Email, Limit: limit, Window: capping.Rolling24h}}}); err != nil {
		t.Fatal(err)
	}
	f.d.Caps = svc
	return f
}

// sendTo runs execution exec of camp-1 to the external recipients and
// returns their outcomes.
func sendTo(t *testing.T, f *fixture, exec string, addrs ...string) []delivery.Outcome {
	t.Helper()
	j := job()
	j.ExecutionID = exec
	for _, a := range addrs {
		j.Recipients = append(j.Recipients, delivery.Recipient{Type: delivery.TypeExternal, Namespace: "email", UserID: a})
	}
	if err := f.d.Dispatch(context.Background(), j); err != nil {
		t.Fatalf("Dispatch %s: %v", exec, err)
	}
	var out []delivery.Outcome
	for _, a := range addrs {
		es, err := f.store.Entries(context.Background(), acme, delivery.Key{ExecutionID: exec, Namespace: "email", UserID: a, Channel: campaign.Email})
		if err != nil || len(es) != 1 {
			t.Fatalf("entries of %s in %s: %v, %v", a, exec, es, err)
		}
		out = append(out, es[0].Outcome)
	}
	return out
}

func (f *fixture) sentTo(addr string) int {
	n := 0
	for _, e := range f.mailer.Sent() {
		if e.To == addr {
			n++
		}
	}
	return n
}

func TestMarketingPastTheCapIsExcludedAndNotSent(t *testing.T) {
	f := capFixture(t, campaign.Marketing, 2)
	var got []delivery.Outcome
	for i := range 4 {
		got = append(got, sendTo(t, f, fmt.Sprintf("ex-%d", i), "ann@example.com")...)
	}
	want := []delivery.Outcome{delivery.Sent, delivery.Sent, delivery.ExcludedFrequencyCap, delivery.ExcludedFrequencyCap}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outcomes of four executions (-want +got):\n%s", diff)
	}
	if n := f.sentTo("ann@example.com"); n != 2 {
		t.Errorf("ann got %d emails, want 2", n)
	}
	// Another profile has a counter of its own.
	if got := sendTo(t, f, "ex-9", "bob@example.com"); got[0] != delivery.Sent {
		t.Errorf("bob: %s, want sent", got[0])
	}
}

func TestTransactionalProofAndExemptCampaignsAreNotCapped(t *testing.T) {
	t.Run("a transactional campaign is never capped nor counted", func(t *testing.T) {
		f := capFixture(t, campaign.Transactional, 1)
		for i := range 3 {
			if got := sendTo(t, f, fmt.Sprintf("ex-%d", i), "ann@example.com"); got[0] != delivery.Sent {
				t.Errorf("execution %d: %s, want sent", i, got[0])
			}
		}
		c, _ := f.store.CapCounter(context.Background(), acme, capping.Key{Channel: campaign.Email, Namespace: "email", UserID: "ann@example.com"})
		if len(c.Slots) != 0 {
			t.Errorf("the counter holds %d slots, want none", len(c.Slots))
		}
	})
	t.Run("an exempt marketing campaign is neither capped nor counted", func(t *testing.T) {
		f := capFixture(t, campaign.Marketing, 1)
		exempt := exemptVersion(t, f)
		for i := range 3 {
			j := job(delivery.Recipient{Type: delivery.TypeExternal, Namespace: "email", UserID: "ann@example.com"})
			j.ExecutionID, j.Version = fmt.Sprintf("ex-%d", i), exempt
			if err := f.d.Dispatch(context.Background(), j); err != nil {
				t.Fatal(err)
			}
		}
		if n := f.sentTo("ann@example.com"); n != 3 {
			t.Errorf("ann got %d emails from the exempt campaign, want 3", n)
		}
		// Nothing was counted: the campaign that obeys still has room.
		if got := sendTo(t, f, "ex-obey", "ann@example.com"); got[0] != delivery.Sent {
			t.Errorf("after the exempt sends: %s, want sent", got[0])
		}
	})
	t.Run("a proof of a marketing campaign is not capped", func(t *testing.T) {
		f := capFixture(t, campaign.Marketing, 1)
		sendTo(t, f, "ex-0", "ann@example.com")
		v, err := f.store.GetVersion(context.Background(), acme, "camp-1", 1)
		if err != nil {
			t.Fatal(err)
		}
		j := job(delivery.Recipient{Type: delivery.TypeExternal, Namespace: "email", UserID: "ann@example.com"})
		j.ExecutionID = "proof-1"
		out, err := f.d.DispatchProof(context.Background(), j, v)
		if err != nil || len(out) != 1 || out[0] != delivery.Sent {
			t.Errorf("DispatchProof = %v, %v; want sent", out, err)
		}
	})
}

// exemptVersion activates version 2 of camp-1, exempt from the caps.
func exemptVersion(t *testing.T, f *fixture) int {
	t.Helper()
	ctx := context.Background()
	c, err := f.store.GetCampaign(ctx, acme, "camp-1")
	if err != nil {
		t.Fatal(err)
	}
	v, err := f.store.GetVersion(ctx, acme, "camp-1", 1)
	if err != nil {
		t.Fatal(err)
	}
	v.Number, v.Spec.FrequencyCapExempt = 2, true
	c.LiveVersion, c.Revision = 2, c.Revision+1
	if err := f.store.Activate(ctx, acme, c, v, c.Revision-1); err != nil {
		t.Fatalf("Activate: %v", err)
	}
	return 2
}

func TestACapWindowEndsWithTime(t *testing.T) {
	f := capFixture(t, campaign.Marketing, 1)
	step := func(d time.Duration) { f.mu.Lock(); f.now = f.now.Add(d); f.mu.Unlock() }
	if got := sendTo(t, f, "ex-0", "ann@example.com"); got[0] != delivery.Sent {
		t.Fatalf("first: %s, want sent", got[0])
	}
	step(23 * time.Hour)
	if got := sendTo(t, f, "ex-1", "ann@example.com"); got[0] != delivery.ExcludedFrequencyCap {
		t.Errorf("23 hours later: %s, want excluded:frequency_cap", got[0])
	}
	step(time.Hour + time.Millisecond)
	if got := sendTo(t, f, "ex-2", "ann@example.com"); got[0] != delivery.Sent {
		t.Errorf("24 hours later: %s, want sent", got[0])
	}
	if n := f.sentTo("ann@example.com"); n != 2 {
		t.Errorf("ann got %d emails, want 2", n)
	}
}

func TestARefusedSendGivesItsSlotBack(t *testing.T) {
	f := capFixture(t, campaign.Marketing, 1)
	f.mailer.Fail = func(e delivery.Email) error {
		return &delivery.SendError{Failure: delivery.Refused, Code: "MessageRejected"}
	}
	if got := sendTo(t, f, "ex-0", "ann@example.com"); got[0] != delivery.Failed("MessageRejected") {
		t.Fatalf("refused send: %s, want failed:MessageRejected", got[0])
	}
	f.mailer.Fail = nil
	if got := sendTo(t, f, "ex-1", "ann@example.com"); got[0] != delivery.Sent {
		t.Errorf("after a refused send: %s, want sent (the slot given back)", got[0])
	}
}

func TestAnAmbiguousSendKeepsItsSlot(t *testing.T) {
	f := capFixture(t, campaign.Marketing, 1)
	f.mailer.Fail = func(e delivery.Email) error {
		return &delivery.SendError{Failure: delivery.Uncertain, Code: "timeout"}
	}
	if got := sendTo(t, f, "ex-0", "ann@example.com"); got[0] != delivery.Ambiguous("timeout") {
		t.Fatalf("uncertain send: %s, want ambiguous:timeout", got[0])
	}
	f.mailer.Fail = nil
	if got := sendTo(t, f, "ex-1", "ann@example.com"); got[0] != delivery.ExcludedFrequencyCap {
		t.Errorf("after an ambiguous send: %s, want excluded:frequency_cap (it may have been sent)", got[0])
	}
}

// A send that never reached the provider is retried: the retry keeps the
// slot its first attempt reserved (one slot, not two), and the limit
// holds for another execution meanwhile.
func TestARetriedRecipientHoldsOneSlot(t *testing.T) {
	f := capFixture(t, campaign.Marketing, 2)
	calls := 0
	f.mailer.Fail = func(e delivery.Email) error {
		calls++
		if calls == 1 {
			return &delivery.SendError{Failure: delivery.NotSent, Code: "connection_refused"}
		}
		return nil
	}
	j := job(delivery.Recipient{Type: delivery.TypeExternal, Namespace: "email", UserID: "ann@example.com"})
	if err := f.d.Dispatch(context.Background(), j); err == nil {
		t.Fatal("Dispatch after a send that never reached the provider = nil, want a retry")
	}
	if err := f.d.Dispatch(context.Background(), j); err != nil {
		t.Fatalf("the retry: %v", err)
	}
	c, err := f.store.CapCounter(context.Background(), acme, capping.Key{Channel: campaign.Email, Namespace: "email", UserID: "ann@example.com"})
	if err != nil || len(c.Slots) != 1 {
		t.Errorf("the counter holds %d slots (%v), want 1", len(c.Slots), err)
	}
	if got := sendTo(t, f, "ex-2", "ann@example.com"); got[0] != delivery.Sent {
		t.Errorf("a second execution: %s, want sent", got[0])
	}
	if got := sendTo(t, f, "ex-3", "ann@example.com"); got[0] != delivery.ExcludedFrequencyCap {
		t.Errorf("a third execution: %s, want excluded:frequency_cap", got[0])
	}
}

// capsDown fails every counter read: nothing is sent, the recipient is
// retried.
type capsDown struct{}

func (capsDown) Reserve(context.Context, tenant.Tenant, capping.Key, string, time.Time) (capping.Verdict, error) {
	return capping.Verdict{}, capping.ErrContended
}
func (capsDown) Release(context.Context, tenant.Tenant, capping.Key, string) error { return nil }
func (capsDown) Plan(context.Context, tenant.Tenant, capping.Key, string, time.Time) (capping.Plan, error) {
	return capping.Plan{}, capping.ErrContended
}

func TestAnUnreadableCounterSendsNothingAndRetries(t *testing.T) {
	f := capFixture(t, campaign.Marketing, 1)
	f.d.Caps = capsDown{}
	j := job(delivery.Recipient{Type: delivery.TypeExternal, Namespace: "email", UserID: "ann@example.com"})
	if err := f.d.Dispatch(context.Background(), j); err == nil {
		t.Error("Dispatch with the counter unavailable = nil, want a retry")
	}
	f.wantSent(t, 0, "%d emails sent, want none")
}

// A concurrent race of 20 executions to the same profiles on the memory
// store: no profile gets more than the limit.
func TestConcurrentExecutionsNeverExceedTheCap(t *testing.T) {
	f := capFixture(t, campaign.Marketing, 2)
	addrs := []string{"ann@example.com", "bob@example.com", "cid@example.com"}
	errs := make(chan error, 20)
	for i := range 20 {
		go func() {
			j := job()
			j.ExecutionID = fmt.Sprintf("ex-%02d", i)
			for _, a := range addrs {
				j.Recipients = append(j.Recipients, delivery.Recipient{Type: delivery.TypeExternal, Namespace: "email", UserID: a})
			}
			errs <- f.d.Dispatch(context.Background(), j)
		}()
	}
	for range 20 {
		if err := <-errs; err != nil {
			t.Errorf("Dispatch: %v", err)
		}
	}
	counts := map[delivery.Outcome]int{}
	for _, e := range f.store.AllEntries() {
		counts[e.Outcome]++
	}
	if diff := cmp.Diff(map[delivery.Outcome]int{delivery.Sent: 6, delivery.ExcludedFrequencyCap: 54}, counts); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	for _, a := range addrs {
		if n := f.sentTo(a); n != 2 {
			t.Errorf("%s got %d emails, want 2", a, n)
		}
	}
}

// A send never reached the provider until the retry deadline
// (failed:provider_unavailable): nothing was sent, the slot is given back.
func TestASendNeverMadeByTheDeadlineGivesItsSlotBack(t *testing.T) {
	f := capFixture(t, campaign.Marketing, 1)
	f.mailer.Fail = func(e delivery.Email) error {
		return &delivery.SendError{Failure: delivery.NotSent, Code: "connection_refused"}
	}
	j := job(delivery.Recipient{Type: delivery.TypeExternal, Namespace: "email", UserID: "ann@example.com"})
	j.Receipt = delivery.Receipt{Count: 1, First: t0}
	if err := f.d.Dispatch(context.Background(), j); err == nil {
		t.Fatal("first delivery = nil, want a retry")
	}
	f.mu.Lock()
	f.now = f.now.Add(delivery.DefaultTiming.RetryDeadline)
	f.mu.Unlock()
	j.Receipt.Count = 2
	if err := f.d.Dispatch(context.Background(), j); err != nil {
		t.Fatalf("delivery past the deadline: %v", err)
	}
	if diff := cmp.Diff([]outcome{{"ann@example.com", delivery.Done, delivery.FailedUnavailable}}, f.ledger()); diff != "" {
		t.Fatalf("ledger (-want +got):\n%s", diff)
	}
	f.mailer.Fail = nil
	if got := sendTo(t, f, "ex-2", "ann@example.com"); got[0] != delivery.Sent {
		t.Errorf("after a send that never happened: %s, want sent (the slot given back)", got[0])
	}
}

// A push to a profile's two devices is one message: both devices get it
// under a limit of 1, and the next execution is capped on both.
func TestAPushToEveryDeviceOfAProfileIsOneMessage(t *testing.T) {
	ctx := context.Background()
	f := pushFixture(t, campaign.Marketing, campaign.PushContent{Title: "Sale", Body: "Now"})
	svc := &capping.Service{Store: f.store}
	if _, err := svc.SetRules(ctx, acme, capping.RuleSet{Rules: []capping.Rule{{Channel: campaign.Push, Limit: 1, Window: capping.Rolling7d}}}); err != nil {
		t.Fatal(err)
	}
	f.d.Caps = svc
	if err := f.store.Put(ctx, acme, profileWithTwoDevices()); err != nil {
		t.Fatal(err)
	}
	r := delivery.Recipient{Type: delivery.TypeAEP, Namespace: "crmId", UserID: "42"}
	for _, exec := range []string{"ex-1", "ex-2"} {
		if err := f.d.Dispatch(ctx, delivery.Job{Tenant: acme, ExecutionID: exec, CampaignID: "c", Version: 1, Recipients: []delivery.Recipient{r}}); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"42 excluded:frequency_cap (device)", "42 excluded:frequency_cap (device)", "42 sent (device)", "42 sent (device)"}
	if diff := cmp.Diff(want, f.outcomes()); diff != "" {
		t.Errorf("ledger (-want +got):\n%s", diff)
	}
	if n := len(f.pusher.Sent()); n != 2 {
		t.Errorf("published %d notifications, want 2 (the first execution's two devices)", n)
	}
}

// SMS is capped on its own channel: an email rule does not cap it.
func TestRulesCapTheirChannelOnly(t *testing.T) {
	ctx := context.Background()
	f := smsFixture(t, campaign.Marketing, campaign.SMSSettings{SMSType: delivery.SMSPromotional}, "Sale now")
	svc := &capping.Service{Store: f.store}
	if _, err := svc.SetRules(ctx, acme, capping.RuleSet{Rules: []capping.Rule{
		{Channel: campaign.Email, Limit: 1, Window: capping.Rolling24h}, {Channel: campaign.SMS, Limit: 2, Window: capping.CalendarMonth}}}); err != nil {
		t.Fatal(err)
	}
	f.d.Caps = svc
	r := delivery.Recipient{Type: delivery.TypeExternal, Namespace: "phone", UserID: "+14155550100"}
	for i := range 3 {
		if err := f.d.Dispatch(ctx, delivery.Job{Tenant: acme, ExecutionID: fmt.Sprintf("ex-%d", i), CampaignID: "c", Version: 1,
			Recipients: []delivery.Recipient{r}}); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"+14155550100 excluded:frequency_cap", "+14155550100 sent", "+14155550100 sent"}
	if diff := cmp.Diff(want, f.outcomes()); diff != "" {
		t.Errorf("ledger (-want +got):\n%s", diff)
	}
	if n := len(f.sms.Sent()); n != 2 {
		t.Errorf("sent %d SMS, want 2", n)
	}
}

func profileWithTwoDevices() profile.Profile {
	return profile.Profile{Namespace: "crmId", ID: "42", Devices: []profile.Device{
		{AppID: "shop-ios", Platform: "APNS", Token: "ios-token", Enabled: true},
		{AppID: "shop-android", Platform: "GCM", Token: "android-token", Enabled: true},
	}}
}

// countingCapStore counts the frequency cap counter's own writes.
type countingCapStore struct {
	capping.Store
	mu   sync.Mutex
	puts int
}

func (c *countingCapStore) PutCapCounter(ctx context.Context, t tenant.Tenant, k capping.Key, cn capping.Counter) error {
	c.mu.Lock()
	c.puts++
	c.mu.Unlock()
	return c.Store.PutCapCounter(ctx, t, k, cn)
}

// A marketing recipient's slot is written by the claim's one write, not
// by a write of its own: the counter holds one slot per message sent and
// was never put on its own.
func TestTheCapSlotIsWrittenWithTheClaim(t *testing.T) {
	f := capFixture(t, campaign.Marketing, 5)
	store := &countingCapStore{Store: f.store}
	f.d.Caps = &capping.Service{Store: store, Now: f.clock}
	l := newRecordingLedger(f.store)
	f.d.Ledger = l
	sendTo(t, f, "ex-1", "ann@example.com", "bob@example.com")
	got := sendTo(t, f, "ex-2", "ann@example.com")
	if diff := cmp.Diff([]delivery.Outcome{delivery.Sent}, got); diff != "" {
		t.Errorf("outcomes of the second execution (-want +got):\n%s", diff)
	}
	if store.puts != 0 {
		t.Errorf("the counter was put %d times on its own, want 0 (written with the claims)", store.puts)
	}
	c, err := f.store.CapCounter(context.Background(), acme, capping.Key{Channel: campaign.Email, Namespace: "email", UserID: "ann@example.com"})
	if err != nil || len(c.Slots) != 2 || c.Rev != 2 {
		t.Errorf("ann's counter = %+v, %v; want two slots at revision 2", c, err)
	}
	if calls := l.snapshot(); calls["ClaimAndStart"] != 3 || calls["Claim"] != 0 {
		t.Errorf("ledger calls = %v, want three ClaimAndStart and no long way", calls)
	}
}

// capRacingLedger counts another message to the profile just before the
// first claim of each recipient is written, as a concurrent execution
// would: the claim finds the counter changed, plans again on what it
// holds now and is written then.
type capRacingLedger struct {
	*memory.Store
	svc    *capping.Service
	now    func() time.Time
	raced  map[string]bool
	mu     sync.Mutex
	claims int
}

func (l *capRacingLedger) ClaimAndStart(ctx context.Context, t tenant.Tenant, e delivery.Entry, addr string, cw *delivery.CapWrite) (delivery.ClaimResult, error) {
	l.mu.Lock()
	l.claims++
	race := cw != nil && !l.raced[e.UserID]
	l.raced[e.UserID] = true
	l.mu.Unlock()
	if race {
		if _, err := l.svc.Reserve(ctx, t, cw.Key, "someone-else-"+e.UserID, l.now()); err != nil {
			return 0, err
		}
	}
	return l.Store.ClaimAndStart(ctx, t, e, addr, cw)
}

func TestAClaimWhoseCapCounterChangedPlansAgain(t *testing.T) {
	f := capFixture(t, campaign.Marketing, 2)
	svc := f.d.Caps.(*capping.Service)
	l := &capRacingLedger{Store: f.store, svc: svc, now: f.clock, raced: map[string]bool{}}
	f.d.Ledger = l
	got := sendTo(t, f, "ex-1", "ann@example.com")
	if diff := cmp.Diff([]delivery.Outcome{delivery.Sent}, got); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if l.claims != 2 {
		t.Errorf("%d claim writes, want 2 (the first found the counter changed)", l.claims)
	}
	// The racing message took one of the two slots, this one the other:
	// a third is capped.
	if got := sendTo(t, f, "ex-2", "ann@example.com"); got[0] != delivery.ExcludedFrequencyCap {
		t.Errorf("the next execution's outcome = %s, want %s", got[0], delivery.ExcludedFrequencyCap)
	}
}
