package dynamo_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/infra/localcloud"
	"github.com/heraldhq/herald/infra/motoserver"
	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/dynamo"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/tenant"
)

func TestMain(m *testing.M) {
	code := m.Run()
	motoserver.StopShared()
	os.Exit(code)
}

var stackSeq atomic.Int64

// newStore provisions the template's table in moto under a fresh stack
// name and returns a store on it.
func newStore(t *testing.T) *dynamo.Store {
	t.Helper()
	s, _, _ := newRawStore(t)
	return s
}

// newRawStore is newStore with the DynamoDB client and the table's name,
// for tests that read or write items as an older Herald left them.
func newRawStore(t *testing.T) (*dynamo.Store, *dynamodb.Client, string) {
	t.Helper()
	moto := motoserver.Shared(t)
	name := fmt.Sprintf("dyn%d-%d", os.Getpid(), stackSeq.Add(1))
	st, err := localcloud.LoadStack("../../template.yaml", localcloud.StackOptions{Name: name, MotoURL: moto.URL()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := localcloud.Provision(ctx, moto.AWSConfig(), st); err != nil {
		t.Fatal(err)
	}
	if len(st.Tables) != 1 {
		t.Fatalf("template declares %d tables, want 1", len(st.Tables))
	}
	api := dynamodb.NewFromConfig(moto.AWSConfig())
	return dynamo.New(api, st.Tables[0].Name), api, st.Tables[0].Name
}

var (
	acme  = tenant.Tenant{Org: "ACME@AdobeOrg", Sandbox: "prod"}
	other = tenant.Tenant{Org: "OTHER@AdobeOrg", Sandbox: "prod"}
	now   = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
)

func TestKeysAreFoundByTheHashOfTheirSecretOnly(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	k, secret, err := auth.Mint(ctx, s, acme, []auth.Scope{auth.ScopeTrigger}, now)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.GetKey(ctx, auth.HashSecret(secret))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(k, got); diff != "" {
		t.Errorf("GetKey (-want +got):\n%s", diff)
	}
	if _, err := s.GetKey(ctx, auth.HashSecret(secret+"x")); !derrors.Is(err, derrors.NotFound) {
		t.Errorf("GetKey(wrong secret) = %v, want NotFound", err)
	}
	if err := s.PutKey(ctx, auth.HashSecret(secret), k); !derrors.Is(err, derrors.Conflict) {
		t.Errorf("PutKey(same hash) = %v, want Conflict", err)
	}
}

func TestCampaignsAreTenantScopedAndActivationIsGuardedByRevision(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	start := now.Add(-time.Hour)
	c := campaign.Campaign{ID: "c1", Name: "Order shipped", Type: campaign.Transactional, Channel: campaign.Email,
		Status: campaign.StatusDraft, Revision: 1, CreatedAt: now, UpdatedAt: now,
		Draft: campaign.Spec{ChannelConfigID: "cfg", Content: campaign.Content{Email: &campaign.EmailContent{Subject: "Hi {{profile.name}}", HTML: "<p>x</p>"}},
			Audience: campaign.Audience{Namespace: "email", CreateProfiles: true}, Schedule: campaign.Schedule{Start: &start}}}
	if err := s.CreateConfig(ctx, acme, campaign.ChannelConfig{ID: "cfg", Name: "cfg", Channel: campaign.Email, Category: campaign.Transactional,
		Email: &campaign.EmailSettings{FromAddress: "a@b.example"}, Revision: 1, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateCampaign(ctx, acme, c); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateCampaign(ctx, acme, c); !derrors.Is(err, derrors.Conflict) {
		t.Errorf("second create = %v, want Conflict", err)
	}
	got, err := s.GetCampaign(ctx, acme, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c, got); diff != "" {
		t.Errorf("GetCampaign (-want +got):\n%s", diff)
	}
	if _, err := s.GetCampaign(ctx, other, "c1"); !derrors.Is(err, derrors.NotFound) {
		t.Errorf("other tenant's GetCampaign = %v, want NotFound", err)
	}

	live := c
	live.Status, live.LiveVersion, live.Revision = campaign.StatusLive, 1, 2
	v := campaign.Version{CampaignID: "c1", Number: 1, Type: c.Type, Channel: c.Channel, Spec: c.Draft, ActivatedAt: now}
	// Two concurrent activations from the same revision: exactly one wins.
	var wg sync.WaitGroup
	var wins, stale atomic.Int32
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch err := s.Activate(ctx, acme, live, v, 1); {
			case err == nil:
				wins.Add(1)
			case derrors.Is(err, derrors.Precondition):
				stale.Add(1)
			default:
				t.Errorf("Activate: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 || stale.Load() != 1 {
		t.Fatalf("activations: %d won, %d stale; want 1 and 1", wins.Load(), stale.Load())
	}
	gotV, err := s.GetVersion(ctx, acme, "c1", 1)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(v, gotV); diff != "" {
		t.Errorf("GetVersion (-want +got):\n%s", diff)
	}
}

func TestProfilesBatchGetBeyondOneHundredKeys(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	var ids []profile.Identity
	for i := range 130 {
		id := profile.Identity{Namespace: "crmId", ID: fmt.Sprint(i)}
		ids = append(ids, id)
		if i%2 == 0 {
			p := profile.Profile{Namespace: id.Namespace, ID: id.ID, Attributes: map[string]any{"n": float64(i)}, CreatedAt: now, UpdatedAt: now}
			if err := s.Put(ctx, acme, p); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, err := s.BatchGet(ctx, acme, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 65 {
		t.Fatalf("BatchGet found %d profiles, want 65", len(got))
	}
	if n := got[profile.Identity{Namespace: "crmId", ID: "128"}].Attributes["n"]; n != float64(128) {
		t.Errorf("profile 128 attribute n = %v, want 128", n)
	}
	if other, _ := s.BatchGet(ctx, other, ids); len(other) != 0 {
		t.Errorf("another tenant sees %d profiles, want 0", len(other))
	}
	p := profile.Profile{Namespace: "crmId", ID: "0", Attributes: map[string]any{"n": "changed"}}
	if err := s.CreateIfAbsent(ctx, acme, p); err != nil {
		t.Fatal(err)
	}
	if kept, _ := s.Get(ctx, acme, p.Identity()); kept.Attributes["n"] != float64(0) {
		t.Errorf("CreateIfAbsent overwrote an existing profile: %v", kept.Attributes)
	}
}

func TestBeginRecordsARequestOnce(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	rec := execution.Record{RequestID: "r1", BodyHash: "h", Version: 3, ExpiresAt: now.Add(execution.IdempotencyTTL + 1000*time.Hour),
		Response: execution.Response{ExecutionID: "e1", RequestID: "r1", CreatedAt: now, CreatedBy: "hk_1", ModifiedAt: now, ModifiedBy: "hk_1"}}
	ex := execution.Execution{ID: "e1", Kind: "unitary", RequestID: "r1", CampaignID: "c1", Version: 3, RecipientCount: 2, CreatedAt: now, CreatedBy: "hk_1"}
	if err := s.Begin(ctx, acme, rec, ex); err != nil {
		t.Fatal(err)
	}
	ex2 := ex
	ex2.ID = "e2"
	if err := s.Begin(ctx, acme, rec, ex2); !derrors.Is(err, derrors.Conflict) {
		t.Fatalf("second Begin = %v, want Conflict", err)
	}
	if err := s.MarkEnqueued(ctx, acme, "r1"); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetRecord(ctx, acme, "r1")
	if err != nil {
		t.Fatal(err)
	}
	rec.Enqueued = true
	if diff := cmp.Diff(rec, got); diff != "" {
		t.Errorf("GetRecord (-want +got):\n%s", diff)
	}
	if _, err := s.GetRecord(ctx, other, "r1"); !derrors.Is(err, derrors.NotFound) {
		t.Errorf("other tenant's GetRecord = %v, want NotFound", err)
	}
}

func TestBeginChecksTheCampaignRevisionItWasGiven(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	c := campaign.Campaign{ID: "c1", Name: "Order shipped", Type: campaign.Transactional, Channel: campaign.Email,
		Status: campaign.StatusDraft, Revision: 4, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateCampaign(ctx, acme, c); err != nil {
		t.Fatal(err)
	}
	begin := func(requestID string, revision int) error {
		rec := execution.Record{RequestID: requestID, BodyHash: "h", Version: 1, ExpiresAt: now.Add(execution.IdempotencyTTL + 1000*time.Hour),
			Response: execution.Response{ExecutionID: "e-" + requestID, RequestID: requestID, CreatedAt: now}}
		ex := execution.Execution{ID: "e-" + requestID, Kind: "unitary", RequestID: requestID, CampaignID: "c1", Version: 1,
			RecipientCount: 1, CreatedAt: now, CampaignRevision: revision}
		return s.Begin(ctx, acme, rec, ex)
	}
	if err := begin("r1", 4); err != nil {
		t.Fatalf("Begin at the campaign's revision: %v", err)
	}
	if err := begin("r2", 3); !derrors.Is(err, derrors.Precondition) {
		t.Errorf("Begin at another revision = %v, want Precondition", err)
	}
	if _, err := s.GetRecord(ctx, acme, "r2"); !derrors.Is(err, derrors.NotFound) {
		t.Errorf("the refused Begin stored its record: %v", err)
	}
	if err := begin("r1", 3); !derrors.Is(err, derrors.Conflict) {
		t.Errorf("Begin of a recorded request at another revision = %v, want Conflict (the repeat wins)", err)
	}
	if err := begin("r3", 0); err != nil {
		t.Errorf("Begin without a revision: %v", err)
	}
}
