package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/reputation"
)

// A tenant whose mail bounces too much (here 3 of 12 through SES's mailbox
// simulator, with the guard judging from 10 sends) has its marketing email
// paused by the Feedback function, shown by GET /reputation; marketing
// recipients are excluded:reputation_paused and get nothing, transactional
// mail goes on, and a lift lets marketing go out again.
func TestBouncesPauseMarketingUntilTheGuardIsLifted(t *testing.T) {
	f := newFixture(t, false)
	var recipients []map[string]any
	for i := range 12 {
		kind := "success"
		if i < 3 {
			kind = "bounce"
		}
		recipients = append(recipients, map[string]any{"type": "external", "namespace": "email",
			"userId": fmt.Sprintf("%s+guard%d%s", kind, i, simulator), "context": orderContext("G-1")})
	}
	var resp map[string]string
	f.mustDo("POST", "/im/executions/unitary", f.unitary("guard-1", recipients...), http.StatusAccepted, &resp)
	drain(t)

	var rep struct{ Channels []reputation.Status }
	show := func() map[campaign.Channel]reputation.Status {
		t.Helper()
		f.mustDo("GET", "/reputation", nil, http.StatusOK, &rep)
		m := map[campaign.Channel]reputation.Status{}
		for _, c := range rep.Channels {
			m[c.Channel] = c
		}
		return m
	}
	email := show()[campaign.Email]
	if !email.Paused || email.Reason == nil || *email.Reason != reputation.ReasonBounceRate {
		t.Fatalf("email guard = %+v, want paused for bounce_rate", email)
	}
	if diff := cmp.Diff(reputation.Counts{Sends: 12, Bounces: 3}, email.Window); diff != "" {
		t.Errorf("window (-want +got):\n%s", diff)
	}
	if email.Thresholds.MinSends != 10 || email.Thresholds.Bounce != 0.04 || email.Rates.Bounce != 0.25 {
		t.Errorf("thresholds %+v, rates %+v; want the template's rates from 10 sends, 0.25 bounced", email.Thresholds, email.Rates)
	}
	if show()[campaign.SMS].Paused {
		t.Errorf("SMS paused by email bounces")
	}

	mkt := f.campaignOn("marketing", "email", map[string]any{"fromName": "Shop", "fromAddress": "news@" + f.Domain,
		"listUnsubscribeMailto": "unsub@" + f.Domain}, map[string]any{"subject": "Sale", "text": "Sale"})
	fan := "fan@" + f.Domain
	got := f.dispatchDirect(mkt, "guard-m1-"+f.Tenant.Org, delivery.Recipient{Type: "external", Namespace: "email", UserID: fan})
	if diff := cmp.Diff([]string{fan + " " + string(delivery.ExcludedReputationPaused)}, got); diff != "" {
		t.Errorf("marketing while paused (-want +got):\n%s", diff)
	}
	if n := len(sentTo(t, fan)); n != 0 {
		t.Errorf("%d marketing emails sent while paused, want none", n)
	}

	buyer := "buyer@" + f.Domain
	f.mustDo("POST", "/im/executions/unitary", f.unitary("guard-2",
		map[string]any{"type": "external", "namespace": "email", "userId": buyer, "context": orderContext("G-2")}), http.StatusAccepted, &resp)
	drain(t)
	if n := len(sentTo(t, buyer)); n != 1 {
		t.Errorf("%d transactional emails while paused, want 1", n)
	}

	var lifted reputation.Status
	f.mustDo("DELETE", "/reputation/email", nil, http.StatusOK, &lifted)
	if lifted.Paused || lifted.LiftedAt == nil || lifted.Window.Bounces != 0 {
		t.Errorf("lift = %+v, want unpaused, the hour's bounces no longer held against the tenant", lifted)
	}
	f.mustDo("DELETE", "/reputation/email", nil, http.StatusNotFound, nil)
	got = f.dispatchDirect(mkt, "guard-m2-"+f.Tenant.Org, delivery.Recipient{Type: "external", Namespace: "email", UserID: fan})
	if diff := cmp.Diff([]string{fan + " sent"}, got); diff != "" {
		t.Errorf("marketing after the lift (-want +got):\n%s", diff)
	}
}
