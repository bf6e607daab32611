package dynamo_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/contextschema"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/storetest"
	"github.com/heraldhq/herald/internal/strictjson"
)

func TestCampaignStoreContract(t *testing.T) {
	storetest.Campaigns(t, func(t *testing.T) campaign.Store { return newStore(t) })
}

// The campaign service on the DynamoDB store: the contract the memory
// fake mirrors, checked against moto.
func newCampaigns(t *testing.T) (*campaign.Service, func() time.Time) {
	t.Helper()
	s := newStore(t)
	var mu sync.Mutex
	clock, n := now, 0
	tick := func() time.Time { mu.Lock(); defer mu.Unlock(); clock = clock.Add(time.Second); return clock }
	return &campaign.Service{Schemas: contextschema.Compiler{}, Store: s, Now: tick, NewID: func() string { mu.Lock(); defer mu.Unlock(); n++; return fmt.Sprintf("id-%02d", n) }}, tick
}

// patch is the edit a PATCH merge patch of a T makes.
func patch[T any](t *testing.T, body string) func(T) (T, error) {
	t.Helper()
	edit, err := strictjson.ParsePatch[T]([]byte(body))
	if err != nil {
		t.Fatalf("merge patch %s: %v", body, err)
	}
	return edit
}

func emailConfig(svc *campaign.Service, t *testing.T) campaign.ChannelConfig {
	t.Helper()
	cfg, err := svc.CreateConfig(context.Background(), acme, campaign.ConfigInput{Name: "Mail", Channel: campaign.Email, Category: campaign.Transactional,
		Email: &campaign.EmailSettings{FromAddress: "orders@acme.example"}})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func draft(name, cfgID string, tags ...string) campaign.CampaignInput {
	return campaign.CampaignInput{Name: name, Type: campaign.Transactional, Channel: campaign.Email, ChannelConfigID: cfgID, Tags: tags,
		Content: campaign.Content{Email: &campaign.EmailContent{Subject: "Hi", HTML: "<p>Hi</p>"}}}
}

func TestCampaignListsQueryTheListIndexNewestFirst(t *testing.T) {
	ctx := context.Background()
	svc, _ := newCampaigns(t)
	cfg := emailConfig(svc, t)
	for i := range 7 {
		in := draft(fmt.Sprintf("Promo %d", i), cfg.ID)
		if i%2 == 0 {
			in = draft(fmt.Sprintf("Receipt %d", i), cfg.ID, "billing", "x")
		}
		c, err := svc.CreateCampaign(ctx, acme, in)
		if err != nil {
			t.Fatal(err)
		}
		if i == 6 {
			if _, err := svc.Activate(ctx, acme, c.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := svc.CreateCampaign(ctx, other, draft("Receipt other", "")); err != nil {
		t.Fatal(err)
	}
	names := func(f campaign.ListFilter) ([]string, string) {
		t.Helper()
		p, err := svc.ListCampaigns(ctx, acme, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range p.Items {
			out = append(out, s.Name)
		}
		return out, p.Next
	}
	got, next := names(campaign.ListFilter{Limit: 4})
	if diff := cmp.Diff([]string{"Receipt 6", "Promo 5", "Receipt 4", "Promo 3"}, got); diff != "" || next == "" {
		t.Errorf("first page (-want +got):\n%s (next %q)", diff, next)
	}
	got, next = names(campaign.ListFilter{Limit: 4, Cursor: next})
	if diff := cmp.Diff([]string{"Receipt 2", "Promo 1", "Receipt 0"}, got); diff != "" || next != "" {
		t.Errorf("second page (-want +got):\n%s (next %q)", diff, next)
	}
	got, _ = names(campaign.ListFilter{Tag: "billing", NamePrefix: "receipt", Status: campaign.StatusDraft})
	if diff := cmp.Diff([]string{"Receipt 4", "Receipt 2", "Receipt 0"}, got); diff != "" {
		t.Errorf("filtered (-want +got):\n%s", diff)
	}
	if _, err := svc.ListCampaigns(ctx, other, campaign.ListFilter{Cursor: next + "x"}); !derrors.Is(err, derrors.Invalid) && next != "" {
		t.Errorf("a forged cursor = %v, want Invalid", err)
	}
	p, _ := svc.ListConfigs(ctx, acme, campaign.ListFilter{Channel: campaign.Email})
	if len(p.Items) != 1 || p.Items[0].ID != cfg.ID || p.Items[0].Email == nil {
		t.Errorf("configurations = %+v", p.Items)
	}
}

func TestConcurrentCampaignUpdatesFromOneRevisionLetOneWinInDynamoDB(t *testing.T) {
	ctx := context.Background()
	svc, _ := newCampaigns(t)
	c, err := svc.CreateCampaign(ctx, acme, draft("Race", ""))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, stale := 0, 0
	for i := range 6 {
		describe := patch[campaign.CampaignInput](t, fmt.Sprintf(`{"description":"writer %d"}`, i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := svc.UpdateCampaign(ctx, acme, c.ID, describe, c.Revision)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case derrors.Is(err, derrors.Precondition):
				stale++
			default:
				t.Errorf("UpdateCampaign: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || stale != 5 {
		t.Errorf("%d won, %d stale; want 1 and 5", wins, stale)
	}
}

func TestVersionsConfigurationUseAndDeletesInDynamoDB(t *testing.T) {
	ctx := context.Background()
	svc, _ := newCampaigns(t)
	cfg := emailConfig(svc, t)
	in := draft("Versions", cfg.ID)
	in.Content.Email.HTML = strings.Repeat("<p>big but compressible</p>", 18000) // ~486 KB
	c, err := svc.CreateCampaign(ctx, acme, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Activate(ctx, acme, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.UpdateCampaign(ctx, acme, c.ID, patch[campaign.CampaignInput](t, `{"content":{"email":{"subject":"v2"}}}`), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Activate(ctx, acme, c.ID); err != nil {
		t.Fatal(err)
	}
	v2, err := svc.GetVersion(ctx, acme, c.ID, 2)
	if err != nil || v2.Spec.Content.Email.Subject != "v2" || v2.Spec.Content.Email.HTML != in.Content.Email.HTML {
		t.Fatalf("version 2 = %q (%d bytes of HTML), %v", v2.Spec.Content.Email.Subject, len(v2.Spec.Content.Email.HTML), err)
	}
	p, err := svc.ListVersions(ctx, acme, c.ID, 1, "")
	if err != nil || len(p.Items) != 1 || p.Items[0].Number != 2 || !p.Items[0].Live || p.Next == "" {
		t.Fatalf("first versions page = %+v, %v", p, err)
	}
	p, err = svc.ListVersions(ctx, acme, c.ID, 1, p.Next)
	if err != nil || len(p.Items) != 1 || p.Items[0].Number != 1 || p.Items[0].Live {
		t.Fatalf("second versions page = %+v, %v", p, err)
	}
	if err := svc.DeleteConfig(ctx, acme, cfg.ID, 0); !derrors.Is(err, derrors.Conflict) {
		t.Errorf("deleting the configuration of a live campaign = %v, want Conflict", err)
	}
	if err := svc.DeleteCampaign(ctx, acme, c.ID, 0); !derrors.Is(err, derrors.Conflict) {
		t.Errorf("deleting a live campaign = %v, want Conflict", err)
	}
	if _, err := svc.UpdateConfig(ctx, acme, cfg.ID, patch[campaign.ConfigInput](t, `{"name":"Mail 2"}`), 1); err != nil {
		t.Fatalf("UpdateConfig: %v", err)
	}
	if _, err := svc.Archive(ctx, acme, c.ID, 0); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteConfig(ctx, acme, cfg.ID, 2); err != nil {
		t.Fatalf("deleting the configuration once no campaign is live: %v", err)
	}
	// A draft activated with the deleted configuration is refused by review.
	d, _ := svc.CreateCampaign(ctx, acme, draft("Orphan", cfg.ID))
	if _, err := svc.Activate(ctx, acme, d.ID); !derrors.Is(err, derrors.Unprocessable) {
		t.Errorf("activation with a deleted configuration = %v, want Unprocessable", err)
	}
	if err := svc.DeleteCampaign(ctx, acme, d.ID, d.Revision); err != nil {
		t.Errorf("deleting a draft: %v", err)
	}
}
