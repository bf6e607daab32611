package api_test

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/infra/localcloud"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/suppression"
	"github.com/heraldhq/herald/internal/tenant"
	"github.com/heraldhq/herald/internal/unsubscribe"
)

// campaignOn creates a configuration and an active campaign through the
// HTTP API and returns the campaign id.
func (f *fixture) campaignOn(typ, channel string, settings, content map[string]any) string {
	f.t.Helper()
	var cfg struct{ ID string }
	body := map[string]any{"name": channel + " " + typ, "channel": channel, "category": typ}
	if settings != nil {
		body[channel] = settings
	}
	f.mustDo("POST", "/channel-configurations", body, 201, &cfg)
	var c struct{ ID string }
	audience := map[string]any{"namespace": "crmId"}
	if typ == "marketing" {
		audience["audienceId"] = "channel-tests" // review requires one; these tests dispatch directly
	}
	f.mustDo("POST", "/campaigns", map[string]any{"name": channel + " " + typ, "type": typ, "channel": channel,
		"channelConfigurationId": cfg.ID, "content": map[string]any{channel: content},
		"audience": audience}, 201, &c)
	f.mustDo("POST", "/campaigns/"+c.ID+"/activate", nil, 200, nil)
	return c.ID
}

// trigger calls the unitary API for campaign and drains, returning the
// execution's ledger outcomes.
func (f *fixture) trigger(campaignID, requestID string, recipients ...map[string]any) []string {
	f.t.Helper()
	var resp struct{ ExecutionID string }
	f.mustDo("POST", "/im/executions/unitary", map[string]any{"requestId": requestID, "campaignId": campaignID, "recipients": recipients}, 202, &resp)
	drain(f.t)
	return f.outcomes(resp.ExecutionID)
}

func (f *fixture) outcomes(executionID string) []string {
	f.t.Helper()
	entries, err := cloud.App.Store().Ledger(context.Background(), f.Tenant, executionID)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.UserID+" "+string(e.Outcome))
	}
	sort.Strings(out)
	return out
}

// dispatchDirect delivers a job the way Dispatch would, for marketing
// campaigns (the unitary API triggers transactional ones only).
func (f *fixture) dispatchDirect(campaignID, executionID string, rs ...delivery.Recipient) []string {
	f.t.Helper()
	if err := cloud.App.Dispatcher().Dispatch(context.Background(), delivery.Job{Tenant: f.Tenant, ExecutionID: executionID,
		CampaignID: campaignID, Version: 1, Recipients: rs}); err != nil {
		f.t.Fatal(err)
	}
	return f.outcomes(executionID)
}

func smsTo(t *testing.T, phone string) []string {
	t.Helper()
	all, err := cloud.Moto.SentSMS(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range all {
		if s.PhoneNumber == phone {
			out = append(out, s.Message)
		}
	}
	return out
}

// phone returns a number unique to the fixture's tenant ending in suffix
// (two digits): ten digits after +1, the length Dispatch's phonelib
// check needs for a North American number.
func (f *fixture) phone(suffix string) string {
	var n int
	fmt.Sscanf(f.Tenant.Org, "E2E%d@", &n)
	return fmt.Sprintf("+1415%05d%s", n%100000, suffix)
}

func TestSMSSegmentsDecideWhatIsSentAndOptedOutNumbersGetNothing(t *testing.T) {
	f := newFixture(t, false)
	gsm := strings.Repeat("€", 80)        // 160 septets: € takes two (the extension table)
	ucs2 := strings.Repeat("Привет ", 10) // 70 UCS-2 units
	over := ucs2 + "!"                    // 71: two segments
	camp := f.campaignOn("transactional", "sms", map[string]any{"maxSegments": 1, "senderId": "Shop"}, map[string]any{"body": "{{context.text}}"})
	a, b, c := f.phone("11"), f.phone("12"), f.phone("13")
	got := f.trigger(camp, "sms-1",
		map[string]any{"type": "external", "namespace": "crmId", "userId": "gsm", "channelData": map[string]any{"mobilePhoneNumber": a}, "context": map[string]any{"text": gsm}},
		map[string]any{"type": "external", "namespace": "crmId", "userId": "ucs2", "channelData": map[string]any{"mobilePhoneNumber": b}, "context": map[string]any{"text": ucs2}},
		map[string]any{"type": "external", "namespace": "crmId", "userId": "over", "channelData": map[string]any{"mobilePhoneNumber": c}, "context": map[string]any{"text": over}},
	)
	if diff := cmp.Diff([]string{"gsm sent", "over failed:too_long", "ucs2 sent"}, got); diff != "" {
		t.Errorf("ledger (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([][]string{{gsm}, {ucs2}, nil}, [][]string{smsTo(t, a), smsTo(t, b), smsTo(t, c)}); diff != "" {
		t.Errorf("SMS moto received (-want +got):\n%s", diff)
	}

	// A marketing SMS to a number SNS reports opted out (moto: ending in 99).
	mkt := f.campaignOn("marketing", "sms", map[string]any{}, map[string]any{"body": "Flash sale"})
	out, in := f.phone("99"), f.phone("14")
	got = f.dispatchDirect(mkt, "mkt-sms-"+f.Tenant.Org,
		delivery.Recipient{Type: "external", Namespace: "crmId", UserID: "out", Phone: out},
		delivery.Recipient{Type: "external", Namespace: "crmId", UserID: "in", Phone: in})
	if diff := cmp.Diff([]string{"in sent", "out excluded:opted_out"}, got); diff != "" {
		t.Errorf("marketing ledger (-want +got):\n%s", diff)
	}
	if n := len(smsTo(t, out)); n != 0 {
		t.Errorf("moto received %d SMS for the opted-out number", n)
	}
	if diff := cmp.Diff([]string{"Flash sale"}, smsTo(t, in)); diff != "" {
		t.Errorf("SMS to the consenting number (-want +got):\n%s", diff)
	}

	// What can never be a number is a 400 and sends nothing (a number the
	// configuration's region cannot read fails that recipient instead).
	status, body := do(t, "POST", "/im/executions/unitary", f.Headers(), map[string]any{"requestId": "sms-bad", "campaignId": camp,
		"recipients": []any{map[string]any{"type": "external", "namespace": "crmId", "userId": "x", "channelData": map[string]any{"mobilePhoneNumber": "0612345678 (mobile)"}}}})
	checkErrorShape(t, body, status, "recipients[0].channelData.mobilePhoneNumber")

	// AJO's way of writing numbers: national, with dashes, read in the
	// configuration's defaultRegion and sent as E.164; one the region
	// cannot read fails alone and the call is accepted.
	us := f.campaignOn("transactional", "sms", map[string]any{"defaultRegion": "US"}, map[string]any{"body": "Hi"})
	e164 := f.phone("15")
	national := e164[2:5] + "-" + e164[5:8] + "-" + e164[8:]
	got = f.trigger(us, "sms-ajo",
		map[string]any{"type": "external", "namespace": "crmId", "userId": "ajo", "channelData": map[string]any{"mobilePhoneNumber": national}},
		map[string]any{"type": "external", "namespace": "crmId", "userId": "short", "channelData": map[string]any{"mobilePhoneNumber": "555-0100"}},
	)
	if diff := cmp.Diff([]string{"ajo sent", "short failed:invalid_address"}, got); diff != "" {
		t.Errorf("ledger of AJO-style numbers (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Hi"}, smsTo(t, e164)); diff != "" {
		t.Errorf("SMS to the number written nationally (-want +got):\n%s", diff)
	}
}

// endpointMessages reads moto's platform endpoints: ARN → messages.
func endpointMessages(t *testing.T) map[string]int {
	t.Helper()
	d, err := cloud.Moto.Data(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var recs []struct {
		ARN      string            `json:"arn"`
		Messages map[string]string `json:"messages"`
	}
	if err := d.Records("sns", "PlatformEndpoint", &recs); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range recs {
		out[r.ARN] = len(r.Messages)
	}
	return out
}

// platformApp creates an SNS platform application in moto named for the
// fixture's tenant and returns its ARN.
func (f *fixture) platformApp(platform string) string {
	f.t.Helper()
	out, err := awssns.NewFromConfig(cloud.AWS).CreatePlatformApplication(context.Background(), &awssns.CreatePlatformApplicationInput{
		Name:     aws.String(strings.ReplaceAll(f.Tenant.Org, "@", "-") + platform),
		Platform: aws.String(platform), Attributes: map[string]string{"PlatformCredential": "x"}})
	if err != nil {
		f.t.Fatal(err)
	}
	return aws.ToString(out.PlatformApplicationArn)
}

// storedDevices reads a profile's devices from the store, endpoints
// included (the API never shows them).
func (f *fixture) storedDevices(namespace, id string) []profile.Device {
	f.t.Helper()
	p, err := cloud.App.Store().Get(context.Background(), f.Tenant, profile.Identity{Namespace: namespace, ID: id})
	if err != nil {
		f.t.Fatal(err)
	}
	return p.Devices
}

func TestPushReachesEachDeviceOnceAndADisabledEndpointIsMarked(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	ios, android := f.platformApp("APNS"), f.platformApp("GCM")
	camp := f.campaignOn("transactional", "push", map[string]any{"apps": []any{
		map[string]any{"appId": "shop-ios", "platform": "APNS", "platformApplicationArn": ios},
		map[string]any{"appId": "shop-android", "platform": "GCM", "platformApplicationArn": android},
	}}, map[string]any{"title": "Order {{context.orderId}}", "body": "It shipped, {{profile.name}}"})
	f.mustDo("PUT", "/profiles/crmId/p1", map[string]any{"attributes": map[string]any{"name": "Jane"}, "devices": []any{
		map[string]any{"appId": "shop-ios", "platform": "APNS", "token": "ios-token"},
		map[string]any{"appId": "shop-android", "platform": "GCM", "token": "android-token"},
		map[string]any{"appId": "shop-ios", "platform": "APNS", "token": "dead-token"},
	}}, 200, nil)
	before := endpointMessages(t)
	trigger := func(requestID string) []string {
		return f.trigger(camp, requestID, map[string]any{"type": "aep", "namespace": "crmId", "userId": "p1", "context": map[string]any{"orderId": "A-1"}})
	}
	if diff := cmp.Diff([]string{"p1 sent", "p1 sent", "p1 sent"}, trigger("push-1")); diff != "" {
		t.Errorf("first execution's ledger (-want +got):\n%s", diff)
	}
	// Herald made one endpoint per device, under the device's app.
	devices := f.storedDevices("crmId", "p1")
	apps := []string{ios, android, ios}
	for i, d := range devices {
		app := strings.Replace(apps[i], ":app/", ":endpoint/", 1) + "/"
		if !strings.HasPrefix(d.EndpointARN, app) {
			t.Errorf("device %d: endpoint %q, want one of %s", i, d.EndpointARN, apps[i])
		}
	}
	// APNs reports the third token dead: SNS disables its endpoint.
	if _, err := awssns.NewFromConfig(cloud.AWS).SetEndpointAttributes(ctx, &awssns.SetEndpointAttributesInput{
		EndpointArn: aws.String(devices[2].EndpointARN), Attributes: map[string]string{"Enabled": "false"}}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"p1 excluded:invalid_token", "p1 sent", "p1 sent"}, trigger("push-2")); diff != "" {
		t.Errorf("second execution's ledger (-want +got):\n%s", diff)
	}
	after := endpointMessages(t)
	devices = f.storedDevices("crmId", "p1")
	for i, d := range devices {
		n := after[d.EndpointARN] - before[d.EndpointARN]
		wantEnabled, wantN := i < 2, 2
		if i == 2 {
			wantN = 1
		}
		if d.Enabled != wantEnabled || n != wantN {
			t.Errorf("device %d: enabled %v, %d messages; want enabled %v, %d messages", i, d.Enabled, n, wantEnabled, wantN)
		}
	}
	// Replaying the request sends nothing more.
	trigger("push-2")
	total := 0
	for arn, n := range endpointMessages(t) {
		total += n - before[arn]
	}
	if total != 5 {
		t.Errorf("after a replay moto endpoints hold %d new messages, want 5", total)
	}
}

func TestOneClickUnsubscribe(t *testing.T) {
	f := newFixture(t, false)
	camp := f.campaignOn("marketing", "email", map[string]any{"fromName": "Shop", "fromAddress": "news@" + f.Domain,
		"listUnsubscribeMailto": "unsub@" + f.Domain}, map[string]any{"subject": "Sale", "text": "Sale"})
	addr := "fan@" + f.Domain
	signer, err := unsubscribe.New(localcloud.DemoUnsubscribeSecret)
	if err != nil {
		t.Fatal(err)
	}
	tok := signer.Token(unsubscribe.Claims{Tenant: f.Tenant, Channel: "email", Address: addr, CampaignID: camp})
	suppressed := func() int {
		status, _ := do(t, "GET", "/suppressions/email/"+addr, f.Headers(), nil)
		return status
	}

	got := f.dispatchDirect(camp, "u-1-"+f.Tenant.Org, delivery.Recipient{Type: "external", Namespace: "email", UserID: addr})
	if diff := cmp.Diff([]string{addr + " sent"}, got); diff != "" {
		t.Errorf("first send (-want +got):\n%s", diff)
	}

	status, body := do(t, "GET", "/unsubscribe?token="+tok, nil, nil)
	if status != 200 || !strings.Contains(string(body), `<form method="post"`) {
		t.Errorf("GET = %d %s, want the confirmation page", status, body)
	}
	if s := suppressed(); s != http.StatusNotFound {
		t.Errorf("after GET the address is suppressed (%d): GET must change nothing", s)
	}
	for _, bad := range []string{tok[:len(tok)-2] + "xx", "x" + tok[1:],
		mustSigner(t, strings.Repeat("z", 40)).Token(unsubscribe.Claims{Tenant: f.Tenant, Channel: "email", Address: addr}),
		signer.Token(unsubscribe.Claims{Tenant: tenant.Tenant{Org: "Other@Org", Sandbox: "prod"}, Channel: "email", Address: addr})[:20] + tok[20:]} {
		status, body := do(t, "POST", "/unsubscribe?token="+bad, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "List-Unsubscribe=One-Click")
		if status != 400 {
			t.Errorf("POST with a tampered or foreign token = %d %s, want 400", status, body)
		}
	}
	if s := suppressed(); s != http.StatusNotFound {
		t.Errorf("a rejected token changed the list (%d)", s)
	}
	for range 2 { // idempotent
		status, body = do(t, "POST", "/unsubscribe?token="+tok, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "List-Unsubscribe=One-Click")
		if status != 200 {
			t.Fatalf("POST = %d %s, want 200", status, body)
		}
	}
	var e suppression.Entry
	f.mustDo("GET", "/suppressions/email/"+addr, nil, 200, &e)
	if e.Reason != suppression.Unsubscribe {
		t.Errorf("suppression = %+v, want reason unsubscribe", e)
	}
	before := len(sentTo(t, addr))
	got = f.dispatchDirect(camp, "u-2-"+f.Tenant.Org, delivery.Recipient{Type: "external", Namespace: "email", UserID: addr})
	if diff := cmp.Diff([]string{addr + " excluded:suppressed"}, got); diff != "" {
		t.Errorf("next marketing send (-want +got):\n%s", diff)
	}
	if n := len(sentTo(t, addr)) - before; n != 0 {
		t.Errorf("moto received %d more emails after the unsubscribe", n)
	}
}

func mustSigner(t *testing.T, secret string) *unsubscribe.Signer {
	t.Helper()
	s, err := unsubscribe.New(secret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestProfilesAndSuppressionsThroughTheAPI(t *testing.T) {
	f := newFixture(t, false)
	f.mustDo("PUT", "/profiles/crmId/9", map[string]any{"attributes": map[string]any{"name": "Ann", "tier": "gold"},
		"identities": map[string]any{"email": "ann@example.com"}, "consent": map[string]any{"email": "y"},
		"timeZone": "Europe/Paris", "locale": "fr-FR"}, 200, nil)
	var p map[string]any
	f.mustDo("PATCH", "/profiles/email/ann@example.com", map[string]any{"attributes": map[string]any{"tier": nil, "city": "Lyon"},
		"consent": map[string]any{"sms": "n"}}, 200, &p)
	wantAttrs := map[string]any{"name": "Ann", "city": "Lyon"}
	if diff := cmp.Diff(wantAttrs, p["attributes"]); diff != "" {
		t.Errorf("patched attributes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]any{"email": "y", "sms": "n"}, p["consent"]); diff != "" {
		t.Errorf("patched consent (-want +got):\n%s", diff)
	}
	status, body := do(t, "PATCH", "/profiles/crmId/9", f.Headers(), map[string]any{"timeZone": "Mars/Olympus"})
	checkErrorShape(t, body, status, "timeZone")
	status, body = do(t, "PUT", "/profiles/crmId/9", f.Headers(), map[string]any{"attributes": map[string]any{}, "colour": "red"})
	checkErrorShape(t, body, status, "colour")

	var batch struct {
		Results []struct {
			ID     string
			Status int
		}
	}
	items := []any{}
	for i := range 30 {
		items = append(items, map[string]any{"namespace": "crmId", "id": fmt.Sprint("batch-", i), "attributes": map[string]any{"i": i}})
	}
	items = append(items, map[string]any{"namespace": "email", "id": "not-an-address"})
	f.mustDo("POST", "/profiles/batch", map[string]any{"profiles": items}, 200, &batch)
	statuses := map[int]int{}
	for _, r := range batch.Results {
		statuses[r.Status]++
	}
	if diff := cmp.Diff(map[int]int{200: 30, 400: 1}, statuses); diff != "" {
		t.Errorf("batch statuses (-want +got):\n%s", diff)
	}
	f.mustDo("GET", "/profiles/crmId/batch-29", nil, 200, nil)

	f.mustDo("DELETE", "/profiles/email/ann@example.com", nil, 200, nil)
	for _, path := range []string{"/profiles/crmId/9", "/profiles/email/ann@example.com"} {
		if status, _ := do(t, "GET", path, f.Headers(), nil); status != 404 {
			t.Errorf("GET %s after erasure = %d, want 404", path, status)
		}
	}

	f.mustDo("PUT", "/suppressions/sms/+14155550100", map[string]any{"reason": "complaint"}, 200, nil)
	f.mustDo("PUT", "/suppressions/email/Bounce@Example.com", map[string]any{"reason": "bounce"}, 200, nil)
	var page struct {
		Items      []suppression.Entry
		NextCursor string
	}
	f.mustDo("GET", "/suppressions?limit=1", nil, 200, &page)
	if len(page.Items) != 1 || page.NextCursor == "" {
		t.Fatalf("first page = %+v, want one item and a cursor", page)
	}
	first := page.Items[0].Address
	f.mustDo("GET", "/suppressions?limit=1&cursor="+page.NextCursor, nil, 200, &page)
	if len(page.Items) != 1 || page.Items[0].Address == first {
		t.Errorf("second page = %+v", page)
	}
	f.mustDo("DELETE", "/suppressions/email/bounce@example.com", nil, 204, nil)
	status, body = do(t, "PUT", "/suppressions/email/x@example.com", f.Headers(), map[string]any{"reason": "spite"})
	checkErrorShape(t, body, status, "reason")
}
