package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/feedback"
	"github.com/heraldhq/herald/internal/reputation"
	"github.com/heraldhq/herald/internal/status"
	"github.com/heraldhq/herald/internal/suppression"
	"github.com/heraldhq/herald/internal/tally"
	"github.com/heraldhq/herald/internal/tenant"
)

// FeedbackStore is what the feedback contract exercises.
type FeedbackStore interface {
	delivery.Ledger
	feedback.Store
	status.ReportsStore
	suppression.Store
	tally.Store
}

// sentEntry claims and finishes an entry of channel ch with outcome o.
func sentEntry(t *testing.T, s FeedbackStore, user string, ch campaign.Channel, o delivery.Outcome, messageID string) delivery.Entry {
	t.Helper()
	ctx := context.Background()
	k := delivery.Key{ExecutionID: "ex-fb", Namespace: "crmId", UserID: user, Channel: ch}
	e := delivery.Entry{Key: k, CampaignID: "c-fb", Version: 1, State: delivery.Claimed, Token: "tok-" + user, Tag: delivery.Tag(acme, k), ClaimedAt: t0}
	if _, ok, err := s.Claim(ctx, acme, e); err != nil || !ok {
		t.Fatalf("Claim = %v, %v", ok, err)
	}
	e.State, e.Outcome, e.MessageID, e.FinishedAt = delivery.Done, o, messageID, t0.Add(time.Second)
	if err := s.Finish(ctx, acme, e); err != nil {
		t.Fatalf("Finish: %v", err)
	}
	return e
}

// Feedback runs the feedback store's contract.
func Feedback(t *testing.T, newStore func(t *testing.T) FeedbackStore) {
	ctx := context.Background()
	outcomes(t, newStore)
	t.Run("an email is found by its tag, SMS and push by the provider's message id; nothing by anything else", func(t *testing.T) {
		s := newStore(t)
		mail := sentEntry(t, s, "u-mail", campaign.Email, delivery.Sent, "ses-1")
		sms := sentEntry(t, s, "u-sms", campaign.SMS, delivery.Sent, "sns-1")
		tn, got, err := s.FindEntry(ctx, feedback.Ref{Tag: mail.Tag})
		if err != nil || tn != acme || got.Key != mail.Key {
			t.Errorf("FindEntry(tag) = %v, %+v, %v; want acme's email entry", tn, got.Key, err)
		}
		tn, got, err = s.FindEntry(ctx, feedback.Ref{MessageID: "sns-1"})
		if err != nil || tn != acme || got.Key != sms.Key {
			t.Errorf("FindEntry(message id) = %v, %+v, %v; want acme's SMS entry", tn, got.Key, err)
		}
		for _, ref := range []feedback.Ref{{MessageID: "ses-1"}, {Tag: sms.Tag}, {Tag: "nope"}, {}} {
			if _, _, err := s.FindEntry(ctx, ref); !derrors.Is(err, derrors.NotFound) {
				t.Errorf("FindEntry(%+v) = %v, want NotFound", ref, err)
			}
		}
	})
	t.Run("an advance is conditional on the revision it read; it suppresses once and counts", func(t *testing.T) {
		s := newStore(t)
		e := sentEntry(t, s, "u1", campaign.Email, delivery.Ambiguous("timeout"), "")
		at := t0.Add(time.Hour + 5*time.Minute)
		c := feedback.Change{Entry: e, Events: []string{"bounce"}, DeliveryState: feedback.StateBounced, Confirm: true,
			Suppress: &suppression.Entry{Channel: suppression.Email, Address: "b@example.com", Reason: suppression.Bounce, CreatedAt: at},
			Counters: []string{feedback.CountBouncedHard, feedback.CountConfirmed + "timeout"}, At: at}
		if err := s.Advance(ctx, acme, c); err != nil {
			t.Fatalf("Advance: %v", err)
		}
		wantKind(t, "Advance from a stale revision", s.Advance(ctx, acme, c), derrors.Conflict)
		got, err := s.Entry(ctx, acme, e.Key)
		if err != nil || got.FeedbackRev != 1 || got.DeliveryState != feedback.StateBounced || got.Outcome != delivery.Sent ||
			len(got.Events) != 1 || got.Events[0] != "bounce" {
			t.Errorf("entry after Advance = %+v, %v; want rev 1, bounced, sent (confirmed), events [bounce]", got, err)
		}
		// A complaint afterwards: the suppression keeps its first reason.
		c2 := feedback.Change{Entry: got, Events: []string{"bounce", "complaint"}, DeliveryState: feedback.StateComplained,
			Suppress: &suppression.Entry{Channel: suppression.Email, Address: "b@example.com", Reason: suppression.Complaint, CreatedAt: at},
			Counters: []string{feedback.CountComplained}, At: at.Add(time.Minute)}
		if err := s.Advance(ctx, acme, c2); err != nil {
			t.Fatalf("second Advance: %v", err)
		}
		sup, err := s.GetSuppression(ctx, acme, suppression.Email, "b@example.com")
		if err != nil || sup.Reason != suppression.Bounce || !sup.CreatedAt.Equal(at) {
			t.Errorf("suppression = %+v, %v; want the bounce, kept", sup, err)
		}
		fb, err := s.ExecutionFeedback(ctx, acme, "ex-fb")
		if err != nil || fb[feedback.CountBouncedHard] != 1 || fb[feedback.CountComplained] != 1 || fb[feedback.CountConfirmed+"timeout"] != 1 {
			t.Errorf("ExecutionFeedback = %v, %v", fb, err)
		}
		total, hours, err := s.CampaignFeedback(ctx, acme, "c-fb", t0)
		h := at.Truncate(time.Hour)
		if err != nil || total[feedback.CountComplained] != 1 || hours[h][feedback.CountBouncedHard] != 1 || len(hours) != 1 {
			t.Errorf("CampaignFeedback = %v, %v, %v; want one of each, in the hour %s", total, hours, err, h)
		}
		if _, hours, _ := s.CampaignFeedback(ctx, acme, "c-fb", at.Add(time.Hour)); len(hours) != 0 {
			t.Errorf("hours since after the events = %v, want none", hours)
		}
		if fb, _ := s.ExecutionFeedback(ctx, other, "ex-fb"); len(fb) != 0 {
			t.Errorf("another tenant's counters = %v, want none", fb)
		}
	})
	t.Run("an entry still claimed cannot advance", func(t *testing.T) {
		s := newStore(t)
		k := delivery.Key{ExecutionID: "ex-fb", Namespace: "crmId", UserID: "u2", Channel: campaign.Email}
		e := delivery.Entry{Key: k, CampaignID: "c-fb", State: delivery.Claimed, Token: "tk", Tag: delivery.Tag(acme, k), ClaimedAt: t0}
		if _, _, err := s.Claim(ctx, acme, e); err != nil {
			t.Fatal(err)
		}
		err := s.Advance(ctx, acme, feedback.Change{Entry: e, Events: []string{"send"}, DeliveryState: feedback.StateSent, At: t0})
		wantKind(t, "Advance of a claimed entry", err, derrors.Conflict)
	})
	t.Run("transient bounces are counted per address and window", func(t *testing.T) {
		s := newStore(t)
		w := t0.Truncate(24 * time.Hour)
		for i := 1; i <= 3; i++ {
			if n, err := s.CountSoftBounce(ctx, acme, suppression.Email, "s@example.com", w); err != nil || n != i {
				t.Fatalf("CountSoftBounce #%d = %d, %v", i, n, err)
			}
		}
		if n, err := s.CountSoftBounce(ctx, acme, suppression.Email, "s@example.com", w.Add(24*time.Hour)); err != nil || n != 1 {
			t.Errorf("next window = %d, %v; want 1", n, err)
		}
		if n, err := s.CountSoftBounce(ctx, other, suppression.Email, "s@example.com", w); err != nil || n != 1 {
			t.Errorf("another tenant = %d, %v; want 1", n, err)
		}
	})
	reputationContract(t, newStore)
}

// reputationContract is the reputation guard's part of the feedback
// store's contract: windows counted in the feedback transaction, read by
// hour, per tenant and channel; guards paused once and lifted.
func reputationContract(t *testing.T, newStore func(t *testing.T) FeedbackStore) {
	ctx := context.Background()
	t.Run("reputation counters move with the entry and are summed per tenant, channel and hour", func(t *testing.T) {
		s := newStore(t)
		for i, at := range []time.Time{t0.Add(-3 * time.Hour), t0, t0.Add(30 * time.Minute)} {
			e := sentEntry(t, s, fmt.Sprintf("u-r%d", i), campaign.Email, delivery.Sent, "")
			c := feedback.Change{Entry: e, Events: []string{"bounce", "send"}, DeliveryState: feedback.StateBounced, At: at,
				Reputation: []string{reputation.CountSends, reputation.CountBounces}}
			if err := s.Advance(ctx, acme, c); err != nil {
				t.Fatalf("Advance: %v", err)
			}
		}
		sms := sentEntry(t, s, "u-rs", campaign.SMS, delivery.Sent, "sns-r")
		if err := s.Advance(ctx, acme, feedback.Change{Entry: sms, Events: []string{"delivery"}, DeliveryState: feedback.StateDelivered, At: t0,
			Reputation: []string{reputation.CountSends}}); err != nil {
			t.Fatalf("Advance sms: %v", err)
		}
		for _, tc := range []struct {
			name  string
			t     tenant.Tenant
			ch    campaign.Channel
			since time.Time
			want  reputation.Counts
		}{
			{"all hours", acme, campaign.Email, t0.Add(-24 * time.Hour), reputation.Counts{Sends: 3, Bounces: 3}},
			{"from the hour of t0", acme, campaign.Email, t0, reputation.Counts{Sends: 2, Bounces: 2}},
			{"sms apart", acme, campaign.SMS, t0.Add(-24 * time.Hour), reputation.Counts{Sends: 1}},
			{"another tenant none", other, campaign.Email, t0.Add(-24 * time.Hour), reputation.Counts{}},
		} {
			got, err := s.ReputationWindow(ctx, tc.t, tc.ch, tc.since)
			if err != nil {
				t.Fatalf("%s: ReputationWindow: %v", tc.name, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: ReputationWindow (-want +got):\n%s", tc.name, diff)
			}
		}
	})
	t.Run("a guard pauses once, keeps its first pause, is lifted only when paused, per tenant and channel", func(t *testing.T) {
		s := newStore(t)
		g, err := s.ReputationGuard(ctx, acme, campaign.Email)
		if err != nil || g.Paused || g.Channel != campaign.Email {
			t.Fatalf("ReputationGuard of none = %+v, %v; want unpaused email", g, err)
		}
		wantKind(t, "LiftReputation of none", s.LiftReputation(ctx, acme, campaign.Email, t0, reputation.Counts{}), derrors.NotFound)
		first := reputation.Guard{Channel: campaign.Email, Paused: true, Since: t0, Reason: reputation.ReasonBounceRate,
			Counts: reputation.Counts{Sends: 500, Bounces: 20}}
		if now, err := s.PauseReputation(ctx, acme, first); err != nil || !now {
			t.Fatalf("PauseReputation = %v, %v; want true", now, err)
		}
		second := first
		second.Since, second.Reason = t0.Add(time.Minute), reputation.ReasonComplaintRate
		if now, err := s.PauseReputation(ctx, acme, second); err != nil || now {
			t.Fatalf("PauseReputation again = %v, %v; want false", now, err)
		}
		got, err := s.ReputationGuard(ctx, acme, campaign.Email)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(first, got, cmpopts.EquateApproxTime(time.Millisecond)); diff != "" {
			t.Errorf("ReputationGuard (-want +got):\n%s", diff)
		}
		for _, o := range []struct {
			t  tenant.Tenant
			ch campaign.Channel
		}{{other, campaign.Email}, {acme, campaign.SMS}} {
			if g, err := s.ReputationGuard(ctx, o.t, o.ch); err != nil || g.Paused {
				t.Errorf("ReputationGuard(%v, %s) = %+v, %v; want unpaused", o.t, o.ch, g, err)
			}
		}
		base := reputation.Counts{Sends: 10, Bounces: 1}
		if err := s.LiftReputation(ctx, acme, campaign.Email, t0.Add(time.Hour), base); err != nil {
			t.Fatalf("LiftReputation: %v", err)
		}
		got, err = s.ReputationGuard(ctx, acme, campaign.Email)
		want := reputation.Guard{Channel: campaign.Email, LiftedAt: t0.Add(time.Hour), Baseline: base}
		if diff := cmp.Diff(want, got, cmpopts.EquateApproxTime(time.Millisecond)); err != nil || diff != "" {
			t.Errorf("ReputationGuard after lift (-want +got):\n%s%v", diff, err)
		}
		wantKind(t, "LiftReputation again", s.LiftReputation(ctx, acme, campaign.Email, t0, reputation.Counts{}), derrors.NotFound)
		if now, err := s.PauseReputation(ctx, acme, second); err != nil || !now {
			t.Fatalf("PauseReputation after lift = %v, %v; want true", now, err)
		}
		if got, _ := s.ReputationGuard(ctx, acme, campaign.Email); got.Reason != reputation.ReasonComplaintRate || !got.Paused {
			t.Errorf("guard paused again = %+v", got)
		}
	})
}
