package execution_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/contextschema"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/tenant"
)

// calls counts the store, profile and queue calls a trigger makes: each
// is one AWS round trip in production.
type calls struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *calls) add(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[name]++
}

func (c *calls) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.n
	c.n = nil
	return out
}

type countingStore struct {
	*memory.Store
	c *calls
}

func (s countingStore) GetRecord(ctx context.Context, t tenant.Tenant, id string) (execution.Record, error) {
	s.c.add("GetRecord")
	return s.Store.GetRecord(ctx, t, id)
}

func (s countingStore) Begin(ctx context.Context, t tenant.Tenant, rec execution.Record, ex execution.Execution) error {
	s.c.add("Begin")
	return s.Store.Begin(ctx, t, rec, ex)
}

func (s countingStore) MarkEnqueued(ctx context.Context, t tenant.Tenant, id string) error {
	s.c.add("MarkEnqueued")
	return s.Store.MarkEnqueued(ctx, t, id)
}

func (s countingStore) GetCampaign(ctx context.Context, t tenant.Tenant, id string) (campaign.Campaign, error) {
	s.c.add("GetCampaign")
	return s.Store.GetCampaign(ctx, t, id)
}

func (s countingStore) GetVersion(ctx context.Context, t tenant.Tenant, id string, n int) (campaign.Version, error) {
	s.c.add("GetVersion")
	return s.Store.GetVersion(ctx, t, id, n)
}

func (s countingStore) BatchGet(ctx context.Context, t tenant.Tenant, ids []profile.Identity) (map[profile.Identity]profile.Profile, error) {
	s.c.add("BatchGet")
	return s.Store.BatchGet(ctx, t, ids)
}

func (s countingStore) CreateIfAbsent(ctx context.Context, t tenant.Tenant, p profile.Profile) error {
	s.c.add("CreateIfAbsent")
	return s.Store.CreateIfAbsent(ctx, t, p)
}

type callCountingQueue struct {
	*memory.Queue
	c *calls
}

func (q callCountingQueue) Enqueue(ctx context.Context, jobs []delivery.Job) error {
	q.c.add("Enqueue")
	return q.Queue.Enqueue(ctx, jobs)
}

// putHighThroughput stores a live high-throughput transactional email
// campaign "ht".
func putHighThroughput(t *testing.T, store *memory.Store) {
	t.Helper()
	c := campaign.Campaign{ID: "ht", Name: "ht", Type: campaign.Transactional, Channel: campaign.Email, HighThroughput: true,
		Status: campaign.StatusLive, LiveVersion: 1}
	if err := store.SeedCampaign(acme, c, now); err != nil {
		t.Fatal(err)
	}
}

func externals(n int) []execution.Recipient {
	rs := make([]execution.Recipient, n)
	for i := range rs {
		rs[i] = execution.Recipient{Type: delivery.TypeExternal, Namespace: "email", UserID: fmt.Sprintf("u%d@example.com", i),
			Context: toObject(map[string]any{"orderId": fmt.Sprint(i)})}
	}
	return rs
}

func TestAHighThroughputTriggerMakesTheFewestCalls(t *testing.T) {
	store, q, c := memory.New(), &memory.Queue{}, &calls{}
	putHighThroughput(t, store)
	cs := countingStore{store, c}
	ids := 0
	svc := &execution.Unitary{Schemas: contextschema.Compiler{}, Store: cs, Campaigns: cs, Profiles: cs, Queue: callCountingQueue{q, c},
		Now: func() time.Time { return now }, NewID: func() string { ids++; return fmt.Sprintf("ex-%d", ids) }}
	ctx := context.Background()
	req := execution.UnitaryRequest{RequestID: "r1", CampaignID: "ht", Recipients: externals(3)}
	if err := req.ValidateHighThroughput(); err != nil {
		t.Fatal(err)
	}
	first, err := svc.ExecuteHighThroughput(ctx, acme, "hk", req)
	if err != nil {
		t.Fatal(err)
	}
	// A cold function reads the version once; no idempotency read, no
	// profile read or creation.
	want := map[string]int{"GetCampaign": 1, "GetVersion": 1, "Begin": 1, "Enqueue": 1, "MarkEnqueued": 1}
	if diff := cmp.Diff(want, c.take()); diff != "" {
		t.Errorf("calls of the first trigger (-want +got):\n%s", diff)
	}
	req2 := execution.UnitaryRequest{RequestID: "r2", CampaignID: "ht", Recipients: externals(3)}
	if _, err := svc.ExecuteHighThroughput(ctx, acme, "hk", req2); err != nil {
		t.Fatal(err)
	}
	// A warm function within the campaign cache's TTL reads nothing:
	// Begin checks the cached revision.
	want = map[string]int{"Begin": 1, "Enqueue": 1, "MarkEnqueued": 1}
	if diff := cmp.Diff(want, c.take()); diff != "" {
		t.Errorf("calls of a warm trigger (-want +got):\n%s", diff)
	}
	// A repeat is found by the conditional write and answered from the
	// record, enqueuing nothing more.
	again, err := svc.ExecuteHighThroughput(ctx, acme, "hk", req)
	if err != nil {
		t.Fatal(err)
	}
	if again != first {
		t.Errorf("the repeat answered %+v, want the first answer %+v", again, first)
	}
	if n := len(q.Jobs()); n != 2 {
		t.Errorf("%d jobs queued, want 2 (one per distinct request, its 3 recipients together)", n)
	}
	// The same requestId with another body is a conflict.
	other := execution.UnitaryRequest{RequestID: "r1", CampaignID: "ht", Recipients: externals(2)}
	if _, err := svc.ExecuteHighThroughput(ctx, acme, "hk", other); !derrors.Is(err, derrors.Conflict) {
		t.Errorf("another body under r1: %v, want a conflict", err)
	}
}

func TestARepeatAfterTheCampaignStoppedGetsItsFirstAnswer(t *testing.T) {
	store, q := memory.New(), &memory.Queue{}
	putHighThroughput(t, store)
	svc := newService(store, q)
	ctx := context.Background()
	req := execution.UnitaryRequest{RequestID: "r1", CampaignID: "ht", Recipients: externals(1)}
	first, err := svc.ExecuteHighThroughput(ctx, acme, "hk", req)
	if err != nil {
		t.Fatal(err)
	}
	c, err := store.GetCampaign(ctx, acme, "ht")
	if err != nil {
		t.Fatal(err)
	}
	c.Status, c.Revision = campaign.StatusStopped, c.Revision+1
	if err := store.UpdateCampaign(ctx, acme, c, c.Revision-1); err != nil {
		t.Fatal(err)
	}
	again, err := svc.ExecuteHighThroughput(ctx, acme, "hk", req)
	if err != nil || again != first {
		t.Errorf("repeat after the stop = %+v, %v; want the first answer", again, err)
	}
	fresh := execution.UnitaryRequest{RequestID: "r2", CampaignID: "ht", Recipients: externals(1)}
	if _, err := svc.ExecuteHighThroughput(ctx, acme, "hk", fresh); !derrors.Is(err, derrors.Conflict) {
		t.Errorf("a new request after the stop: %v, want a conflict", err)
	}
}

func TestTheHighThroughputAPITakesExternalRecipientsOnly(t *testing.T) {
	req := execution.UnitaryRequest{RequestID: "r1", CampaignID: "ht", Recipients: []execution.Recipient{
		{Type: delivery.TypeExternal, Namespace: "email", UserID: "a@example.com"},
		{Type: delivery.TypeAEP, Namespace: "crmId", UserID: "p-1"},
	}}
	if err := req.Validate(); err != nil {
		t.Fatalf("the unitary API takes both: %v", err)
	}
	err := req.ValidateHighThroughput()
	var de *derrors.Error
	if !derrors.Is(err, derrors.Invalid) || !errors.As(err, &de) || len(de.Fields) != 1 || de.Fields[0].Field != "recipients[1].type" {
		t.Errorf("ValidateHighThroughput = %v, want one field error on recipients[1].type", err)
	}
}

func TestEachAPITriggersItsOwnCampaigns(t *testing.T) {
	store, q := memory.New(), &memory.Queue{}
	putHighThroughput(t, store)
	putCampaign(t, store, "plain", campaign.StatusLive, campaign.Transactional, campaign.Spec{})
	svc := newService(store, q)
	ctx := context.Background()
	if _, err := svc.Execute(ctx, acme, "hk", execution.UnitaryRequest{RequestID: "r1", CampaignID: "ht", Recipients: externals(1)}); !derrors.Is(err, derrors.Conflict) {
		t.Errorf("unitary trigger of a high-throughput campaign: %v, want a conflict", err)
	}
	if _, err := svc.ExecuteHighThroughput(ctx, acme, "hk", execution.UnitaryRequest{RequestID: "r2", CampaignID: "plain", Recipients: externals(1)}); !derrors.Is(err, derrors.Conflict) {
		t.Errorf("high-throughput trigger of another campaign: %v, want a conflict", err)
	}
	if n := len(q.Jobs()); n != 0 {
		t.Errorf("%d jobs queued, want none", n)
	}
}

// cachingFixture is a Unitary with its campaign cache on a counting
// memory store holding the high-throughput campaign "ht", and a clock.
type cachingFixture struct {
	store *memory.Store
	queue *memory.Queue
	calls *calls
	clock time.Time
	svc   *execution.Unitary
}

func newCachingFixture(t *testing.T) *cachingFixture {
	t.Helper()
	f := &cachingFixture{store: memory.New(), queue: &memory.Queue{}, calls: &calls{}, clock: now}
	putHighThroughput(t, f.store)
	cs := countingStore{f.store, f.calls}
	f.svc = &execution.Unitary{Schemas: contextschema.Compiler{}, Store: cs, Campaigns: cs, Profiles: cs, Queue: callCountingQueue{f.queue, f.calls},
		Now: func() time.Time { return f.clock }, NewID: func() string { return fmt.Sprint("ex-", f.clock.UnixNano()) }}
	return f
}

// trigger moves the clock on by after and triggers "ht" for one recipient.
func (f *cachingFixture) trigger(id string, after time.Duration) error {
	f.clock = f.clock.Add(after)
	_, err := f.svc.ExecuteHighThroughput(context.Background(), acme, "hk", execution.UnitaryRequest{RequestID: id, CampaignID: "ht", Recipients: externals(1)})
	return err
}

func TestACampaignChangedSinceItWasCachedIsTriggeredOnItsNewState(t *testing.T) {
	f := newCachingFixture(t)
	store, q, c := f.store, f.queue, f.calls
	ctx := context.Background()
	trigger := func(id string) error { return f.trigger(id, time.Second) }
	if err := trigger("r1"); err != nil {
		t.Fatal(err)
	}
	// Version 2 goes live: the cached campaign (version 1) is stale.
	camp, err := store.GetCampaign(ctx, acme, "ht")
	if err != nil {
		t.Fatal(err)
	}
	v2 := campaign.Version{CampaignID: "ht", Number: 2, Type: campaign.Transactional, Channel: campaign.Email, HighThroughput: true, ActivatedAt: f.clock}
	prev := camp.Revision
	camp.LiveVersion, camp.Revision = 2, prev+1
	if err := store.Activate(ctx, acme, camp, v2, prev); err != nil {
		t.Fatal(err)
	}
	c.take()
	if err := trigger("r2"); err != nil {
		t.Fatal(err)
	}
	// Begin refused the stale revision, storing nothing; the campaign
	// was read again and the trigger stored once, on version 2.
	want := map[string]int{"Begin": 2, "GetCampaign": 1, "GetVersion": 1, "Enqueue": 1, "MarkEnqueued": 1}
	if diff := cmp.Diff(want, c.take()); diff != "" {
		t.Errorf("calls of the trigger after the change (-want +got):\n%s", diff)
	}
	jobs := q.Jobs()
	if got := jobs[len(jobs)-1].Version; got != 2 {
		t.Errorf("the trigger after the change queued version %d, want 2", got)
	}
	// Stopped: refused at once, though the cache's TTL has not passed.
	camp.Status, camp.Revision = campaign.StatusStopped, camp.Revision+1
	if err := store.UpdateCampaign(ctx, acme, camp, camp.Revision-1); err != nil {
		t.Fatal(err)
	}
	if err := trigger("r3"); !derrors.Is(err, derrors.Conflict) {
		t.Errorf("a trigger right after the stop: %v, want a conflict", err)
	}
	if n := len(q.Jobs()); n != 2 {
		t.Errorf("%d jobs queued, want 2 (none after the stop)", n)
	}
	// Live again: a refused campaign is not cached, so the next trigger
	// reads it and goes through.
	camp.Status, camp.Revision = campaign.StatusLive, camp.Revision+1
	if err := store.UpdateCampaign(ctx, acme, camp, camp.Revision-1); err != nil {
		t.Fatal(err)
	}
	if err := trigger("r4"); err != nil {
		t.Errorf("a trigger right after the campaign is live again: %v", err)
	}
}

func TestTheCampaignCacheExpiresAfterItsTTL(t *testing.T) {
	f := newCachingFixture(t)
	reads := func(id string, after time.Duration) int {
		t.Helper()
		if err := f.trigger(id, after); err != nil {
			t.Fatal(err)
		}
		return f.calls.take()["GetCampaign"]
	}
	if n := reads("r1", 0); n != 1 {
		t.Errorf("a cold trigger read the campaign %d times, want 1", n)
	}
	if n := reads("r2", execution.CampaignCacheTTL-time.Millisecond); n != 0 {
		t.Errorf("a trigger within the TTL read the campaign %d times, want 0", n)
	}
	if n := reads("r3", time.Millisecond); n != 1 {
		t.Errorf("a trigger at the TTL read the campaign %d times, want 1", n)
	}
}

// barrierStore holds each of the unitary trigger's reads until all three
// are under way: a trigger making them one after another never gets past
// the first.
type barrierStore struct {
	*memory.Store
	arrived chan string
	release chan struct{}
}

func (s barrierStore) wait(name string) {
	s.arrived <- name
	<-s.release
}

func (s barrierStore) GetRecord(ctx context.Context, t tenant.Tenant, id string) (execution.Record, error) {
	s.wait("GetRecord")
	return s.Store.GetRecord(ctx, t, id)
}

func (s barrierStore) GetCampaign(ctx context.Context, t tenant.Tenant, id string) (campaign.Campaign, error) {
	s.wait("GetCampaign")
	return s.Store.GetCampaign(ctx, t, id)
}

func (s barrierStore) BatchGet(ctx context.Context, t tenant.Tenant, ids []profile.Identity) (map[profile.Identity]profile.Profile, error) {
	s.wait("BatchGet")
	return s.Store.BatchGet(ctx, t, ids)
}

func TestAUnitaryTriggerReadsRecordCampaignAndProfilesAtOnce(t *testing.T) {
	store, q := memory.New(), &memory.Queue{}
	putCampaign(t, store, "camp-1", campaign.StatusLive, campaign.Transactional, campaign.Spec{Audience: campaign.Audience{CreateProfiles: true}})
	bs := barrierStore{Store: store, arrived: make(chan string, 3), release: make(chan struct{})}
	svc := &execution.Unitary{Schemas: contextschema.Compiler{}, Store: bs, Campaigns: bs, Profiles: bs, Queue: q,
		Now: func() time.Time { return now }, NewID: func() string { return "ex-1" }}
	done := make(chan error, 1)
	go func() {
		_, err := svc.Execute(context.Background(), acme, "hk", execution.UnitaryRequest{RequestID: "r1", CampaignID: "camp-1",
			Recipients: []execution.Recipient{{Type: delivery.TypeAEP, Namespace: "crmId", UserID: "p-1"}}})
		done <- err
	}()
	got := map[string]bool{}
	for range 3 {
		select {
		case name := <-bs.arrived:
			got[name] = true
		case <-time.After(5 * time.Second):
			t.Fatalf("reads under way at once: %v; want GetRecord, GetCampaign and BatchGet", got)
		}
	}
	close(bs.release)
	if err := <-done; err != nil {
		t.Fatalf("Execute: %v", err)
	}
	if n := len(q.Jobs()); n != 1 {
		t.Errorf("%d jobs queued, want 1", n)
	}
}
