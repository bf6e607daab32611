package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/audience"
	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/capping"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/erasure"
	"github.com/heraldhq/herald/internal/feedback"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/suppression"
	"github.com/heraldhq/herald/internal/tenant"
	"github.com/heraldhq/herald/internal/webhook"
)

// ErasureStore is what the erasure contract exercises: every store a
// person's rows are written through, and the erasure.
type ErasureStore interface {
	erasure.Store
	profile.Store
	delivery.Ledger
	delivery.Parking
	audience.Store
	webhook.DeliveryStore
	feedback.Store
	suppression.Store
	capping.Store
	// Counts is status.Store's: an execution's outcome counts.
	Counts(ctx context.Context, t tenant.Tenant, executionID string) (map[delivery.Outcome]int64, error)
}

// Erasure runs the erasure contract: a person seeded through every store
// that keeps their identity or address is erased, counted per kind,
// their neighbour is untouched, and a repeat finds nothing more.
func Erasure(t *testing.T, newStore func(t *testing.T) ErasureStore) {
	ctx := context.Background()
	const jane, bob = "jane@example.com", "bob@example.com"
	seed := func(t *testing.T, s ErasureStore) {
		t.Helper()
		must := func(what string, err error) {
			t.Helper()
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		}
		must("Put jane", s.Put(ctx, acme, profile.Profile{Namespace: "crmId", ID: "cust-1", Identities: map[string]string{"email": jane},
			CreatedAt: t0, UpdatedAt: t0}))
		must("Put bob", s.Put(ctx, acme, profile.Profile{Namespace: "crmId", ID: "cust-2", Identities: map[string]string{"email": bob},
			CreatedAt: t0, UpdatedAt: t0}))
		send := func(exec, user, addr string, ch campaign.Channel) {
			k := delivery.Key{ExecutionID: exec, Namespace: "crmId", UserID: user, Channel: ch}
			e := delivery.Entry{Key: k, CampaignID: "c1", Version: 1, State: delivery.Claimed, Token: "tok", Tag: delivery.Tag(acme, k), ClaimedAt: t0}
			if _, ok, err := s.Claim(ctx, acme, e); err != nil || !ok {
				t.Fatalf("Claim %s = %v, %v", user, ok, err)
			}
			_, err := s.ClaimAddress(ctx, acme, exec, ch, delivery.AddressDigest(ch, addr), e.Tag)
			must("ClaimAddress", err)
			e.State, e.Outcome, e.MessageID, e.FinishedAt = delivery.Done, delivery.Sent, "msg-"+user+exec, t0
			must("Finish", s.Finish(ctx, acme, e))
			must("Tally", s.Tally(ctx, acme, exec, 0, delivery.Tag(acme, k.Recipient()), delivery.Sent, "B/fr"))
		}
		send("ex-1", "cust-1", jane, campaign.Email)
		send("ex-1", "cust-2", bob, campaign.Email)
		send("ex-2", "cust-1", "+15550100", campaign.SMS)
		park := func(exec, id string, users ...string) {
			job := delivery.Job{Tenant: acme, ExecutionID: exec, CampaignID: "c1", Version: 1, Channel: campaign.Email}
			for _, u := range users {
				job.Recipients = append(job.Recipients, delivery.Recipient{Type: "aep", Namespace: "crmId", UserID: u})
			}
			must("Park", s.Park(ctx, acme, delivery.ParkedJob{ID: id, Job: job, Reason: "test", ParkedAt: t0}))
		}
		park("ex-1", "p-both", "cust-1", "cust-2")
		park("ex-2", "p-jane", "cust-1")
		must("CreateAudience", s.CreateAudience(ctx, acme, newAudience("a1")))
		_, err := s.AddMembers(ctx, acme, "a1", members("cust-1", "cust-2"))
		must("AddMembers", err)
		for id, user := range map[string]string{"ev-jane": jane, "ev-bob": bob} {
			d := hookDelivery(id, t0)
			d.Message = []byte(`{"eventType":"bounce","recipient":{"namespace":"crmId","email":"` + user + `"}}`)
			_, _, err := s.ClaimDelivery(ctx, acme, d, t0, t0.Add(time.Minute))
			must("ClaimDelivery", err)
		}
		for _, a := range []string{jane, bob} {
			_, err := s.CountSoftBounce(ctx, acme, suppression.Email, a, t0)
			must("CountSoftBounce", err)
		}
		_, _, err = s.AddSuppression(ctx, acme, suppression.Entry{Channel: suppression.Email, Address: jane, Reason: suppression.Bounce, CreatedAt: t0})
		must("AddSuppression", err)
		for _, user := range []string{"cust-1", "cust-2"} {
			must("PutCapCounter", s.PutCapCounter(ctx, acme, capping.Key{Channel: campaign.Email, Namespace: "crmId", UserID: user},
				capping.Counter{Slots: []capping.Slot{{Tag: "t-" + user, At: t0}}}))
		}
	}

	t.Run("erasing a profile pseudonymises its ledger and removes its rows, keeps its suppression, and is idempotent", func(t *testing.T) {
		s := newStore(t)
		seed(t, s)
		svc := &erasure.Service{Profiles: s, Store: s, Key: erasure.Pseudonymizer("a deployment secret of at least 32 bytes")}
		got, err := svc.EraseProfile(ctx, acme, profile.Identity{Namespace: "crmId", ID: "cust-1"})
		if err != nil {
			t.Fatal(err)
		}
		want := erasure.NewResult()
		want.Erased[erasure.Profiles], want.Erased[erasure.RecipientLists], want.Erased[erasure.AudienceMemberships] = 1, 2, 1
		want.Erased[erasure.WebhookDeliveries], want.Erased[erasure.SoftBounces], want.Erased[erasure.ParkedRecipients] = 1, 1, 2
		want.Erased[erasure.FrequencyCapCounters] = 1
		want.Pseudonymised[erasure.LedgerEntries], want.Kept[erasure.Suppressions] = 2, 1
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("EraseProfile (-want +got):\n%s", diff)
		}

		if _, err := s.Get(ctx, acme, profile.Identity{Namespace: "email", ID: jane}); !derrors.Is(err, derrors.NotFound) {
			t.Errorf("profile by email after erasure: %v, want NotFound", err)
		}
		for _, k := range []delivery.Key{{ExecutionID: "ex-1", Namespace: "crmId", UserID: "cust-1", Channel: campaign.Email},
			{ExecutionID: "ex-2", Namespace: "crmId", UserID: "cust-1", Channel: campaign.SMS}} {
			if es, err := s.Entries(ctx, acme, k); err != nil || len(es) != 0 {
				t.Errorf("Entries(%s) after erasure = %d, %v; want none", k.ExecutionID, len(es), err)
			}
			k.UserID = svc.Pseudonym(acme, profile.Identity{Namespace: "crmId", ID: "cust-1"})
			es, err := s.Entries(ctx, acme, k)
			if err != nil || len(es) != 1 || es[0].Outcome != delivery.Sent || es[0].MessageID != "" || es[0].Tag != delivery.Tag(acme, k) {
				t.Errorf("Entries(%s, pseudonym) = %+v, %v; want the entry, sent, no message id, the pseudonym's tag", k.ExecutionID, es, err)
			}
		}
		// The counters keep the outcome, under the pseudonym's tag.
		oldKey := delivery.Key{ExecutionID: "ex-1", Namespace: "crmId", UserID: "cust-1", Channel: campaign.Email}
		newKey := oldKey
		newKey.UserID = svc.Pseudonym(acme, profile.Identity{Namespace: "crmId", ID: "cust-1"})
		counted, err := s.Counted(ctx, acme, "ex-1", 0, []string{delivery.Tag(acme, oldKey), delivery.Tag(acme, newKey)})
		if diff := cmp.Diff(map[string]delivery.Outcome{delivery.Tag(acme, newKey): delivery.Sent}, counted); err != nil || diff != "" {
			t.Errorf("Counted after erasure (-want +got): %v\n%s", err, diff)
		}
		if n, err := s.Counts(ctx, acme, "ex-1"); err != nil || n[delivery.Sent] != 2 {
			t.Errorf("Counts(ex-1) after erasure = %v, %v; want 2 sent, as before", n, err)
		}
		// Parked jobs: no redrive can reach jane; bob's stays.
		if ps, err := s.Parked(ctx, acme, "ex-2"); err != nil || len(ps) != 0 {
			t.Errorf("Parked(ex-2) after erasure = %+v, %v; want jane's job gone", ps, err)
		}
		ps, err := s.Parked(ctx, acme, "ex-1")
		if err != nil || len(ps) != 1 || len(ps[0].Job.Recipients) != 1 || ps[0].Job.Recipients[0].UserID != "cust-2" {
			t.Errorf("Parked(ex-1) after erasure = %+v, %v; want the job with bob alone", ps, err)
		}
		bobKey := delivery.Key{ExecutionID: "ex-1", Namespace: "crmId", UserID: "cust-2", Channel: campaign.Email}
		if es, err := s.Entries(ctx, acme, bobKey); err != nil || len(es) != 1 || es[0].MessageID == "" {
			t.Errorf("bob's entry = %+v, %v; want it untouched", es, err)
		}
		// The execution's recipient list: jane's address is free again,
		// bob's still his.
		if owner, err := s.ClaimAddress(ctx, acme, "ex-1", campaign.Email, delivery.AddressDigest(campaign.Email, jane), "someone"); err != nil || owner != "someone" {
			t.Errorf("ClaimAddress(jane) after erasure = %q, %v; want the address unclaimed", owner, err)
		}
		if owner, err := s.ClaimAddress(ctx, acme, "ex-1", campaign.Email, delivery.AddressDigest(campaign.Email, bob), "someone"); err != nil || owner != delivery.Tag(acme, bobKey) {
			t.Errorf("ClaimAddress(bob) after erasure = %q, %v; want bob's", owner, err)
		}
		page, err := s.Members(ctx, acme, "a1", "", 10)
		if diff := cmp.Diff(members("cust-2"), page.Members); err != nil || diff != "" {
			t.Errorf("members after erasure (-want +got): %v\n%s", err, diff)
		}
		if _, err := s.GetDelivery(ctx, acme, "ev-jane"); !derrors.Is(err, derrors.NotFound) {
			t.Errorf("jane's webhook delivery after erasure: %v, want NotFound", err)
		}
		if _, err := s.GetDelivery(ctx, acme, "ev-bob"); err != nil {
			t.Errorf("bob's webhook delivery after erasure: %v, want it kept", err)
		}
		if n, err := s.CountSoftBounce(ctx, acme, suppression.Email, jane, t0); err != nil || n != 1 {
			t.Errorf("jane's transient bounces after erasure + 1 = %d, %v; want 1 (counted afresh)", n, err)
		}
		if n, err := s.CountSoftBounce(ctx, acme, suppression.Email, bob, t0); err != nil || n != 2 {
			t.Errorf("bob's transient bounces + 1 = %d, %v; want 2", n, err)
		}
		if _, err := s.GetSuppression(ctx, acme, suppression.Email, jane); err != nil {
			t.Errorf("jane's suppression after erasure: %v, want it kept", err)
		}
		for user, want := range map[string]int{"cust-1": 0, "cust-2": 1} {
			c, err := s.CapCounter(ctx, acme, capping.Key{Channel: campaign.Email, Namespace: "crmId", UserID: user})
			if err != nil || len(c.Slots) != want {
				t.Errorf("%s's frequency cap counter after erasure: %d slots, %v; want %d", user, len(c.Slots), err, want)
			}
		}

		again, err := svc.EraseProfile(ctx, acme, profile.Identity{Namespace: "crmId", ID: "cust-1"})
		if diff := cmp.Diff(erasure.NewResult(), again); err != nil || diff != "" {
			t.Errorf("second EraseProfile (-want +got): %v\n%s", err, diff)
		}
	})

	t.Run("erasing an address reaches a recipient who never had a profile", func(t *testing.T) {
		s := newStore(t)
		seed(t, s)
		svc := &erasure.Service{Profiles: s, Store: s, Key: erasure.Pseudonymizer("a deployment secret of at least 32 bytes")}
		k := delivery.Key{ExecutionID: "ex-3", Namespace: "email", UserID: "ann@example.com", Channel: campaign.Email}
		e := delivery.Entry{Key: k, CampaignID: "c1", Version: 1, State: delivery.Claimed, Token: "tok", Tag: delivery.Tag(acme, k), ClaimedAt: t0}
		if _, ok, err := s.Claim(ctx, acme, e); err != nil || !ok {
			t.Fatalf("Claim = %v, %v", ok, err)
		}
		if _, err := s.ClaimAddress(ctx, acme, "ex-3", campaign.Email, delivery.AddressDigest(campaign.Email, "ann@example.com"), e.Tag); err != nil {
			t.Fatal(err)
		}
		got, err := svc.Erase(ctx, acme, erasure.Request{Channel: suppression.Email, Address: "Ann@Example.com"})
		if err != nil {
			t.Fatal(err)
		}
		want := erasure.NewResult()
		want.Erased[erasure.RecipientLists], want.Pseudonymised[erasure.LedgerEntries] = 1, 1
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Erase(address) (-want +got):\n%s", diff)
		}
		for _, bad := range []erasure.Request{{}, {Namespace: "crmId", ID: "x", Channel: suppression.Email, Address: "a@b.example"},
			{Channel: "push", Address: "tok"}, {Channel: suppression.Email, Address: "not an address"}} {
			if _, err := svc.Erase(ctx, acme, bad); !derrors.Is(err, derrors.Invalid) {
				t.Errorf("Erase(%+v) = %v, want Invalid", bad, err)
			}
		}
	})
}
