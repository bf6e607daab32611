package feedback_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/feedback"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/reputation"
)

// guarded is a feedback service whose guard pauses at 4 % bounces or
// 0.08 % complaints over 50 sends, logging into log, at the time *now.
func guarded(s *memory.Store, log *bytes.Buffer, now *time.Time) *feedback.Service {
	r := feedback.DefaultRules
	r.Reputation = reputation.Thresholds{Bounce: 0.04, Complaint: 0.0008, MinSends: 50}
	return &feedback.Service{Store: s, Devices: s, Rules: r, Now: func() time.Time { return *now },
		Log: slog.New(slog.NewJSONHandler(log, nil))}
}

// sendEmails stores n sent emails and applies their SEND events.
func sendEmails(t *testing.T, s *memory.Store, svc *feedback.Service, prefix string, n int) []delivery.Entry {
	t.Helper()
	es := make([]delivery.Entry, n)
	for i := range es {
		es[i] = sent(t, s, fmt.Sprintf("%s%d", prefix, i), campaign.Email, delivery.Sent, "")
		apply(t, svc, emailEvent(es[i], feedback.Send))
	}
	return es
}

func apply(t *testing.T, svc *feedback.Service, ev feedback.Event) {
	t.Helper()
	if _, err := svc.Apply(context.Background(), ev); err != nil {
		t.Fatalf("Apply %s: %v", ev.Kind, err)
	}
}

func guardOf(t *testing.T, s *memory.Store, ch campaign.Channel) reputation.Guard {
	t.Helper()
	g, err := s.ReputationGuard(context.Background(), acme, ch)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestReputationGuard(t *testing.T) {
	ctx := context.Background()
	t.Run("crossing the bounce threshold pauses email marketing once, with one log line and no address", func(t *testing.T) {
		s, log, now := memory.New(), &bytes.Buffer{}, t0.Add(time.Hour)
		svc := guarded(s, log, &now)
		es := sendEmails(t, s, svc, "u", 50)
		apply(t, svc, emailEvent(es[0], feedback.Bounce))
		if g := guardOf(t, s, campaign.Email); g.Paused {
			t.Fatalf("paused after 1 bounce in 50 (2 %%): %+v", g)
		}
		apply(t, svc, emailEvent(es[1], feedback.SoftBounce))
		g := guardOf(t, s, campaign.Email)
		want := reputation.Guard{Channel: campaign.Email, Paused: true, Since: now, Reason: reputation.ReasonBounceRate,
			Counts: reputation.Counts{Sends: 50, Bounces: 2}}
		if diff := cmp.Diff(want, g); diff != "" {
			t.Errorf("guard after 2 bounces in 50 (-want +got):\n%s", diff)
		}
		apply(t, svc, emailEvent(es[2], feedback.Bounce))
		if g := guardOf(t, s, campaign.Email); !g.Since.Equal(now) || g.Counts.Bounces != 2 {
			t.Errorf("a later bounce moved the pause: %+v", g)
		}
		if n := strings.Count(log.String(), `"event":"reputationPaused"`); n != 1 {
			t.Errorf("reputationPaused lines = %d, want 1:\n%s", n, log)
		}
		if strings.Contains(strings.ToLower(log.String()), "example.com") {
			t.Errorf("the log holds an address:\n%s", log)
		}
		if g := guardOf(t, s, campaign.SMS); g.Paused {
			t.Errorf("SMS paused by email bounces")
		}
	})
	t.Run("below the minimum sample nothing pauses, whatever the rate", func(t *testing.T) {
		s, log, now := memory.New(), &bytes.Buffer{}, t0.Add(time.Hour)
		svc := guarded(s, log, &now)
		es := sendEmails(t, s, svc, "u", 49)
		for _, e := range es[:20] {
			apply(t, svc, emailEvent(e, feedback.Bounce))
			apply(t, svc, emailEvent(e, feedback.Complaint))
		}
		if g := guardOf(t, s, campaign.Email); g.Paused {
			t.Errorf("paused below 50 sends: %+v", g)
		}
	})
	t.Run("bounces that arrive before the sends pause once the sends reach the sample", func(t *testing.T) {
		s, log, now := memory.New(), &bytes.Buffer{}, t0.Add(time.Hour)
		svc := guarded(s, log, &now)
		var es []delivery.Entry
		for i := range 50 {
			es = append(es, sent(t, s, fmt.Sprintf("u%d", i), campaign.Email, delivery.Sent, ""))
		}
		apply(t, svc, emailEvent(es[0], feedback.Bounce))
		apply(t, svc, emailEvent(es[1], feedback.Bounce))
		for i, e := range es {
			if g := guardOf(t, s, campaign.Email); g.Paused {
				t.Fatalf("paused after %d sends", i)
			}
			apply(t, svc, emailEvent(e, feedback.Send))
		}
		if g := guardOf(t, s, campaign.Email); !g.Paused || g.Counts != (reputation.Counts{Sends: 50, Bounces: 2}) {
			t.Errorf("guard = %+v, want paused at 50 sends, 2 bounces", g)
		}
	})
	t.Run("one complaint in 50 sends crosses 0.08 %", func(t *testing.T) {
		s, log, now := memory.New(), &bytes.Buffer{}, t0.Add(time.Hour)
		svc := guarded(s, log, &now)
		es := sendEmails(t, s, svc, "u", 50)
		apply(t, svc, emailEvent(es[7], feedback.Complaint))
		if g := guardOf(t, s, campaign.Email); !g.Paused || g.Reason != reputation.ReasonComplaintRate || g.Counts.Complaints != 1 {
			t.Errorf("guard = %+v, want paused for complaint_rate", g)
		}
	})
	t.Run("replayed events count once: a send, a bounce, a soft bounce after a bounce", func(t *testing.T) {
		s, log, now := memory.New(), &bytes.Buffer{}, t0.Add(time.Hour)
		svc := guarded(s, log, &now)
		e := sent(t, s, "u1", campaign.Email, delivery.Sent, "")
		for range 3 {
			apply(t, svc, emailEvent(e, feedback.Send))
			apply(t, svc, emailEvent(e, feedback.Bounce))
			apply(t, svc, emailEvent(e, feedback.SoftBounce))
			apply(t, svc, emailEvent(e, feedback.Complaint))
		}
		got, err := s.ReputationWindow(ctx, acme, campaign.Email, t0.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(reputation.Counts{Sends: 1, Bounces: 1, Complaints: 1}, got); diff != "" {
			t.Errorf("window (-want +got):\n%s", diff)
		}
	})
	t.Run("an SMS status counts a send once, a failure a bounce", func(t *testing.T) {
		s, log, now := memory.New(), &bytes.Buffer{}, t0.Add(time.Hour)
		svc := guarded(s, log, &now)
		ok := sent(t, s, "u1", campaign.SMS, delivery.Sent, "sns-1")
		bad := sent(t, s, "u2", campaign.SMS, delivery.Sent, "sns-2")
		for range 2 {
			apply(t, svc, feedback.Event{ID: "d1", Channel: campaign.SMS, Kind: feedback.Delivery, Ref: feedback.Ref{MessageID: ok.MessageID}, At: t0})
			apply(t, svc, feedback.Event{ID: "f2", Channel: campaign.SMS, Kind: feedback.Failure, Ref: feedback.Ref{MessageID: bad.MessageID}, At: t0})
		}
		got, _ := s.ReputationWindow(ctx, acme, campaign.SMS, t0.Add(-time.Hour))
		if diff := cmp.Diff(reputation.Counts{Sends: 2, Bounces: 1}, got); diff != "" {
			t.Errorf("SMS window (-want +got):\n%s", diff)
		}
		if got, _ := s.ReputationWindow(ctx, acme, campaign.Email, t0.Add(-time.Hour)); got != (reputation.Counts{}) {
			t.Errorf("email window = %+v, want none", got)
		}
	})
	t.Run("a lift holds: the hour's events that tripped it no longer count, new ones can trip it again", func(t *testing.T) {
		s, log, now := memory.New(), &bytes.Buffer{}, t0.Add(5*time.Minute)
		svc := guarded(s, log, &now)
		es := sendEmails(t, s, svc, "u", 50)
		apply(t, svc, emailEvent(es[0], feedback.Bounce))
		apply(t, svc, emailEvent(es[1], feedback.Bounce))
		if !guardOf(t, s, campaign.Email).Paused {
			t.Fatal("not paused")
		}
		now = now.Add(2 * time.Minute)
		api := &reputation.Service{Store: s, Thresholds: svc.Rules.Reputation, Now: func() time.Time { return now }}
		st, err := api.Lift(ctx, acme, campaign.Email)
		if err != nil || st.Paused {
			t.Fatalf("Lift = %+v, %v", st, err)
		}
		now = now.Add(2 * time.Minute)
		apply(t, svc, emailEvent(es[2], feedback.Bounce))
		if g := guardOf(t, s, campaign.Email); g.Paused {
			t.Errorf("paused again by the bounce after the lift, with the window cleared: %+v", g)
		}
		more := sendEmails(t, s, svc, "v", 50)
		apply(t, svc, emailEvent(more[0], feedback.Bounce))
		if g := guardOf(t, s, campaign.Email); !g.Paused {
			t.Errorf("not paused again by 3 bounces in 50 sends after the lift: %+v", g)
		}
	})
}
