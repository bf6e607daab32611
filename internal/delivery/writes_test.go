package delivery_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/tenant"
)

// recordingLedger is the memory ledger counting its writes by method;
// its TallyMany fails while failTallies is positive.
type recordingLedger struct {
	*memory.Store
	mu          sync.Mutex
	calls       map[string]int
	counted     int // recipients named to TallyMany
	failTallies int
}

func newRecordingLedger(s *memory.Store) *recordingLedger {
	return &recordingLedger{Store: s, calls: map[string]int{}}
}

func (l *recordingLedger) note(m string) { l.mu.Lock(); l.calls[m]++; l.mu.Unlock() }

func (l *recordingLedger) snapshot() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]int{}
	for k, v := range l.calls {
		out[k] = v
	}
	return out
}

func (l *recordingLedger) ClaimAndStart(ctx context.Context, t tenant.Tenant, e delivery.Entry, addr string, cw *delivery.CapWrite) (delivery.ClaimResult, error) {
	l.note("ClaimAndStart")
	return l.Store.ClaimAndStart(ctx, t, e, addr, cw)
}

func (l *recordingLedger) ClaimAddress(ctx context.Context, t tenant.Tenant, exec string, ch campaign.Channel, addr, owner string) (string, error) {
	l.note("ClaimAddress")
	return l.Store.ClaimAddress(ctx, t, exec, ch, addr, owner)
}

func (l *recordingLedger) Claim(ctx context.Context, t tenant.Tenant, e delivery.Entry) (delivery.Entry, bool, error) {
	l.note("Claim")
	return l.Store.Claim(ctx, t, e)
}

func (l *recordingLedger) Start(ctx context.Context, t tenant.Tenant, e delivery.Entry, from string) error {
	l.note("Start")
	return l.Store.Start(ctx, t, e, from)
}

func (l *recordingLedger) Finish(ctx context.Context, t tenant.Tenant, e delivery.Entry) error {
	l.note("Finish")
	return l.Store.Finish(ctx, t, e)
}

func (l *recordingLedger) Tally(ctx context.Context, t tenant.Tenant, exec string, shard int, tag string, o delivery.Outcome, label string) error {
	l.note("Tally")
	return l.Store.Tally(ctx, t, exec, shard, tag, o, label)
}

func (l *recordingLedger) TallyMany(ctx context.Context, t tenant.Tenant, exec string, shard int, counts []delivery.Count) error {
	l.note("TallyMany")
	l.mu.Lock()
	fail := l.failTallies > 0
	if fail {
		l.failTallies--
	} else {
		l.counted += len(counts)
	}
	l.mu.Unlock()
	if fail {
		return errors.New("dynamodb: InternalServerError")
	}
	return l.Store.TallyMany(ctx, t, exec, shard, counts)
}

func emailRecipients(n int) []delivery.Recipient {
	rs := make([]delivery.Recipient, n)
	for i := range rs {
		rs[i] = external("email", fmt.Sprintf("r%02d@example.com", i), "")
	}
	return rs
}

// A new recipient costs the ledger one write before its send (address,
// entry and attempt at once) and one after (the outcome); the job's
// recipients are counted together.
func TestANewRecipientTakesOneWriteBeforeItsSendAndOneAfter(t *testing.T) {
	f := newFixture(t, defaultContent, defaultSettings)
	l := newRecordingLedger(f.store)
	f.d.Ledger = l
	if err := f.d.Dispatch(context.Background(), job(emailRecipients(3)...)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"ClaimAndStart": 3, "Finish": 3, "TallyMany": 1}, l.snapshot()); diff != "" {
		t.Errorf("ledger writes (-want +got):\n%s", diff)
	}
	f.wantSent(t, 3, "sent %d emails, want 3")
	f.wantCounts(t, map[delivery.Outcome]int64{delivery.Sent: 3}, "counts")
}

// A job's outcomes are counted with one write per counter item it
// touches, every recipient once.
func TestAJobIsCountedWithOneWritePerCounterItem(t *testing.T) {
	f := newFixture(t, defaultContent, defaultSettings)
	l := newRecordingLedger(f.store)
	f.d.Ledger = l
	j := job(emailRecipients(40)...)
	j.Shards = 3
	shards := map[int]bool{}
	for _, r := range j.Recipients {
		k := delivery.Key{ExecutionID: j.ExecutionID, Namespace: r.Namespace, UserID: r.UserID, Channel: campaign.Email}
		shards[delivery.Shard(delivery.Tag(acme, k), j.Shards)] = true
	}
	if err := f.d.Dispatch(context.Background(), j); err != nil {
		t.Fatal(err)
	}
	got := l.snapshot()
	if got["TallyMany"] != len(shards) || got["Tally"] != 0 || l.counted != 40 {
		t.Errorf("TallyMany %d times naming %d recipients, Tally %d times; want %d (the counter items touched), 40, 0",
			got["TallyMany"], l.counted, got["Tally"], len(shards))
	}
	f.wantCounts(t, map[delivery.Outcome]int64{delivery.Sent: 40}, "counts")
}

// Counts that could not be written send the job back; its redelivery
// counts the recipients from their recorded outcomes and sends nothing
// again.
func TestCountsNotWrittenAreRetriedWithoutSendingAgain(t *testing.T) {
	f := newFixture(t, defaultContent, defaultSettings)
	l := newRecordingLedger(f.store)
	l.failTallies = 1
	f.d.Ledger = l
	j := job(emailRecipients(3)...)
	if err := f.d.Dispatch(context.Background(), j); !errors.Is(err, delivery.ErrRetry) {
		t.Fatalf("Dispatch with the counter write failing = %v, want a retry", err)
	}
	if got := f.counts(t); len(got) != 0 {
		t.Errorf("counts after the failed write = %v, want none", got)
	}
	j.Receipt = delivery.Receipt{Count: 2}
	if err := f.d.Dispatch(context.Background(), j); err != nil {
		t.Fatalf("the redelivery: %v", err)
	}
	f.wantSent(t, 3, "sent %d emails, want 3 (none again)")
	f.wantCounts(t, map[delivery.Outcome]int64{delivery.Sent: 3}, "counts")
}

// Recipients of one job sharing an address race for it on the one-write
// claim: one message, the others excluded as duplicates.
func TestConcurrentRecipientsWithOneAddressGetOneMessage(t *testing.T) {
	f := newFixture(t, defaultContent, defaultSettings)
	f.d.Parallel = 8
	var rs []delivery.Recipient
	for i := range 8 {
		rs = append(rs, external("crmId", fmt.Sprint(i), "jane@example.com"))
	}
	if err := f.d.Dispatch(context.Background(), job(rs...)); err != nil {
		t.Fatal(err)
	}
	f.wantSent(t, 1, "sent %d emails to one address, want 1")
	f.wantCounts(t, map[delivery.Outcome]int64{delivery.Sent: 1, delivery.ExcludedDuplicate: 7}, "counts")
}

// lostClaimLedger is the memory ledger whose one-write claim lands but
// answers with an error, as a reset after DynamoDB wrote it would.
type lostClaimLedger struct{ *memory.Store }

func (l lostClaimLedger) ClaimAndStart(ctx context.Context, t tenant.Tenant, e delivery.Entry, addr string, cw *delivery.CapWrite) (delivery.ClaimResult, error) {
	if res, err := l.Store.ClaimAndStart(ctx, t, e, addr, cw); err != nil || res != delivery.ClaimStarted {
		return res, err
	}
	return 0, errors.New("dynamodb: connection reset after the request was written")
}

// A claim that landed though its answer was lost is found as its own by
// the long way, and sent once.
func TestAClaimWhoseAnswerWasLostIsSentOnce(t *testing.T) {
	f := newFixture(t, defaultContent, defaultSettings)
	f.d.Ledger = lostClaimLedger{f.store}
	if err := f.d.Dispatch(context.Background(), job(external("email", "a@example.com", ""))); err != nil {
		t.Fatal(err)
	}
	f.wantSent(t, 1, "sent %d emails, want 1")
	if diff := cmp.Diff([]outcome{{"a@example.com", delivery.Done, delivery.Sent}}, f.ledger()); diff != "" {
		t.Errorf("ledger (-want +got):\n%s", diff)
	}
}

// When the delivery that found its own lost claim cannot send now (over
// the send rate), the claim is left not in flight: the next delivery
// sends it, instead of closing it as an interrupted attempt.
func TestAClaimWhoseAnswerWasLostIsNotLeftInFlight(t *testing.T) {
	f := newFixture(t, defaultContent, defaultSettings)
	f.d.Ledger = lostClaimLedger{f.store}
	// One send slot every 100 s: the one-write claim takes it, the long
	// way finds none.
	f.d.Rates = map[campaign.Channel]float64{campaign.Email: 0.01}
	j := job(external("email", "a@example.com", ""))
	if err := f.d.Dispatch(context.Background(), j); !errors.Is(err, delivery.ErrRetry) {
		t.Fatalf("Dispatch over the send rate = %v, want a retry", err)
	}
	entries := f.store.AllEntries()
	if len(entries) != 1 || entries[0].State != delivery.Claimed || entries[0].InFlight {
		t.Fatalf("ledger = %+v, want one claim not in flight", entries)
	}
	d := &delivery.Dispatcher{Campaigns: f.store, Profiles: f.store, Ledger: f.store, Mailer: f.mailer,
		DefaultConfigurationSet: "herald-default", Log: f.d.Log, Now: f.clock}
	j.Receipt = delivery.Receipt{Count: 2}
	if err := d.Dispatch(context.Background(), j); err != nil {
		t.Fatalf("the redelivery: %v", err)
	}
	f.wantSent(t, 1, "sent %d emails, want 1")
	if diff := cmp.Diff([]outcome{{"a@example.com", delivery.Done, delivery.Sent}}, f.ledger()); diff != "" {
		t.Errorf("ledger (-want +got):\n%s", diff)
	}
}

// slowCampaigns counts the campaign store's reads, each answered after a
// moment, so that concurrent jobs miss the dispatcher's caches together.
type slowCampaigns struct {
	*memory.Store
	mu               sync.Mutex
	versions, config int
}

func (c *slowCampaigns) GetVersion(ctx context.Context, t tenant.Tenant, id string, n int) (campaign.Version, error) {
	c.mu.Lock()
	c.versions++
	c.mu.Unlock()
	time.Sleep(20 * time.Millisecond)
	return c.Store.GetVersion(ctx, t, id, n)
}

func (c *slowCampaigns) GetConfig(ctx context.Context, t tenant.Tenant, id string) (campaign.ChannelConfig, error) {
	c.mu.Lock()
	c.config++
	c.mu.Unlock()
	time.Sleep(20 * time.Millisecond)
	return c.Store.GetConfig(ctx, t, id)
}

// The jobs of a batch start at once: a campaign version and a
// configuration the dispatcher has not cached yet are read once for
// them all, not once per job.
func TestConcurrentJobsReadACampaignVersionOnce(t *testing.T) {
	f := newFixture(t, defaultContent, defaultSettings)
	c := &slowCampaigns{Store: f.store}
	f.d.Campaigns = c
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j := job(external("email", fmt.Sprintf("r%d@example.com", i), ""))
			j.ExecutionID = fmt.Sprint("ex-", i)
			if err := f.d.Dispatch(context.Background(), j); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if c.versions != 1 || c.config != 1 {
		t.Errorf("%d version reads and %d configuration reads for 10 concurrent jobs, want 1 each", c.versions, c.config)
	}
}
