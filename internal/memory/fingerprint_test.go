package memory_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/audience"
	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/suppression"
)

// Tests elsewhere prove a refused request stored nothing by comparing
// fingerprints, so every kind of data must move it.
func TestFingerprintChangesWithEveryKindOfDataAndOnlyThen(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	c := campaign.Campaign{ID: "c1", Name: "C", Type: campaign.Transactional, Channel: campaign.Email, Status: campaign.StatusDraft, Revision: 1, CreatedAt: at}
	e := delivery.Entry{Key: delivery.Key{ExecutionID: "ex-1", Namespace: "email", UserID: "a@example.com", Channel: campaign.Email},
		CampaignID: "c1", Version: 1, State: delivery.Claimed, Token: "t1", ClaimedAt: at}
	tests := []struct {
		name    string
		write   func(s *memory.Store) error
		changes bool
	}{
		{"an api key", func(s *memory.Store) error { return s.PutKey(ctx, "h2", auth.Key{ID: "hk_2", Tenant: acme}) }, true},
		{"a configuration", func(s *memory.Store) error {
			return s.CreateConfig(ctx, acme, campaign.ChannelConfig{ID: "cfg2", Channel: campaign.Email, Revision: 1})
		}, true},
		{"a campaign", func(s *memory.Store) error { c2 := c; c2.ID = "c2"; return s.CreateCampaign(ctx, acme, c2) }, true},
		{"a refused campaign", func(s *memory.Store) error {
			if err := s.CreateCampaign(ctx, acme, c); !derrors.Is(err, derrors.Conflict) {
				return fmt.Errorf("second CreateCampaign = %v, want Conflict", err)
			}
			return nil
		}, false},
		{"a version", func(s *memory.Store) error {
			live := c
			live.Status, live.Revision = campaign.StatusLive, 2
			return s.Activate(ctx, acme, live, campaign.Version{CampaignID: "c1", Number: 1}, 1)
		}, true},
		{"a version expiry", func(s *memory.Store) error { return s.ExpireVersions(ctx, acme, "c1", at) }, true},
		{"a profile", func(s *memory.Store) error {
			return s.Put(ctx, acme, profile.Profile{Namespace: "crmId", ID: "2", Identities: map[string]string{"email": "b@example.com"}})
		}, true},
		{"a suppression", func(s *memory.Store) error {
			return s.PutSuppression(ctx, acme, suppression.Entry{Channel: suppression.Email, Address: "b@example.com", Reason: suppression.Bounce})
		}, true},
		{"a ledger claim", func(s *memory.Store) error { _, _, err := s.Claim(ctx, acme, e); return err }, true},
		{"an audience", func(s *memory.Store) error { return s.CreateAudience(ctx, acme, audience.Audience{ID: "a2"}) }, true},
		{"an audience member", func(s *memory.Store) error {
			_, err := s.AddMembers(ctx, acme, "a1", []audience.Member{{Namespace: "crmId", ID: "2"}})
			return err
		}, true},
		{"a member already there", func(s *memory.Store) error {
			_, err := s.AddMembers(ctx, acme, "a1", []audience.Member{{Namespace: "crmId", ID: "1"}})
			return err
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := memory.New()
			if err := s.PutKey(ctx, "h1", auth.Key{ID: "hk_1", Tenant: acme}); err != nil {
				t.Fatal(err)
			}
			if err := s.CreateCampaign(ctx, acme, c); err != nil {
				t.Fatal(err)
			}
			if err := s.CreateAudience(ctx, acme, audience.Audience{ID: "a1"}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.AddMembers(ctx, acme, "a1", []audience.Member{{Namespace: "crmId", ID: "1"}}); err != nil {
				t.Fatal(err)
			}
			before := s.Fingerprint()
			if before != s.Fingerprint() {
				t.Fatal("two fingerprints of the same store differ")
			}
			if err := tt.write(s); err != nil {
				t.Fatal(err)
			}
			if changed := s.Fingerprint() != before; changed != tt.changes {
				t.Errorf("fingerprint changed: %v, want %v", changed, tt.changes)
			}
		})
	}
}

func TestHelpersReadBackWhatTheStoreHolds(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	at := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	for _, id := range []string{"1", "2"} {
		if err := s.Put(ctx, acme, profile.Profile{Namespace: "crmId", ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.ExpireVersions(ctx, acme, "c1", at); err != nil {
		t.Fatal(err)
	}
	e := delivery.Entry{Key: delivery.Key{ExecutionID: "ex-1", Namespace: "email", UserID: "a@example.com", Channel: campaign.Email},
		CampaignID: "c1", Version: 1, State: delivery.Claimed, Token: "t1", ClaimedAt: at}
	if _, _, err := s.Claim(ctx, acme, e); err != nil {
		t.Fatal(err)
	}
	if got := s.Profiles(); got != 2 {
		t.Errorf("Profiles = %d, want 2", got)
	}
	if got := s.VersionsExpireAt(acme, "c1"); !got.Equal(at) {
		t.Errorf("VersionsExpireAt = %v, want %v", got, at)
	}
	if got := s.VersionsExpireAt(acme, "c2"); !got.IsZero() {
		t.Errorf("VersionsExpireAt(never expired) = %v, want zero", got)
	}
	if got := s.AllEntries(); len(got) != 1 || got[0].Token != "t1" {
		t.Errorf("AllEntries = %+v, want the one claim", got)
	}
	if got, want := (&memory.Scheduler{}).Fingerprint(), (&memory.Scheduler{}).Fingerprint(); got != want {
		t.Errorf("two empty schedulers' fingerprints differ: %s, %s", got, want)
	}
}
