package delivery_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/suppression"
	"github.com/heraldhq/herald/internal/tenant"
)

// notices records what Dispatch tells the feedback webhook.
type notices struct {
	mu   sync.Mutex
	got  map[string]delivery.Outcome
	fail error
}

func (n *notices) NotifyOutcomes(_ context.Context, t tenant.Tenant, ns []delivery.OutcomeNotice) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.fail != nil {
		return n.fail
	}
	if n.got == nil {
		n.got = map[string]delivery.Outcome{}
	}
	for _, x := range ns {
		if t != acme || x.CampaignID != "camp-1" || x.Version != 1 || x.Key.ExecutionID != "ex-1" || x.Type != "transactional" {
			return errors.New("a notice of another execution")
		}
		n.got[x.Key.UserID] = x.Outcome
	}
	return nil
}

// Exclusions and failures are told from Dispatch; an email's send is not
// (its SES event tells it); a notifier that fails makes the job come back,
// and the next delivery tells the outcomes again without sending again.
func TestDispatchTellsTheWebhookItsOutcomes(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, defaultContent, defaultSettings)
	if err := f.store.PutSuppression(ctx, acme, suppression.Entry{Channel: suppression.Email, Address: "blocked@example.com", Reason: suppression.Bounce}); err != nil {
		t.Fatal(err)
	}
	n := &notices{fail: errors.New("queue down")}
	f.d.Outcomes, f.d.Suppressions = n, f.store
	j := job(
		delivery.Recipient{Type: delivery.TypeExternal, Namespace: "crmId", UserID: "sent", Email: "ok@example.com"},
		delivery.Recipient{Type: delivery.TypeExternal, Namespace: "crmId", UserID: "noaddr"},
		delivery.Recipient{Type: delivery.TypeExternal, Namespace: "crmId", UserID: "blocked", Email: "blocked@example.com"},
		delivery.Recipient{Type: delivery.TypeExternal, Namespace: "crmId", UserID: "bad", Email: "not an address"},
	)
	err := f.d.Dispatch(ctx, j)
	if !errors.Is(err, delivery.ErrRetry) {
		t.Fatalf("Dispatch with the notifier down = %v, want a retry", err)
	}
	if len(f.mailer.Sent()) != 1 {
		t.Fatalf("%d emails sent, want 1: %+v", len(f.mailer.Sent()), f.mailer.Sent())
	}
	n.fail = nil
	j.Receipt.Count = 2
	if err := f.d.Dispatch(ctx, j); err != nil {
		t.Fatalf("Dispatch again: %v", err)
	}
	if len(f.mailer.Sent()) != 1 {
		t.Errorf("%d emails sent after the retry, want still 1", len(f.mailer.Sent()))
	}
	want := map[string]delivery.Outcome{"noaddr": delivery.ExcludedNoAddress, "blocked": delivery.ExcludedSuppressed, "bad": delivery.FailedInvalidAddr}
	if diff := cmp.Diff(want, n.got); diff != "" {
		t.Errorf("outcomes told (-want +got):\n%s", diff)
	}
	// Proofs are never told.
	n.got = nil
	proof := job(delivery.Recipient{Type: delivery.TypeExternal, Namespace: "crmId", UserID: "p", Email: "not an address"})
	proof.ExecutionID, proof.Proof = "proof-1", true
	_ = f.d.Dispatch(ctx, proof)
	if len(n.got) != 0 {
		t.Errorf("a proof's outcomes were told: %v", n.got)
	}
}

// Recipients the dead-letter consumer closes are told too.
func TestAbandonTellsTheWebhook(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, defaultContent, defaultSettings)
	f.d.Parking = f.store
	n := &notices{}
	f.d.Outcomes = n
	j := job(delivery.Recipient{Type: delivery.TypeExternal, Namespace: "crmId", UserID: "lost", Email: "lost@example.com"})
	j.Channel = "email"
	if _, err := f.d.Abandon(ctx, j, "test"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]delivery.Outcome{"lost": delivery.FailedRetriesExhausted}, n.got); diff != "" {
		t.Errorf("outcomes told (-want +got):\n%s", diff)
	}
}
