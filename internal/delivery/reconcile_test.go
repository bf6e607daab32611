package delivery_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/feedback"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/reputation"
	"github.com/heraldhq/herald/internal/tenant"
)

// sendEvents says SES events reach Herald for every tenant (or none).
type sendEvents struct{ sends int64 }

func (s sendEvents) ReputationWindow(context.Context, tenant.Tenant, campaign.Channel, time.Time) (reputation.Counts, error) {
	return reputation.Counts{Sends: s.sends}, nil
}

// reconcileFixture dispatches one email whose answer is lost (5xx) with
// reconciliation on, and returns the queued second look.
func reconcileFixture(t *testing.T, events int64) (*fixture, *memory.Queue, delivery.Job) {
	t.Helper()
	f := newFixture(t, defaultContent, defaultSettings)
	q := &memory.Queue{}
	f.d.ReconcileAfter, f.d.Requeue, f.d.SendEvents = 15*time.Minute, q, sendEvents{events}
	var mu sync.Mutex
	fail := true
	f.mailer.Fail = func(e delivery.Email) error {
		mu.Lock()
		defer mu.Unlock()
		if fail && e.To == "amb@example.com" {
			fail = false
			return &delivery.SendError{Failure: delivery.Uncertain, Code: "5xx"}
		}
		return nil
	}
	j := job(delivery.Recipient{Type: delivery.TypeExternal, Namespace: "crmId", UserID: "amb", Email: "amb@example.com"},
		delivery.Recipient{Type: delivery.TypeExternal, Namespace: "crmId", UserID: "ok", Email: "ok@example.com"})
	if err := f.d.Dispatch(context.Background(), j); err != nil {
		t.Fatalf("Dispatch: %v", err)
	}
	looks := q.Jobs()
	if len(looks) != 1 || !looks[0].Reconcile || len(looks[0].Recipients) != 1 || looks[0].Recipients[0].UserID != "amb" ||
		looks[0].Delay != delivery.MaxDelay {
		t.Fatalf("queued %+v; want one second look at amb, delayed %s", looks, delivery.MaxDelay)
	}
	return f, q, looks[0]
}

func TestAnAmbiguousEmailNoEventConfirmedIsSentOnceMore(t *testing.T) {
	ctx := context.Background()
	f, q, look := reconcileFixture(t, 10)
	if err := f.d.Dispatch(ctx, look); err != nil {
		t.Fatalf("the second look: %v", err)
	}
	// The same look again (a redelivery) sends nothing more.
	if err := f.d.Dispatch(ctx, look); err != nil {
		t.Fatalf("the look again: %v", err)
	}
	var amb []delivery.Email
	for _, e := range f.mailer.Sent() {
		if e.To == "amb@example.com" {
			amb = append(amb, e)
		}
	}
	if len(amb) != 1 {
		t.Errorf("SES took %d emails to amb after the look, want 1 (the first was refused by the fake)", len(amb))
	}
	if got := f.ledger(); got[0].UserID != "amb" || got[0].Outcome != delivery.Sent || got[0].State != delivery.Done {
		t.Errorf("ledger %+v; want amb sent", got)
	}
	if n := len(q.Jobs()); n != 1 {
		t.Errorf("%d looks queued, want still 1 (a look is never looked at again)", n)
	}
	counts, _ := f.store.Counts(ctx, acme, "ex-1")
	if counts[delivery.Sent] != 2 || counts[delivery.Ambiguous("5xx")] != 0 {
		t.Errorf("counts %v; want 2 sent, the ambiguous one moved", counts)
	}
}

func TestAConfirmedAmbiguousEmailIsNotSentAgain(t *testing.T) {
	ctx := context.Background()
	f, _, look := reconcileFixture(t, 10)
	// SES's SEND event confirms it before the look.
	var e delivery.Entry
	for _, x := range f.store.AllEntries() {
		if x.UserID == "amb" {
			e = x
		}
	}
	svc := &feedback.Service{Store: f.store, Now: func() time.Time { return t0.Add(time.Minute) }}
	if _, err := svc.Apply(ctx, feedback.Event{ID: "x", Channel: campaign.Email, Kind: feedback.Send, Ref: feedback.Ref{Tag: e.Tag}, At: t0}); err != nil {
		t.Fatal(err)
	}
	before := len(f.mailer.Sent())
	if err := f.d.Dispatch(ctx, look); err != nil {
		t.Fatal(err)
	}
	if n := len(f.mailer.Sent()) - before; n != 0 {
		t.Errorf("%d emails sent after a confirmation, want none", n)
	}
}

func TestNoSecondSendWhereNoSESEventEverArrives(t *testing.T) {
	ctx := context.Background()
	f, _, look := reconcileFixture(t, 0)
	before := len(f.mailer.Sent())
	if err := f.d.Dispatch(ctx, look); err != nil {
		t.Fatal(err)
	}
	if n := len(f.mailer.Sent()) - before; n != 0 {
		t.Errorf("%d emails sent with no SES event for the tenant, want none (a set without events would duplicate)", n)
	}
	if got := f.ledger(); got[0].Outcome != delivery.Ambiguous("5xx") {
		t.Errorf("amb %+v, want still ambiguous:5xx", got[0])
	}
}

func TestAFailedQueueBringsTheJobBack(t *testing.T) {
	f := newFixture(t, defaultContent, defaultSettings)
	f.d.ReconcileAfter, f.d.Requeue, f.d.SendEvents = time.Minute, &memory.Queue{Err: errors.New("down")}, sendEvents{1}
	f.mailer.Fail = func(delivery.Email) error { return &delivery.SendError{Failure: delivery.Uncertain, Code: "timeout"} }
	err := f.d.Dispatch(context.Background(), job(delivery.Recipient{Type: delivery.TypeExternal, Namespace: "crmId", UserID: "amb", Email: "amb@example.com"}))
	if !errors.Is(err, delivery.ErrRetry) {
		t.Errorf("Dispatch with the queue down = %v, want a retry", err)
	}
}
