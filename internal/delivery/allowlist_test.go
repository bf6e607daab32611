package delivery_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/profile"
)

// A configuration is checked against the deployment's allowlist when it
// is stored and when its campaign is reviewed; Dispatch checks again
// before every send, so one stored before the deployment allowed less
// (or written to the table by other means) sends nothing.
func TestEmailFromASenderTheDeploymentDoesNotAllowIsNeverSent(t *testing.T) {
	tests := []struct {
		name    string
		allowed *campaign.Allowlist
		want    delivery.Outcome
	}{
		{"a From address of the allowed domain is sent", &campaign.Allowlist{SenderIdentity: "acme.example"}, delivery.Sent},
		{"a From address of another domain fails", &campaign.Allowlist{SenderIdentity: "globex.example"}, delivery.FailedUnauthorizedSender},
		{"another address of an allowed address's domain fails", &campaign.Allowlist{SenderIdentity: "news@acme.example"}, delivery.FailedUnauthorizedSender},
		{"without a sender identity nothing is sent", &campaign.Allowlist{}, delivery.FailedUnauthorizedSender},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, defaultContent, defaultSettings) // From orders@acme.example
			var logs bytes.Buffer
			f.d.Log = slog.New(slog.NewJSONHandler(&logs, nil))
			f.d.Allowed = tt.allowed
			f.putProfile(t, profile.Profile{Namespace: "crmId", ID: "42", Attributes: map[string]any{"email": "jane@example.com"}})
			err := f.d.Dispatch(context.Background(), job(
				delivery.Recipient{Type: "aep", UserID: "42", Namespace: "crmId"},
				delivery.Recipient{Type: "external", UserID: "bob@example.com", Namespace: "email"}))
			if err != nil {
				t.Fatalf("Dispatch: %v", err)
			}
			want := []outcome{{"42", delivery.Done, tt.want}, {"bob@example.com", delivery.Done, tt.want}}
			if diff := cmp.Diff(want, f.ledger()); diff != "" {
				t.Errorf("ledger (-want +got):\n%s", diff)
			}
			sent := len(f.mailer.Sent())
			warned := strings.Count(logs.String(), "configuration outside what the deployment allows")
			if tt.want == delivery.Sent {
				if sent != 2 || warned != 0 {
					t.Errorf("%d sent, %d warnings; want 2 and none", sent, warned)
				}
				return
			}
			if sent != 0 {
				t.Errorf("%d emails sent, want none", sent)
			}
			if warned != 1 || !strings.Contains(logs.String(), `"code":"unauthorized_sender"`) {
				t.Errorf("logs:\n%s\nwant one warning with code unauthorized_sender for the job", logs.String())
			}
			if strings.Contains(logs.String(), "@") {
				t.Errorf("logs name an address:\n%s", logs.String())
			}
		})
	}
}

func TestAProofFromASenderTheDeploymentDoesNotAllowIsNeverSent(t *testing.T) {
	f := newFixture(t, defaultContent, defaultSettings)
	f.d.Allowed = &campaign.Allowlist{SenderIdentity: "globex.example"}
	v, err := f.store.GetVersion(context.Background(), acme, "camp-1", 1)
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.d.DispatchProof(context.Background(), delivery.Job{Tenant: acme, ExecutionID: "proof-1", CampaignID: "camp-1",
		Recipients: []delivery.Recipient{{Type: "external", UserID: "qa@example.com", Namespace: "email"}}}, v)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]delivery.Outcome{delivery.FailedUnauthorizedSender}, got); diff != "" {
		t.Errorf("proof outcomes (-want +got):\n%s", diff)
	}
	f.wantSent(t, 0, "%d emails sent, want none")
}

func TestPushThroughAnApplicationTheDeploymentDoesNotAllowIsNeverSent(t *testing.T) {
	// The iOS app's own endpoint, stored on the device: even a stored
	// endpoint of the configuration's application is not published to.
	iosEndpoint := strings.Replace(iosARN, ":app/", ":endpoint/", 1) + "/0f3c9d2e-7a41-4b8e-9c55-1d2e3f4a5b6c"
	tests := []struct {
		name  string
		apps  string
		want  []string
		calls int // provider calls: CreatePlatformEndpoint and Publish
	}{
		{"every allowed application's devices are sent", "arn:aws:sns:us-east-1:123456789012:app/*/shop-*",
			[]string{"42 sent (device)", "42 sent (device)"}, 3},
		{"a device of an application not allowed fails, the others are sent", "arn:aws:sns:us-east-1:123456789012:app/GCM/*",
			[]string{"42 failed:unauthorized_application (device)", "42 sent (device)"}, 2},
		{"applications of another account are not these", "arn:aws:sns:us-east-1:999999999999:app/*",
			[]string{"42 failed:unauthorized_application (device)", "42 failed:unauthorized_application (device)"}, 0},
		{"without allowed applications nothing is sent", "",
			[]string{"42 failed:unauthorized_application (device)", "42 failed:unauthorized_application (device)"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := pushFixture(t, campaign.Transactional, campaign.PushContent{Body: "Your order shipped"})
			f.d.Allowed = &campaign.Allowlist{PushApplications: tt.apps}
			ctx := context.Background()
			p := profile.Profile{Namespace: "crmId", ID: "42", Devices: []profile.Device{
				{AppID: "shop-ios", Platform: "APNS", Token: "ios-token", EndpointARN: iosEndpoint, Enabled: true},
				{AppID: "shop-android", Platform: "GCM", Token: "android-token", Enabled: true}}}
			if err := f.store.Put(ctx, acme, p); err != nil {
				t.Fatal(err)
			}
			f.dispatch(t, delivery.Recipient{Type: "aep", Namespace: "crmId", UserID: "42"})
			if diff := cmp.Diff(tt.want, f.outcomes()); diff != "" {
				t.Errorf("ledger (-want +got):\n%s", diff)
			}
			if got := f.pusher.Calls(); got != tt.calls {
				t.Errorf("%d provider calls, want %d", got, tt.calls)
			}
			for _, s := range f.pusher.Sent() {
				if !f.d.Allowed.AllowsApplication(applicationOf(s.EndpointARN)) {
					t.Errorf("published to %s, an endpoint of an application not allowed", s.EndpointARN)
				}
			}
		})
	}
}

func TestPushInfoForAnApplicationTheDeploymentDoesNotAllowIsNeverSent(t *testing.T) {
	f := pushFixture(t, campaign.Transactional, campaign.PushContent{Body: "Your order shipped"})
	f.d.Allowed = &campaign.Allowlist{PushApplications: androidARN}
	f.dispatch(t, delivery.Recipient{Type: "external", Namespace: "crmId", UserID: "42",
		Push: &delivery.PushTarget{AppID: "shop-ios", Platform: "APNS", Token: "t"}})
	if diff := cmp.Diff([]string{"42 failed:unauthorized_application (device)"}, f.outcomes()); diff != "" {
		t.Errorf("ledger (-want +got):\n%s", diff)
	}
	if n := f.pusher.Calls(); n != 0 {
		t.Errorf("%d provider calls, want none (no endpoint made either)", n)
	}
}

// applicationOf is the platform application of an SNS endpoint ARN
// (…:endpoint/<PLATFORM>/<name>/<id> belongs to …:app/<PLATFORM>/<name>).
func applicationOf(endpoint string) string {
	return strings.Replace(endpoint[:strings.LastIndexByte(endpoint, '/')], ":endpoint/", ":app/", 1)
}
