package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/feedback"
	"github.com/heraldhq/herald/internal/status"
)

const simulator = "@simulator.amazonses.com"

// Mail to SES's mailbox simulator, through the local cloud's simulated
// events and the real Feedback function: each recipient ends in the
// delivery state SES would report, bounces and complaints are suppressed
// (and the next send to them excluded), and the reports count it all once,
// however often an event comes back.
func TestTheSimulatorsEventsReachTheLedgerSuppressionsAndReports(t *testing.T) {
	f := newFixture(t, false)
	// Opens and clicks are tracked only where the configuration says so
	// (off by default for transactional).
	var cfgs struct{ Items []struct{ ID string } }
	f.mustDo("GET", "/channel-configurations", nil, http.StatusOK, &cfgs)
	f.mustDo("PATCH", "/channel-configurations/"+cfgs.Items[0].ID, map[string]any{"email": map[string]any{"trackOpens": true, "trackClicks": true}}, http.StatusOK, nil)
	addrs := []string{"success+click" + simulator, "bounce" + simulator, "complaint" + simulator,
		"suppressionlist" + simulator, "ooto" + simulator, "someone@example.com"}
	var recipients []map[string]any
	for _, a := range addrs {
		recipients = append(recipients, map[string]any{"type": "external", "namespace": "email", "userId": a, "context": orderContext("F-1")})
	}
	var resp map[string]string
	f.mustDo("POST", "/im/executions/unitary", f.unitary("feedback-1", recipients...), http.StatusAccepted, &resp)
	exec := resp["executionId"]
	drain(t)

	var page status.Page
	f.mustDo("GET", "/executions/"+exec+"/recipients", nil, http.StatusOK, &page)
	states := map[string]string{}
	for _, r := range page.Recipients {
		if r.Outcome != string(delivery.Sent) {
			t.Errorf("%s: outcome %s, want sent", r.UserID, r.Outcome)
		}
		states[r.UserID] = r.DeliveryState
	}
	wantStates := map[string]string{
		"success+click" + simulator: feedback.StateClicked, "bounce" + simulator: feedback.StateBounced,
		"complaint" + simulator: feedback.StateComplained, "suppressionlist" + simulator: feedback.StateRejected,
		"ooto" + simulator: feedback.StateDelivered, "someone@example.com": feedback.StateSent,
	}
	if diff := cmp.Diff(wantStates, states); diff != "" {
		t.Errorf("delivery states (-want +got):\n%s", diff)
	}

	var sup struct {
		Items []struct{ Address, Reason string }
	}
	f.mustDo("GET", "/suppressions?channel=email", nil, http.StatusOK, &sup)
	gotSup := map[string]string{}
	for _, s := range sup.Items {
		gotSup[s.Address] = s.Reason
	}
	if diff := cmp.Diff(map[string]string{"bounce" + simulator: "bounce", "complaint" + simulator: "complaint"}, gotSup); diff != "" {
		t.Errorf("suppression list (-want +got):\n%s", diff)
	}

	wantDelivery := status.Delivery{Delivered: 3, BouncedHard: 1, Complained: 1, Rejected: 1, Opened: 1, Clicked: 1}
	report := func() status.Report {
		var r status.Report
		f.mustDo("GET", "/executions/"+exec+"/report", nil, http.StatusOK, &r)
		return r
	}
	r := report()
	if r.Targeted != 6 || r.Sent != 6 || r.Ambiguous != 0 || r.Pending == nil || *r.Pending != 0 {
		t.Errorf("report counts: targeted %d, sent %d, ambiguous %d, pending %v; want 6, 6, 0, 0", r.Targeted, r.Sent, r.Ambiguous, r.Pending)
	}
	if diff := cmp.Diff(wantDelivery, r.Delivery); diff != "" {
		t.Errorf("execution report's delivery (-want +got):\n%s", diff)
	}
	if r.Rates.Bounce != 0.1667 || r.Rates.Click != 0.1667 {
		t.Errorf("rates = %+v, want bounce and click 1/6", r.Rates)
	}

	// The complaint, three more times, as EventBridge may deliver it.
	k := delivery.Key{ExecutionID: exec, Namespace: "email", UserID: "complaint" + simulator, Channel: campaign.Email}
	ev, _ := json.Marshal(map[string]any{"source": "aws.ses", "detail-type": "Email Complaint Received", "detail": map[string]any{
		"eventType": "Complaint", "mail": map[string]any{"messageId": "m-1", "timestamp": time.Now().UTC(),
			"tags": map[string][]string{delivery.TagName: {delivery.Tag(f.Tenant, k)}}},
		"complaint": map[string]any{"complainedRecipients": []any{map[string]any{"emailAddress": "complaint" + simulator}},
			"feedbackId": "again", "timestamp": time.Now().UTC()}}})
	for range 3 {
		res, err := cloud.Handlers.Events["FeedbackFunction"](context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		if got := res.(feedback.Result); got.Repeated != 1 {
			t.Errorf("a repeated complaint: %+v, want it repeated", got)
		}
	}
	if diff := cmp.Diff(wantDelivery, report().Delivery); diff != "" {
		t.Errorf("report after repeats (-want +got):\n%s", diff)
	}

	var cr status.Report
	f.mustDo("GET", "/campaigns/"+f.campaignID+"/report", nil, http.StatusOK, &cr)
	if diff := cmp.Diff(wantDelivery, cr.Delivery); diff != "" {
		t.Errorf("campaign report's delivery (-want +got):\n%s", diff)
	}
	if cr.Sent != 6 || !cr.Complete || len(cr.Hourly) == 0 {
		t.Errorf("campaign report: sent %d, complete %v, %d hours; want 6, true, some", cr.Sent, cr.Complete, len(cr.Hourly))
	}

	// The next send to the bounced and complaining addresses sends nothing.
	before := len(sentTo(t, "bounce"+simulator, "complaint"+simulator))
	f.mustDo("POST", "/im/executions/unitary", f.unitary("feedback-2",
		map[string]any{"type": "external", "namespace": "email", "userId": "bounce" + simulator, "context": orderContext("F-2")},
		map[string]any{"type": "external", "namespace": "email", "userId": "complaint" + simulator, "context": orderContext("F-2")}),
		http.StatusAccepted, &resp)
	drain(t)
	if n := len(sentTo(t, "bounce"+simulator, "complaint"+simulator)); n != before {
		t.Errorf("%d more emails to suppressed addresses, want none", n-before)
	}
	f.mustDo("GET", "/executions/"+resp["executionId"]+"/recipients", nil, http.StatusOK, &page)
	for _, r := range page.Recipients {
		if r.Outcome != string(delivery.ExcludedSuppressed) {
			t.Errorf("%s: %s, want excluded:suppressed", r.UserID, r.Outcome)
		}
	}
	// A marketing email to them is excluded too: marketing is stopped by
	// any suppression.
	mkt := f.campaignOn("marketing", "email", map[string]any{"fromName": "Shop", "fromAddress": "news@" + f.Domain, "listUnsubscribeMailto": "unsub@" + f.Domain},
		map[string]any{"subject": "Sale", "html": "<p>Sale</p>"})
	got := f.dispatchDirect(mkt, "feedback-mkt-1",
		delivery.Recipient{Type: delivery.TypeExternal, Namespace: "email", UserID: "bounce" + simulator},
		delivery.Recipient{Type: delivery.TypeExternal, Namespace: "email", UserID: "complaint" + simulator})
	if diff := cmp.Diff([]string{"bounce" + simulator + " excluded:suppressed", "complaint" + simulator + " excluded:suppressed"}, got); diff != "" {
		t.Errorf("the next marketing send (-want +got):\n%s", diff)
	}
	if n := len(sentTo(t, "bounce"+simulator, "complaint"+simulator)); n != before {
		t.Errorf("%d more emails to suppressed addresses after the marketing send, want none", n-before)
	}
	f.mustDo("GET", "/executions/nope/report", nil, http.StatusNotFound, nil)
	f.mustDo("GET", "/campaigns/nope/report", nil, http.StatusNotFound, nil)
}

// SMS delivery status and push delivery failures, as the local cloud
// simulates them (a number ending in 98 fails; a token holding "fail" is
// refused by its platform), through the Feedback function: each SMS ends
// delivered or failed, the failing push device is disabled on its profile.
func TestSMSStatusAndPushFailuresReachTheLedger(t *testing.T) {
	f := newFixture(t, false)
	sms := f.campaignOn("transactional", "sms", map[string]any{}, map[string]any{"body": "Your code is {{context.code}}"})
	var resp map[string]string
	f.mustDo("POST", "/im/executions/unitary", map[string]any{"requestId": "sms-fb-1", "campaignId": sms, "recipients": []any{
		map[string]any{"type": "external", "namespace": "crmId", "userId": "ok", "channelData": map[string]any{"mobilePhoneNumber": "+15555550123"}, "context": map[string]any{"code": "1"}},
		map[string]any{"type": "external", "namespace": "crmId", "userId": "ko", "channelData": map[string]any{"mobilePhoneNumber": "+15555550198"}, "context": map[string]any{"code": "2"}},
	}}, http.StatusAccepted, &resp)
	drain(t)
	var page status.Page
	f.mustDo("GET", "/executions/"+resp["executionId"]+"/recipients", nil, http.StatusOK, &page)
	got := map[string]string{}
	for _, r := range page.Recipients {
		got[r.UserID] = r.Outcome + " " + r.DeliveryState
	}
	if diff := cmp.Diff(map[string]string{"ok": "sent delivered", "ko": "sent failed"}, got); diff != "" {
		t.Errorf("SMS recipients (-want +got):\n%s", diff)
	}
	var rep status.Report
	f.mustDo("GET", "/executions/"+resp["executionId"]+"/report", nil, http.StatusOK, &rep)
	if rep.Delivery.Delivered != 1 || rep.Delivery.Failed != 1 {
		t.Errorf("SMS report delivery %+v, want one delivered, one failed", rep.Delivery)
	}

	android := f.platformApp("GCM")
	push := f.campaignOn("transactional", "push", map[string]any{"apps": []any{
		map[string]any{"appId": "shop-android", "platform": "GCM", "platformApplicationArn": android}}},
		map[string]any{"title": "Order shipped", "body": "Soon there"})
	f.mustDo("PUT", "/profiles/crmId/p9", map[string]any{"attributes": map[string]any{}, "devices": []any{
		map[string]any{"appId": "shop-android", "platform": "GCM", "token": "good-token"},
		map[string]any{"appId": "shop-android", "platform": "GCM", "token": "token-that-will-fail"},
	}}, 200, nil)
	f.mustDo("POST", "/im/executions/unitary", map[string]any{"requestId": "push-fb-1", "campaignId": push, "recipients": []any{
		map[string]any{"type": "aep", "namespace": "crmId", "userId": "p9"}}}, http.StatusAccepted, &resp)
	drain(t)
	enabled := map[string]bool{}
	for _, d := range f.storedDevices("crmId", "p9") {
		enabled[d.Token] = d.Enabled
	}
	if diff := cmp.Diff(map[string]bool{"good-token": true, "token-that-will-fail": false}, enabled); diff != "" {
		t.Errorf("devices after the failure (-want +got):\n%s", diff)
	}
	f.mustDo("GET", "/executions/"+resp["executionId"]+"/report", nil, http.StatusOK, &rep)
	if rep.Delivery.Failed != 1 {
		t.Errorf("push report delivery %+v, want one failed", rep.Delivery)
	}
}
