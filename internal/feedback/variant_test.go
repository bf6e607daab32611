package feedback_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/feedback"
	"github.com/heraldhq/herald/internal/memory"
)

// An entry's treatment and locale variant name the counters its events
// add per variant, beside the counters themselves, each once.
func TestEventsAreCountedPerVariantOfTheEntry(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	k := delivery.Key{ExecutionID: "ex-1", Namespace: "crmId", UserID: "u1", Channel: campaign.Email}
	e := delivery.Entry{Key: k, CampaignID: "c-1", Version: 1, State: delivery.Claimed, Token: "tok", Tag: delivery.Tag(acme, k), ClaimedAt: t0,
		Treatment: "B", Variant: "fr"}
	if _, ok, err := s.Claim(ctx, acme, e); err != nil || !ok {
		t.Fatalf("Claim = %v, %v", ok, err)
	}
	e.State, e.Outcome, e.MessageID = delivery.Done, delivery.Sent, "m-1"
	if err := s.Finish(ctx, acme, e); err != nil {
		t.Fatal(err)
	}
	plain := sent(t, s, "u2", campaign.Email, delivery.Sent, "m-2")
	svc := service(s)
	for range 2 {
		for _, k := range []feedback.Kind{feedback.Delivery, feedback.Click} {
			for _, en := range []delivery.Entry{e, plain} {
				if _, err := svc.Apply(ctx, emailEvent(en, k)); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	fb, err := s.ExecutionFeedback(ctx, acme, "ex-1")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{feedback.CountDelivered: 2, feedback.CountOpened: 2, feedback.CountClicked: 2,
		"v:B/fr#delivered": 1, "v:B/fr#opened": 1, "v:B/fr#clicked": 1}
	if diff := cmp.Diff(want, fb); diff != "" {
		t.Errorf("feedback counters (-want +got):\n%s", diff)
	}
}
