package httpapi_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/httpapi"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/reputation"
)

func TestTheReputationRoutes(t *testing.T) {
	s := memory.New()
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	svc := &reputation.Service{Store: s, Thresholds: reputation.DefaultThresholds, Now: func() time.Time { return now }}
	h := httpapi.Manage(httpapi.ManageDeps{Access: testAccess, Reputation: svc}, slog.New(slog.DiscardHandler))
	readKey := authorized(acme, "hk_read", "read")
	if _, err := s.PauseReputation(context.Background(), acme, reputation.Guard{Channel: campaign.Email, Paused: true, Since: now,
		Reason: reputation.ReasonBounceRate, Counts: reputation.Counts{Sends: 600, Bounces: 30}}); err != nil {
		t.Fatal(err)
	}
	list := func(t *testing.T) map[campaign.Channel]reputation.Status {
		t.Helper()
		status, body := call(t, h, event("GET /reputation", "", readKey, nil))
		if status != 200 {
			t.Fatalf("GET /reputation = %d %s", status, body)
		}
		var out struct{ Channels []reputation.Status }
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			t.Fatal(err)
		}
		m := map[campaign.Channel]reputation.Status{}
		for _, c := range out.Channels {
			m[c.Channel] = c
		}
		return m
	}
	got := list(t)
	if e := got[campaign.Email]; !e.Paused || e.Reason == nil || *e.Reason != reputation.ReasonBounceRate || e.Thresholds != reputation.DefaultThresholds {
		t.Errorf("email = %+v, want paused for bounce_rate with the default thresholds", e)
	}
	if s, ok := got[campaign.SMS]; !ok || s.Paused {
		t.Errorf("sms = %+v, %v; want listed and not paused", s, ok)
	}
	for _, c := range []struct {
		name    string
		channel string
		key     map[string]any
		status  int
	}{
		{"a read key cannot lift", "email", readKey, 403},
		{"push has no guard", "push", acmeKey, 400},
		{"lift", "email", acmeKey, 200},
		{"not paused any more", "email", acmeKey, 404},
	} {
		status, body := call(t, h, event("DELETE /reputation/{channel}", "", c.key, map[string]string{"channel": c.channel}))
		if status != c.status {
			t.Errorf("%s: DELETE /reputation/%s = %d %s, want %d", c.name, c.channel, status, body, c.status)
		}
	}
	if e := list(t)[campaign.Email]; e.Paused || e.LiftedAt == nil {
		t.Errorf("email after the lift = %+v, want unpaused with liftedAt", e)
	}
}
