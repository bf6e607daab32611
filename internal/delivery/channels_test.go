package delivery_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/address/phonelib"
	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/push"
	"github.com/heraldhq/herald/internal/suppression"
	"github.com/heraldhq/herald/internal/unsubscribe"
)

var update = flag.Bool("update", false, "rewrite golden files")

// channelFixture is a dispatcher on memory fakes with every channel's
// sender and one live campaign "c" of the given type and channel.
type channelFixture struct {
	store  *memory.Store
	mailer *memory.Mailer
	sms    *memory.SMSSender
	pusher *memory.Pusher
	d      *delivery.Dispatcher
}

const (
	iosARN     = "arn:aws:sns:us-east-1:123456789012:app/APNS/shop-ios"
	androidARN = "arn:aws:sns:us-east-1:123456789012:app/GCM/shop-android"
)

var pushApps = &campaign.PushSettings{Apps: []campaign.PushApp{
	{AppID: "shop-ios", Platform: push.APNS, PlatformApplicationARN: iosARN},
	{AppID: "shop-android", Platform: push.GCM, PlatformApplicationARN: androidARN},
}}

func newChannelFixture(tb testing.TB, typ campaign.Type, cfg campaign.ChannelConfig, content campaign.Content) *channelFixture {
	tb.Helper()
	ctx := context.Background()
	f := &channelFixture{store: memory.New(), mailer: &memory.Mailer{}, sms: &memory.SMSSender{}, pusher: &memory.Pusher{}}
	cfg.ID, cfg.Name, cfg.Category, cfg.Revision = "cfg", "cfg", typ, 1
	if err := f.store.CreateConfig(ctx, acme, cfg); err != nil {
		tb.Fatal(err)
	}
	spec := campaign.Spec{ChannelConfigID: "cfg", Content: content, Audience: campaign.Audience{Namespace: "crmId"}}
	c := campaign.Campaign{ID: "c", Name: "c", Type: typ, Channel: cfg.Channel, Status: campaign.StatusDraft, Draft: spec, Revision: 1}
	if err := f.store.CreateCampaign(ctx, acme, c); err != nil {
		tb.Fatal(err)
	}
	c.Status, c.LiveVersion, c.Revision = campaign.StatusLive, 1, 2
	if err := f.store.Activate(ctx, acme, c, campaign.Version{CampaignID: "c", Number: 1, Type: typ, Channel: cfg.Channel, Spec: spec, ActivatedAt: t0}, 1); err != nil {
		tb.Fatal(err)
	}
	signer, err := unsubscribe.New(strings.Repeat("s", 32))
	if err != nil {
		tb.Fatal(err)
	}
	f.d = &delivery.Dispatcher{Campaigns: f.store, Profiles: f.store, Ledger: f.store, Mailer: f.mailer, SMS: f.sms, Pusher: f.pusher,
		Suppressions: f.store, Devices: f.store, Endpoints: f.store, Unsubscribe: signer, PublicURL: "https://api.herald.example",
		Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return t0 }}
	return f
}

func (f *channelFixture) dispatch(tb testing.TB, rs ...delivery.Recipient) {
	tb.Helper()
	if err := f.d.Dispatch(context.Background(), delivery.Job{Tenant: acme, ExecutionID: "ex", CampaignID: "c", Version: 1, Recipients: rs}); err != nil {
		tb.Fatalf("Dispatch: %v", err)
	}
}

// outcomes returns the ledger's outcomes, sorted (userId, device).
func (f *channelFixture) outcomes() []string {
	var out []string
	for _, e := range f.store.AllEntries() {
		if e.State != delivery.Done {
			out = append(out, e.UserID+" "+string(e.State))
			continue
		}
		s := e.UserID + " " + string(e.Outcome)
		if e.Device != "" {
			s += " (device)"
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func (f *channelFixture) providerCalls() int {
	return len(f.mailer.Sent()) + len(f.sms.Sent()) + f.pusher.Calls()
}

// TestConsentAndSuppressionMatrix walks {transactional, marketing} ×
// {consent y, n, empty} × {not suppressed, suppressed for each reason} ×
// {send-to-suppressed off, on} for email and SMS, and checks the outcome
// and that no exclusion made a single provider call.
func TestConsentAndSuppressionMatrix(t *testing.T) {
	reasons := []suppression.Reason{"", suppression.Bounce, suppression.Complaint, suppression.Unsubscribe, suppression.Manual}
	for _, ch := range []campaign.Channel{campaign.Email, campaign.SMS} {
		for _, typ := range []campaign.Type{campaign.Transactional, campaign.Marketing} {
			for _, consent := range []string{"y", "n", ""} {
				for _, reason := range reasons {
					for _, sendToSuppressed := range []bool{false, true} {
						if ch == campaign.SMS && sendToSuppressed {
							continue // an email configuration flag
						}
						want := expectedOutcome(typ, consent, reason, sendToSuppressed)
						name := fmt.Sprintf("%s %s to consent %q suppressed %q send-to-suppressed %v is %s", typ, ch, consent, reason, sendToSuppressed, want)
						t.Run(name, func(t *testing.T) {
							cfg := campaign.ChannelConfig{Channel: ch}
							content := campaign.Content{}
							addr, ns := "jane@example.com", suppression.Email
							if ch == campaign.Email {
								cfg.Email = &campaign.EmailSettings{FromName: "Shop", FromAddress: "news@shop.example", SendToSuppressed: sendToSuppressed}
								content.Email = &campaign.EmailContent{Subject: "Hi", Text: "Hi"}
							} else {
								cfg.SMS = &campaign.SMSSettings{}
								content.SMS = &campaign.SMSContent{Body: "Hi"}
								addr, ns = "+14155550100", suppression.SMS
							}
							f := newChannelFixture(t, typ, cfg, content)
							p := profile.Profile{Namespace: "crmId", ID: "42", Attributes: map[string]any{"email": "Jane@Example.com", "phone": "+14155550100"}}
							if consent != "" {
								p.Consent = map[string]string{string(ch): consent}
							}
							if err := f.store.Put(context.Background(), acme, p); err != nil {
								t.Fatal(err)
							}
							if reason != "" {
								if err := f.store.PutSuppression(context.Background(), acme, suppression.Entry{Channel: ns, Address: addr, Reason: reason, CreatedAt: t0}); err != nil {
									t.Fatal(err)
								}
							}
							f.dispatch(t, delivery.Recipient{Type: "aep", Namespace: "crmId", UserID: "42"})
							if diff := cmp.Diff([]string{"42 " + string(want)}, f.outcomes()); diff != "" {
								t.Errorf("ledger (-want +got):\n%s", diff)
							}
							calls := f.providerCalls()
							if want != delivery.Sent && calls != 0 {
								t.Errorf("an exclusion made %d provider calls, want 0", calls)
							}
							if want == delivery.Sent && calls != 1 {
								t.Errorf("a send made %d provider calls, want 1", calls)
							}
						})
					}
				}
			}
		}
	}
}

func expectedOutcome(typ campaign.Type, consent string, reason suppression.Reason, sendToSuppressed bool) delivery.Outcome {
	if typ == campaign.Marketing {
		switch {
		case consent == "n":
			return delivery.ExcludedNoConsent
		case reason != "":
			return delivery.ExcludedSuppressed
		}
		return delivery.Sent
	}
	if reason != "" && reason != suppression.Unsubscribe && !sendToSuppressed {
		return delivery.ExcludedSuppressed
	}
	return delivery.Sent
}

// smsFixture sends SMS as Dispatch does, reading numbers as
// libphonenumber does (phonelib, the normalizer functions/dispatch
// injects).
func smsFixture(t *testing.T, typ campaign.Type, settings campaign.SMSSettings, body string) *channelFixture {
	t.Helper()
	f := newChannelFixture(t, typ, campaign.ChannelConfig{Channel: campaign.SMS, SMS: &settings}, campaign.Content{SMS: &campaign.SMSContent{Body: body}})
	f.d.NormalizePhone = phonelib.Normalize
	return f
}

func TestSMSWithoutANormalizerSendsToE164NumbersOnly(t *testing.T) {
	// A dispatcher not given Dispatch's normalizer (Manage's, for proofs)
	// reads no national number, whatever the region.
	f := smsFixture(t, campaign.Transactional, campaign.SMSSettings{DefaultRegion: "US"}, "Hi")
	f.d.NormalizePhone = nil
	f.dispatch(t,
		delivery.Recipient{Type: "external", Namespace: "crmId", UserID: "e164", Phone: "+14155550100"},
		delivery.Recipient{Type: "external", Namespace: "crmId", UserID: "national", Phone: "415-555-0101"})
	if diff := cmp.Diff([]string{"e164 sent", "national failed:invalid_address"}, f.outcomes()); diff != "" {
		t.Errorf("ledger (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]delivery.SMS{{To: "+14155550100", Body: "Hi", Type: "Transactional"}}, f.sms.Sent()); diff != "" {
		t.Errorf("sent (-want +got):\n%s", diff)
	}
}

func TestSMSAddressSegmentsAndAttributes(t *testing.T) {
	gsm160 := strings.Repeat("a", 160)
	tests := []struct {
		name     string
		typ      campaign.Type
		settings campaign.SMSSettings
		body     string
		stored   *profile.Profile
		r        delivery.Recipient
		want     delivery.Outcome
		sent     []delivery.SMS
	}{
		{"channelData's number wins and a transactional SMS carries its attributes", campaign.Transactional,
			campaign.SMSSettings{SenderID: "Shop", OriginationNumber: "+14155550199"}, "Code {{context.code}}",
			&profile.Profile{Namespace: "crmId", ID: "1", Attributes: map[string]any{"phone": "+33600000000"}},
			delivery.Recipient{Type: "aep", Namespace: "crmId", UserID: "1", Phone: "+14155550100", Context: toObject(map[string]any{"code": "123"})},
			delivery.Sent, []delivery.SMS{{To: "+14155550100", Body: "Code 123", Type: "Transactional", SenderID: "Shop", OriginationNumber: "+14155550199"}}},
		{"the userId is the number in the phone namespace", campaign.Transactional, campaign.SMSSettings{}, "Hi", nil,
			delivery.Recipient{Type: "external", Namespace: "phone", UserID: "+447700900123"},
			delivery.Sent, []delivery.SMS{{To: "+447700900123", Body: "Hi", Type: "Transactional"}}},
		{"the profile's XDM mobile number is used last and marketing is promotional", campaign.Marketing, campaign.SMSSettings{}, "Sale", &profile.Profile{Namespace: "crmId", ID: "1",
			Attributes: map[string]any{"mobilePhone": map[string]any{"number": "+14155550100"}}},
			delivery.Recipient{Type: "aep", Namespace: "crmId", UserID: "1"},
			delivery.Sent, []delivery.SMS{{To: "+14155550100", Body: "Sale", Type: "Promotional"}}},
		{"no number is excluded", campaign.Transactional, campaign.SMSSettings{}, "Hi", nil,
			delivery.Recipient{Type: "external", Namespace: "crmId", UserID: "1"}, delivery.ExcludedNoAddress, nil},
		{"a stored national number fails that recipient when the configuration has no default region", campaign.Transactional, campaign.SMSSettings{}, "Hi",
			&profile.Profile{Namespace: "crmId", ID: "1", Attributes: map[string]any{"phone": "0612345678"}},
			delivery.Recipient{Type: "aep", Namespace: "crmId", UserID: "1"}, delivery.FailedInvalidAddr, nil},
		{"a stored national number is sent as E.164 in the configuration's default region", campaign.Transactional, campaign.SMSSettings{DefaultRegion: "FR"}, "Hi",
			&profile.Profile{Namespace: "crmId", ID: "1", Attributes: map[string]any{"phone": "06 12 34 56 78"}},
			delivery.Recipient{Type: "aep", Namespace: "crmId", UserID: "1"},
			delivery.Sent, []delivery.SMS{{To: "+33612345678", Body: "Hi", Type: "Transactional"}}},
		{"AJO's 111-111-1111 in channelData is sent as E.164 in region US", campaign.Transactional, campaign.SMSSettings{DefaultRegion: "US"}, "Hi", nil,
			delivery.Recipient{Type: "external", Namespace: "crmId", UserID: "1", Phone: "111-111-1111"},
			delivery.Sent, []delivery.SMS{{To: "+11111111111", Body: "Hi", Type: "Transactional"}}},
		{"AJO's 1234567890 as a phone-namespace userId is sent as E.164 in region US", campaign.Transactional, campaign.SMSSettings{DefaultRegion: "US"}, "Hi", nil,
			delivery.Recipient{Type: "external", Namespace: "phone", UserID: "1234567890"},
			delivery.Sent, []delivery.SMS{{To: "+11234567890", Body: "Hi", Type: "Transactional"}}},
		{"an international number ignores the default region", campaign.Transactional, campaign.SMSSettings{DefaultRegion: "US"}, "Hi", nil,
			delivery.Recipient{Type: "external", Namespace: "crmId", UserID: "1", Phone: "+44 7700 900123"},
			delivery.Sent, []delivery.SMS{{To: "+447700900123", Body: "Hi", Type: "Transactional"}}},
		{"a number too short for the default region fails that recipient", campaign.Transactional, campaign.SMSSettings{DefaultRegion: "US"}, "Hi", nil,
			delivery.Recipient{Type: "external", Namespace: "crmId", UserID: "1", Phone: "555-0100"}, delivery.FailedInvalidAddr, nil},
		{"160 GSM-7 characters are one segment and go", campaign.Transactional, campaign.SMSSettings{MaxSegments: 1}, gsm160, nil,
			delivery.Recipient{Type: "external", Namespace: "phone", UserID: "+14155550100"}, delivery.Sent,
			[]delivery.SMS{{To: "+14155550100", Body: gsm160, Type: "Transactional"}}},
		{"161 GSM-7 characters are two segments, over a cap of one", campaign.Transactional, campaign.SMSSettings{MaxSegments: 1}, gsm160 + "a", nil,
			delivery.Recipient{Type: "external", Namespace: "phone", UserID: "+14155550100"}, delivery.FailedTooLong, nil},
		{"71 UCS-2 characters are two segments, over a cap of one", campaign.Transactional, campaign.SMSSettings{MaxSegments: 1}, strings.Repeat("ж", 71), nil,
			delivery.Recipient{Type: "external", Namespace: "phone", UserID: "+14155550100"}, delivery.FailedTooLong, nil},
		{"the default cap is ten segments", campaign.Transactional, campaign.SMSSettings{}, strings.Repeat("a", 153*10+1), nil,
			delivery.Recipient{Type: "external", Namespace: "phone", UserID: "+14155550100"}, delivery.FailedTooLong, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := smsFixture(t, tt.typ, tt.settings, tt.body)
			if tt.stored != nil {
				if err := f.store.Put(context.Background(), acme, *tt.stored); err != nil {
					t.Fatal(err)
				}
			}
			f.dispatch(t, tt.r)
			if diff := cmp.Diff([]string{tt.r.UserID + " " + string(tt.want)}, f.outcomes()); diff != "" {
				t.Errorf("ledger (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.sent, f.sms.Sent()); diff != "" {
				t.Errorf("sent (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSMSNumbersAreOneAddressOnceNormalized(t *testing.T) {
	f := smsFixture(t, campaign.Transactional, campaign.SMSSettings{DefaultRegion: "US"}, "Hi")
	f.dispatch(t, delivery.Recipient{Type: "external", Namespace: "crmId", UserID: "a", Phone: "415-555-0100"})
	f.dispatch(t,
		delivery.Recipient{Type: "external", Namespace: "crmId", UserID: "b", Phone: "+1 (415) 555-0100"},
		delivery.Recipient{Type: "external", Namespace: "crmId", UserID: "c", Phone: "12"},
		delivery.Recipient{Type: "external", Namespace: "phone", UserID: "111-111-1111"})
	want := []string{"111-111-1111 sent", "a sent", "b excluded:duplicate", "c failed:invalid_address"}
	if diff := cmp.Diff(want, f.outcomes()); diff != "" {
		t.Errorf("ledger (-want +got):\n%s", diff)
	}
	var to []string
	for _, m := range f.sms.Sent() {
		to = append(to, m.To)
	}
	slices.Sort(to)
	if diff := cmp.Diff([]string{"+11111111111", "+14155550100"}, to); diff != "" {
		t.Errorf("numbers sent to (-want +got):\n%s", diff)
	}
}

func TestMarketingSMSToAnOptedOutNumberIsExcludedAndCheckedOncePerInvocation(t *testing.T) {
	f := smsFixture(t, campaign.Marketing, campaign.SMSSettings{}, "Sale")
	f.sms.OptedOutNumbers = map[string]bool{"+14155550199": true}
	ctx := delivery.WithInvocation(context.Background())
	for i, userID := range []string{"a", "b"} {
		j := delivery.Job{Tenant: acme, ExecutionID: fmt.Sprint("ex-", i), CampaignID: "c", Version: 1,
			Recipients: []delivery.Recipient{{Type: "external", Namespace: "crmId", UserID: userID, Phone: "+14155550199"}}}
		if err := f.d.Dispatch(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff([]string{"a excluded:opted_out", "b excluded:opted_out"}, f.outcomes()); diff != "" {
		t.Errorf("ledger (-want +got):\n%s", diff)
	}
	if n := len(f.sms.Sent()); n != 0 {
		t.Errorf("sent %d SMS to an opted-out number", n)
	}
	if n := f.sms.Checks(); n != 1 {
		t.Errorf("opt-out checks = %d in one invocation, want 1", n)
	}
	// A transactional SMS does not ask.
	tf := smsFixture(t, campaign.Transactional, campaign.SMSSettings{}, "Code")
	tf.sms.OptedOutNumbers = map[string]bool{"+14155550199": true}
	tf.dispatch(t, delivery.Recipient{Type: "external", Namespace: "crmId", UserID: "a", Phone: "+14155550199"})
	if tf.sms.Checks() != 0 || len(tf.sms.Sent()) != 1 {
		t.Errorf("transactional: %d checks, %d sent; want 0 and 1", tf.sms.Checks(), len(tf.sms.Sent()))
	}
}

func pushFixture(t *testing.T, typ campaign.Type, content campaign.PushContent) *channelFixture {
	t.Helper()
	return newChannelFixture(t, typ, campaign.ChannelConfig{Channel: campaign.Push, Push: pushApps}, campaign.Content{Push: &content})
}

func TestPushToEveryEnabledDeviceOnceAndNeverTwice(t *testing.T) {
	f := pushFixture(t, campaign.Transactional, campaign.PushContent{Title: "Hi {{profile.name}}", Body: "Your order shipped"})
	ctx := context.Background()
	p := profile.Profile{Namespace: "crmId", ID: "42", Attributes: map[string]any{"name": "Jane"}, Devices: []profile.Device{
		{AppID: "shop-ios", Platform: "APNS", Token: "ios-token", Enabled: true},
		{AppID: "shop-android", Platform: "GCM", Token: "android-token", Enabled: true},
		{AppID: "shop-android", Platform: "GCM", Token: "old-token", Enabled: false},
		{AppID: "other-app", Platform: "GCM", Token: "other-token", Enabled: true},
	}}
	if err := f.store.Put(ctx, acme, p); err != nil {
		t.Fatal(err)
	}
	r := delivery.Recipient{Type: "aep", Namespace: "crmId", UserID: "42"}
	f.dispatch(t, r)
	f.dispatch(t, r) // a redelivery
	if diff := cmp.Diff([]string{"42 sent (device)", "42 sent (device)"}, f.outcomes()); diff != "" {
		t.Errorf("ledger (-want +got):\n%s", diff)
	}
	sent := f.pusher.Sent()
	if len(sent) != 2 {
		t.Fatalf("published %d notifications, want 2 (one per enabled device of the campaign's apps)", len(sent))
	}
	stored, err := f.store.Get(ctx, acme, p.Identity())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range stored.Devices[:2] {
		if d.EndpointARN == "" {
			t.Errorf("device %s: endpoint ARN not stored on the profile", d.AppID)
		}
	}
	// The next execution reuses the stored endpoints: no creation calls.
	before := f.pusher.Calls()
	if err := f.d.Dispatch(ctx, delivery.Job{Tenant: acme, ExecutionID: "ex-2", CampaignID: "c", Version: 1, Recipients: []delivery.Recipient{r}}); err != nil {
		t.Fatal(err)
	}
	if got := f.pusher.Calls() - before; got != 2 {
		t.Errorf("second execution made %d provider calls, want 2 publishes", got)
	}
}

func TestPushToADisabledEndpointExcludesAndDisablesTheDevice(t *testing.T) {
	f := pushFixture(t, campaign.Marketing, campaign.PushContent{Body: "Sale"})
	ctx := context.Background()
	ep := f.pusher.Disable(iosARN, "dead-token")
	p := profile.Profile{Namespace: "crmId", ID: "42", Devices: []profile.Device{
		{AppID: "shop-ios", Platform: "APNS", Token: "dead-token", EndpointARN: ep, Enabled: true},
		{AppID: "shop-android", Platform: "GCM", Token: "live-token", Enabled: true},
	}}
	if err := f.store.Put(ctx, acme, p); err != nil {
		t.Fatal(err)
	}
	f.dispatch(t, delivery.Recipient{Type: "aep", Namespace: "crmId", UserID: "42"})
	if diff := cmp.Diff([]string{"42 excluded:invalid_token (device)", "42 sent (device)"}, f.outcomes()); diff != "" {
		t.Errorf("ledger (-want +got):\n%s", diff)
	}
	stored, _ := f.store.Get(ctx, acme, p.Identity())
	if stored.Devices[0].Enabled || !stored.Devices[1].Enabled {
		t.Errorf("devices after dispatch = %+v, want the dead one disabled and the live one enabled", stored.Devices)
	}
	// A refused token at endpoint creation is the same.
	f.pusher.Refuse("bad-token")
	f.dispatch(t, delivery.Recipient{Type: "external", Namespace: "crmId", UserID: "x", Push: &delivery.PushTarget{AppID: "shop-android", Token: "bad-token"}})
	if got := f.outcomes(); !contains(got, "x excluded:invalid_token (device)") {
		t.Errorf("ledger %v lacks the refused token's exclusion", got)
	}
}

func TestPushAddressing(t *testing.T) {
	tests := []struct {
		name string
		p    *profile.Profile
		r    delivery.Recipient
		want []string
	}{
		{"a profile without devices is excluded", &profile.Profile{Namespace: "crmId", ID: "1"},
			delivery.Recipient{Type: "aep", Namespace: "crmId", UserID: "1"}, []string{"1 excluded:no_address"}},
		{"pushInfo for an app outside the configuration fails", nil,
			delivery.Recipient{Type: "external", Namespace: "crmId", UserID: "1", Push: &delivery.PushTarget{AppID: "nope", Token: "t"}},
			[]string{"1 failed:invalid_address"}},
		{"pushInfo wins over the profile's devices", &profile.Profile{Namespace: "crmId", ID: "1", Devices: []profile.Device{{AppID: "shop-ios", Platform: "APNS", Token: "a", Enabled: true}}},
			delivery.Recipient{Type: "aep", Namespace: "crmId", UserID: "1", Push: &delivery.PushTarget{AppID: "shop-android", Platform: "GCM", Token: "b"}},
			[]string{"1 sent (device)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := pushFixture(t, campaign.Transactional, campaign.PushContent{Body: "Hi"})
			if tt.p != nil {
				if err := f.store.Put(context.Background(), acme, *tt.p); err != nil {
					t.Fatal(err)
				}
			}
			f.dispatch(t, tt.r)
			if diff := cmp.Diff(tt.want, f.outcomes()); diff != "" {
				t.Errorf("ledger (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPushPayloadOverFourKilobytesFails(t *testing.T) {
	f := pushFixture(t, campaign.Transactional, campaign.PushContent{Body: "{{context.long}}"})
	f.dispatch(t, delivery.Recipient{Type: "external", Namespace: "crmId", UserID: "1", Context: toObject(map[string]any{"long": strings.Repeat("x", 5000)}),
		Push: &delivery.PushTarget{AppID: "shop-ios", Token: "t"}})
	if diff := cmp.Diff([]string{"1 failed:payload_too_large (device)"}, f.outcomes()); diff != "" {
		t.Errorf("ledger (-want +got):\n%s", diff)
	}
	if n := f.pusher.Calls(); n != 0 {
		t.Errorf("an oversized payload made %d provider calls", n)
	}
}

// TestPushPayloadsMatchGoldenFiles renders one campaign for an iOS and an
// Android device and compares what Dispatch publishes with testdata.
func TestPushPayloadsMatchGoldenFiles(t *testing.T) {
	badge := 2
	f := pushFixture(t, campaign.Transactional, campaign.PushContent{
		Title: "Order {{context.orderId}} shipped", Body: "Hi {{profile.name}}, it arrives {{context.eta}}.",
		ImageURL: "https://cdn.shop.example/{{context.orderId}}.png", DeepLink: "shop://orders/{{context.orderId}}",
		Sound: "default", Badge: &badge, Data: map[string]string{"orderId": "{{context.orderId}}"}})
	ctx := context.Background()
	p := profile.Profile{Namespace: "crmId", ID: "42", Attributes: map[string]any{"name": "Jane"}, Devices: []profile.Device{
		{AppID: "shop-ios", Platform: "APNS", Token: "ios", Enabled: true},
		{AppID: "shop-android", Platform: "GCM", Token: "android", Enabled: true},
	}}
	if err := f.store.Put(ctx, acme, p); err != nil {
		t.Fatal(err)
	}
	f.dispatch(t, delivery.Recipient{Type: "aep", Namespace: "crmId", UserID: "42", Context: toObject(map[string]any{"orderId": "A-1", "eta": "Tuesday"})})
	got := map[string]string{}
	for _, s := range f.pusher.Sent() {
		var m map[string]string
		if err := json.Unmarshal([]byte(s.Message), &m); err != nil {
			t.Fatal(err)
		}
		for k, v := range m {
			if k != "default" {
				got[k] = v
			}
		}
		if m["default"] != "Hi Jane, it arrives Tuesday." {
			t.Errorf("default text = %q", m["default"])
		}
	}
	for platform, file := range map[string]string{"APNS": "push_apns.golden.json", "GCM": "push_fcm.golden.json"} {
		var pretty strings.Builder
		var v any
		if err := json.Unmarshal([]byte(got[platform]), &v); err != nil {
			t.Fatalf("%s payload: %v", platform, err)
		}
		// The golden file holds the exact payload on its first line and
		// an indented copy for reading.
		b, _ := json.MarshalIndent(v, "", "  ")
		pretty.WriteString(got[platform] + "\n" + string(b) + "\n")
		path := filepath.Join("testdata", file)
		if *update {
			if err := os.WriteFile(path, []byte(pretty.String()), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(want), pretty.String()); diff != "" {
			t.Errorf("%s payload (-want +got):\n%s", platform, diff)
		}
	}
}

func TestMarketingEmailCarriesOneClickUnsubscribeHeaders(t *testing.T) {
	cfg := campaign.ChannelConfig{Channel: campaign.Email, Email: &campaign.EmailSettings{FromName: "Shop", FromAddress: "news@shop.example",
		BCC: []string{"archive@shop.example"}, ReplyTo: []string{"help@shop.example"}, ListUnsubscribeMailto: "unsub@shop.example"}}
	content := campaign.Content{Email: &campaign.EmailContent{Subject: "Sale\r\nBcc: evil@x.example {{context.x}}", Text: "Sale"}}
	f := newChannelFixture(t, campaign.Marketing, cfg, content)
	f.dispatch(t, delivery.Recipient{Type: "external", Namespace: "email", UserID: "Jane@Example.com", Context: toObject(map[string]any{"x": "a\nb"})})
	sent := f.mailer.Sent()
	if len(sent) != 1 {
		t.Fatalf("sent %d emails, want 1", len(sent))
	}
	e := sent[0]
	if strings.ContainsAny(e.Subject, "\r\n") {
		t.Errorf("subject %q carries a line break", e.Subject)
	}
	if diff := cmp.Diff([]string{"archive@shop.example"}, e.BCC); diff != "" {
		t.Errorf("BCC (-want +got):\n%s", diff)
	}
	var names []string
	for _, h := range e.Headers {
		names = append(names, h.Name)
	}
	if diff := cmp.Diff([]string{"List-Unsubscribe", "List-Unsubscribe-Post"}, names); diff != "" {
		t.Fatalf("headers (-want +got):\n%s", diff)
	}
	lu := e.Headers[0].Value
	if !strings.HasPrefix(lu, "<https://api.herald.example/unsubscribe?token=") || !strings.Contains(lu, ">, <mailto:unsub@shop.example?") {
		t.Errorf("List-Unsubscribe = %q", lu)
	}
	if e.Headers[1].Value != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post = %q", e.Headers[1].Value)
	}
	tok := lu[strings.Index(lu, "token=")+6 : strings.Index(lu, ">")]
	c, err := f.d.Unsubscribe.Verify(tok)
	if err != nil {
		t.Fatalf("the link's token does not verify: %v", err)
	}
	if c.Tenant != acme || c.Channel != "email" || c.Address != "jane@example.com" || c.CampaignID != "c" {
		t.Errorf("claims = %+v", c)
	}

	// A transactional email carries none.
	tf := newChannelFixture(t, campaign.Transactional, cfg, content)
	tf.dispatch(t, delivery.Recipient{Type: "external", Namespace: "email", UserID: "jane@example.com"})
	if h := tf.mailer.Sent()[0].Headers; len(h) != 0 {
		t.Errorf("transactional headers = %v, want none", h)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// BenchmarkDispatchSMSAndPush measures one marketing recipient through
// consent, suppression, the opt-out cache, rendering and the send (memory
// providers), per channel.
func BenchmarkDispatchSMSAndPush(b *testing.B) {
	for _, ch := range []campaign.Channel{campaign.SMS, campaign.Push} {
		b.Run(string(ch), func(b *testing.B) {
			cfg := campaign.ChannelConfig{Channel: ch, SMS: &campaign.SMSSettings{}, Push: pushApps}
			content := campaign.Content{SMS: &campaign.SMSContent{Body: "Hi {{profile.name}}, {{context.offer}}"},
				Push: &campaign.PushContent{Title: "Hi {{profile.name}}", Body: "{{context.offer}}"}}
			f := newChannelFixture(b, campaign.Marketing, cfg, content)
			p := profile.Profile{Namespace: "crmId", ID: "1", Attributes: map[string]any{"name": "Jane", "phone": "+14155550100"},
				Devices: []profile.Device{{AppID: "shop-ios", Platform: "APNS", Token: "t", EndpointARN: "arn:aws:sns:us-east-1:123456789012:endpoint/APNS/shop-ios/1", Enabled: true}}}
			if err := f.store.Put(context.Background(), acme, p); err != nil {
				b.Fatal(err)
			}
			r := delivery.Recipient{Type: "aep", Namespace: "crmId", UserID: "1", Context: toObject(map[string]any{"offer": "20% off"})}
			ctx := context.Background()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if err := f.d.Dispatch(ctx, delivery.Job{Tenant: acme, ExecutionID: fmt.Sprint("ex-", i), CampaignID: "c", Version: 1, Recipients: []delivery.Recipient{r}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
