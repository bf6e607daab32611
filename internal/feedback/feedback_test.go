package feedback_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/feedback"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/suppression"
	"github.com/heraldhq/herald/internal/tenant"
)

var (
	acme = tenant.Tenant{Org: "ACME@AdobeOrg", Sandbox: "prod"}
	t0   = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
)

const bounced = "bounced@example.com"

// sent stores a finished ledger entry of channel ch with outcome o and
// returns it.
func sent(t testing.TB, s *memory.Store, user string, ch campaign.Channel, o delivery.Outcome, messageID string) delivery.Entry {
	t.Helper()
	ctx := context.Background()
	k := delivery.Key{ExecutionID: "ex-1", Namespace: "crmId", UserID: user, Channel: ch}
	e := delivery.Entry{Key: k, CampaignID: "c-1", Version: 1, State: delivery.Claimed, Token: "tok", Tag: delivery.Tag(acme, k), ClaimedAt: t0}
	if _, ok, err := s.Claim(ctx, acme, e); err != nil || !ok {
		t.Fatalf("Claim = %v, %v", ok, err)
	}
	e.State, e.Outcome, e.MessageID = delivery.Done, o, messageID
	if err := s.Finish(ctx, acme, e); err != nil {
		t.Fatal(err)
	}
	return e
}

func service(s *memory.Store) *feedback.Service {
	return &feedback.Service{Store: s, Devices: s, Now: func() time.Time { return t0.Add(time.Hour) }}
}

// emailEvent is an SES event of kind k about the email entry e.
func emailEvent(e delivery.Entry, k feedback.Kind) feedback.Event {
	ev := feedback.Event{ID: feedback.EventID("test", e.Tag, string(k)), Channel: campaign.Email, Kind: k, Ref: feedback.Ref{Tag: e.Tag},
		At: t0.Add(time.Minute)}
	if k == feedback.Bounce || k == feedback.Complaint || k == feedback.SoftBounce {
		ev.Addresses = []string{"Bounced@Example.com"}
	}
	return ev
}

func permutations(kinds []feedback.Kind) [][]feedback.Kind {
	if len(kinds) <= 1 {
		return [][]feedback.Kind{slices.Clone(kinds)}
	}
	var out [][]feedback.Kind
	for i, k := range kinds {
		rest := append(slices.Clone(kinds[:i]), kinds[i+1:]...)
		for _, p := range permutations(rest) {
			out = append(out, append([]feedback.Kind{k}, p...))
		}
	}
	return out
}

// final is what one message's record must be after every event of the
// matrix, whatever their order and repetition.
type final struct {
	Events   []string
	State    string
	Outcome  delivery.Outcome
	Counters map[string]int64
	Suppr    int
}

func record(t *testing.T, s *memory.Store, e delivery.Entry) final {
	t.Helper()
	ctx := context.Background()
	got, err := s.Entry(ctx, acme, e.Key)
	if err != nil {
		t.Fatal(err)
	}
	fb, err := s.ExecutionFeedback(ctx, acme, e.ExecutionID)
	if err != nil {
		t.Fatal(err)
	}
	list, err := s.ListSuppressions(ctx, acme, "", 100, "")
	if err != nil {
		t.Fatal(err)
	}
	return final{Events: got.Events, State: got.DeliveryState, Outcome: got.Outcome, Counters: fb, Suppr: len(list.Items)}
}

// Every order of SEND, DELIVERY, BOUNCE, COMPLAINT, OPEN and CLICK for one
// message, each event delivered three times, converges to one record,
// counts each kind once and suppresses the address once.
func TestEveryOrderAndRepetitionConvergesToOneRecord(t *testing.T) {
	kinds := []feedback.Kind{feedback.Send, feedback.Delivery, feedback.Bounce, feedback.Complaint, feedback.Open, feedback.Click}
	want := final{Events: []string{"bounce", "click", "complaint", "delivery", "open", "send"}, State: feedback.StateComplained,
		Outcome: delivery.Sent, Suppr: 1, Counters: map[string]int64{feedback.CountDelivered: 1, feedback.CountBouncedHard: 1,
			feedback.CountComplained: 1, feedback.CountOpened: 1, feedback.CountClicked: 1}}
	perms := permutations(kinds)
	if len(perms) != 720 {
		t.Fatalf("%d permutations, want 720", len(perms))
	}
	ctx := context.Background()
	applied := 0
	for i, p := range perms {
		s := memory.New()
		e := sent(t, s, "u1", campaign.Email, delivery.Sent, "ses-1")
		svc := service(s)
		recorded := 0
		// Each event three times: the stream again and again, and each
		// event twice in a row within it.
		for round := range 3 {
			for _, k := range p {
				for range 1 + round%2 {
					res, err := svc.Apply(ctx, emailEvent(e, k))
					if err != nil {
						t.Fatalf("%v: Apply(%s) = %v", p, k, err)
					}
					applied++
					if res == feedback.Recorded {
						recorded++
					}
				}
			}
		}
		if recorded != len(kinds) {
			t.Errorf("%v: %d events recorded, want %d (one per kind)", p, recorded, len(kinds))
		}
		if diff := cmp.Diff(want, record(t, s, e)); diff != "" {
			t.Fatalf("permutation %d %v (-want +got):\n%s", i, p, diff)
		}
	}
	t.Logf("%d permutations, %d events applied", len(perms), applied)
}

// The same events applied concurrently (three copies each) converge too:
// every write is conditional on the revision it read.
func TestConcurrentEventsConverge(t *testing.T) {
	ctx := context.Background()
	kinds := []feedback.Kind{feedback.Send, feedback.Delivery, feedback.Bounce, feedback.Complaint, feedback.Open, feedback.Click}
	for range 20 {
		s := memory.New()
		e := sent(t, s, "u1", campaign.Email, delivery.Sent, "ses-1")
		svc := service(s)
		var wg sync.WaitGroup
		errs := make(chan error, 3*len(kinds))
		for range 3 {
			for _, k := range kinds {
				wg.Go(func() {
					if _, err := svc.Apply(ctx, emailEvent(e, k)); err != nil {
						errs <- err
					}
				})
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		got := record(t, s, e)
		if got.State != feedback.StateComplained || len(got.Events) != 6 || got.Suppr != 1 || got.Counters[feedback.CountOpened] != 1 {
			t.Fatalf("concurrent record = %+v", got)
		}
	}
}

func TestStatesMoveForwardOnly(t *testing.T) {
	for _, tc := range []struct {
		kinds []string
		want  string
	}{
		{nil, ""},
		{[]string{"send"}, feedback.StateSent},
		{[]string{"delay", "send"}, feedback.StateDelayed},
		{[]string{"delay", "delivery"}, feedback.StateDelivered},
		{[]string{"delivery", "bounce"}, feedback.StateBounced},
		{[]string{"bounce", "delivery"}, feedback.StateBounced},
		{[]string{"click"}, feedback.StateClicked},
		{[]string{"open", "click", "delivery"}, feedback.StateClicked},
		{[]string{"delivery", "complaint", "open"}, feedback.StateComplained},
		{[]string{"soft_bounce", "delivery"}, feedback.StateBounced},
		{[]string{"reject", "send"}, feedback.StateRejected},
		{[]string{"failure", "delivery"}, feedback.StateFailed},
	} {
		if got := feedback.State(tc.kinds); got != tc.want {
			t.Errorf("State(%v) = %q, want %q", tc.kinds, got, tc.want)
		}
	}
}

func TestAnAmbiguousEmailConfirmedByItsEventIsSent(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	e := sent(t, s, "u1", campaign.Email, delivery.Ambiguous("timeout"), "")
	if res, err := service(s).Apply(ctx, emailEvent(e, feedback.Send)); err != nil || res != feedback.Recorded {
		t.Fatalf("Apply = %v, %v", res, err)
	}
	got := record(t, s, e)
	if got.Outcome != delivery.Sent || got.State != feedback.StateSent || got.Counters[feedback.CountConfirmed+"timeout"] != 1 {
		t.Errorf("record = %+v; want sent, confirmed:timeout counted", got)
	}
}

func TestEventsNotReadyAreRetriedAndStrangersDropped(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	svc := service(s)
	ev := feedback.Event{Channel: campaign.Email, Kind: feedback.Send, Ref: feedback.Ref{Tag: "unknown"}, At: t0.Add(time.Hour - time.Minute)}
	if _, err := svc.Apply(ctx, ev); !errors.Is(err, feedback.ErrNotYet) {
		t.Errorf("a recent event of no entry: %v, want ErrNotYet", err)
	}
	ev.At = t0
	if res, err := svc.Apply(ctx, ev); err != nil || res != feedback.Unknown {
		t.Errorf("an old event of no entry: %v, %v; want Unknown", res, err)
	}
	// An entry still being sent.
	k := delivery.Key{ExecutionID: "ex-1", Namespace: "crmId", UserID: "u2", Channel: campaign.Email}
	e := delivery.Entry{Key: k, CampaignID: "c-1", State: delivery.Claimed, Token: "t", Tag: delivery.Tag(acme, k), ClaimedAt: t0}
	if _, _, err := s.Claim(ctx, acme, e); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Apply(ctx, emailEvent(e, feedback.Send)); !errors.Is(err, feedback.ErrNotYet) {
		t.Errorf("an entry still claimed: %v, want ErrNotYet", err)
	}
	// An entry that was never sent takes no event.
	x := sent(t, s, "u3", campaign.Email, delivery.ExcludedSuppressed, "")
	if res, err := svc.Apply(ctx, emailEvent(x, feedback.Delivery)); err != nil || res != feedback.Unrelated {
		t.Errorf("an excluded entry: %v, %v; want Unrelated", res, err)
	}
	if res, err := svc.Apply(ctx, feedback.Event{Kind: "nonsense", Ref: feedback.Ref{Tag: x.Tag}}); err == nil {
		t.Errorf("an unknown kind: %v, want an error", res)
	}
}

func TestTransientBouncesSuppressAtTheLimit(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	svc := service(s)
	for i := range 3 {
		e := sent(t, s, fmt.Sprintf("u%d", i), campaign.Email, delivery.Sent, "")
		if _, err := s.GetSuppression(ctx, acme, suppression.Email, bounced); !derrors.Is(err, derrors.NotFound) {
			t.Fatalf("suppressed after %d transient bounces: %v", i, err)
		}
		if _, err := svc.Apply(ctx, emailEvent(e, feedback.SoftBounce)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.GetSuppression(ctx, acme, suppression.Email, bounced)
	if err != nil || got.Reason != suppression.Bounce {
		t.Errorf("after 3 transient bounces: %+v, %v; want suppressed (bounce)", got, err)
	}
}

func TestAPushDeliveryFailureDisablesTheDevice(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	id := profile.Identity{Namespace: "crmId", ID: "u1"}
	if err := s.Put(ctx, acme, profile.Profile{Namespace: "crmId", ID: "u1",
		Devices: []profile.Device{{AppID: "app", Platform: "GCM", Token: "tok-1", Enabled: true}, {AppID: "app", Platform: "GCM", Token: "tok-2", Enabled: true}}}); err != nil {
		t.Fatal(err)
	}
	k := delivery.Key{ExecutionID: "ex-1", Namespace: "crmId", UserID: "u1", Channel: campaign.Push, Device: delivery.DeviceKey("app", "tok-1")}
	e := delivery.Entry{Key: k, CampaignID: "c-1", State: delivery.Claimed, Token: "t", Tag: delivery.Tag(acme, k), ClaimedAt: t0}
	if _, _, err := s.Claim(ctx, acme, e); err != nil {
		t.Fatal(err)
	}
	e.State, e.Outcome, e.MessageID = delivery.Done, delivery.Sent, "push-msg-1"
	if err := s.Finish(ctx, acme, e); err != nil {
		t.Fatal(err)
	}
	ev, ok, err := feedback.ParsePush(`{"DeliveryAttempts":1,"EndpointArn":"arn:aws:sns:us-east-1:123456789012:endpoint/GCM/app/x","EventType":"DeliveryFailure","FailureMessage":"Endpoint is disabled","FailureType":"EndpointDisabled","MessageId":"push-msg-1","Resource":"arn:aws:sns:us-east-1:123456789012:app/GCM/app","Service":"SNS","Time":"2026-11-30T10:05:00.000Z"}`)
	if err != nil || !ok {
		t.Fatalf("ParsePush = %v, %v", ok, err)
	}
	if res, err := service(s).Apply(ctx, ev); err != nil || res != feedback.Recorded {
		t.Fatalf("Apply = %v, %v", res, err)
	}
	ps, err := s.BatchGet(ctx, acme, []profile.Identity{id})
	if err != nil {
		t.Fatal(err)
	}
	devs := ps[id].Devices
	if len(devs) != 2 || devs[0].Enabled || !devs[1].Enabled {
		t.Errorf("devices = %+v; want the failed one disabled, the other kept", devs)
	}
	if got := record(t, s, e); got.State != feedback.StateFailed || got.Counters[feedback.CountFailed] != 1 {
		t.Errorf("record = %+v; want failed", got)
	}
}
