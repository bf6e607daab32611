package delivery_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/profile"
)

// Before issue 10 Dispatch published to whatever endpoint ARN a profile
// held: a topic stored as a device got the campaign's content. A stored
// endpoint is now used only if it is an endpoint of the platform
// application the configuration names for the device's app; anything else
// is ignored and the endpoint made again from the token.
func TestPushPublishesOnlyToEndpointsOfTheConfigurationsApplication(t *testing.T) {
	ownIOS := strings.Replace(iosARN, ":app/", ":endpoint/", 1) + "/0f3c9d2e-7a41-4b8e-9c55-1d2e3f4a5b6c"
	iosApp := pushApps.Apps[0]
	tests := []struct {
		name    string
		stored  string
		creates bool
	}{
		{"a topic ARN is ignored and the endpoint made from the token", "arn:aws:sns:us-east-1:123456789012:herald-internal-alerts", true},
		{"an endpoint of another application is ignored", "arn:aws:sns:us-east-1:123456789012:endpoint/APNS/globex-ios/0f3c", true},
		{"an endpoint of the Android app is not the iOS app's", "arn:aws:sns:us-east-1:123456789012:endpoint/GCM/shop-android/0f3c", true},
		{"an endpoint of a same-named application of another account is ignored", "arn:aws:sns:us-east-1:210987654321:endpoint/APNS/shop-ios/0f3c", true},
		{"an endpoint of a same-named application of another region is ignored", "arn:aws:sns:eu-west-1:123456789012:endpoint/APNS/shop-ios/0f3c", true},
		{"an ARN that only starts like one of the app's endpoints is ignored", ownIOS + "/more", true},
		{"an endpoint of an application whose name extends the app's is ignored", "arn:aws:sns:us-east-1:123456789012:endpoint/APNS/shop-ios-beta/0f3c", true},
		{"the application's own endpoint is used as it is", ownIOS, false},
	}
	for _, tt := range tests {
		for _, byPushInfo := range []bool{false, true} {
			name := tt.name
			if byPushInfo {
				name += " (pushInfo of a stored device)"
			}
			t.Run(name, func(t *testing.T) {
				f := pushFixture(t, campaign.Transactional, campaign.PushContent{Body: "Your order shipped"})
				ctx := context.Background()
				p := profile.Profile{Namespace: "crmId", ID: "42", Devices: []profile.Device{
					{AppID: "shop-ios", Platform: "APNS", Token: "t", EndpointARN: tt.stored, Enabled: true}}}
				if err := f.store.Put(ctx, acme, p); err != nil {
					t.Fatal(err)
				}
				r := delivery.Recipient{Type: "aep", Namespace: "crmId", UserID: "42"}
				if byPushInfo {
					r.Push = &delivery.PushTarget{AppID: "shop-ios", Platform: "APNS", Token: "t"}
				}
				f.dispatch(t, r)
				if diff := cmp.Diff([]string{"42 sent (device)"}, f.outcomes()); diff != "" {
					t.Errorf("ledger (-want +got):\n%s", diff)
				}
				sent := f.pusher.Sent()
				if len(sent) != 1 {
					t.Fatalf("published %d notifications, want 1", len(sent))
				}
				to := sent[0].EndpointARN
				switch {
				case !iosApp.Owns(to):
					t.Errorf("published to %s, which is not an endpoint of %s", to, iosARN)
				case tt.creates && to == tt.stored:
					t.Errorf("published to the stored %s", to)
				case !tt.creates && to != tt.stored:
					t.Errorf("published to %s, want the stored endpoint %s", to, tt.stored)
				}
				wantCalls := 1
				if tt.creates {
					wantCalls = 2 // CreatePlatformEndpoint, then Publish
				}
				if got := f.pusher.Calls(); got != wantCalls {
					t.Errorf("%d provider calls, want %d", got, wantCalls)
				}
				stored, err := f.store.Get(ctx, acme, p.Identity())
				if err != nil {
					t.Fatal(err)
				}
				if got := stored.Devices[0].EndpointARN; got != to {
					t.Errorf("the profile keeps %s, want the endpoint published to, %s", got, to)
				}
			})
		}
	}
}

// foreignPusher makes endpoints that are not the application's, as no
// real provider does.
type foreignPusher struct {
	*memory.Pusher
}

func (foreignPusher) Endpoint(context.Context, string, string) (string, error) {
	return "arn:aws:sns:us-east-1:123456789012:herald-internal-alerts", nil
}

func TestAnEndpointTheProviderMakesOutsideTheApplicationIsNeverPublishedTo(t *testing.T) {
	f := pushFixture(t, campaign.Transactional, campaign.PushContent{Body: "Your order shipped"})
	f.d.Pusher = foreignPusher{f.pusher}
	ctx := context.Background()
	p := profile.Profile{Namespace: "crmId", ID: "42", Devices: []profile.Device{{AppID: "shop-ios", Platform: "APNS", Token: "t", Enabled: true}}}
	if err := f.store.Put(ctx, acme, p); err != nil {
		t.Fatal(err)
	}
	f.dispatch(t, delivery.Recipient{Type: "aep", Namespace: "crmId", UserID: "42"})
	if diff := cmp.Diff([]string{"42 failed:foreign_endpoint (device)"}, f.outcomes()); diff != "" {
		t.Errorf("ledger (-want +got):\n%s", diff)
	}
	if n := len(f.pusher.Sent()); n != 0 {
		t.Errorf("published %d notifications, want none", n)
	}
	stored, _ := f.store.Get(ctx, acme, p.Identity())
	if ep := stored.Devices[0].EndpointARN; ep != "" {
		t.Errorf("the profile keeps %s", ep)
	}
}

// countingOwners counts the owners recorded, to show they are written once
// per endpoint made and never per send.
type countingOwners struct {
	*memory.Store
	puts int
}

func (c *countingOwners) PutEndpointOwner(ctx context.Context, arn string, o delivery.EndpointOwner) error {
	c.puts++
	return c.Store.PutEndpointOwner(ctx, arn, o)
}

func TestTheOwnerOfAnEndpointIsRecordedWhenItIsMadeAndNotPerSend(t *testing.T) {
	f := pushFixture(t, campaign.Transactional, campaign.PushContent{Body: "Your order shipped"})
	owners := &countingOwners{Store: f.store}
	f.d.Endpoints = owners
	ctx := context.Background()
	p := profile.Profile{Namespace: "crmId", ID: "42", Devices: []profile.Device{{AppID: "shop-ios", Platform: "APNS", Token: "t", Enabled: true}}}
	if err := f.store.Put(ctx, acme, p); err != nil {
		t.Fatal(err)
	}
	f.dispatch(t, delivery.Recipient{Type: "aep", Namespace: "crmId", UserID: "42"})
	job := delivery.Job{Tenant: acme, ExecutionID: "ex2", CampaignID: "c", Version: 1,
		Recipients: []delivery.Recipient{{Type: "aep", Namespace: "crmId", UserID: "42"}}}
	if err := f.d.Dispatch(ctx, job); err != nil {
		t.Fatalf("Dispatch of a second execution: %v", err)
	}
	if n := len(f.pusher.Sent()); n != 2 {
		t.Fatalf("published %d notifications, want 2", n)
	}
	if owners.puts != 1 {
		t.Errorf("%d owners recorded for two sends through one endpoint, want 1", owners.puts)
	}
	stored, err := f.store.Get(ctx, acme, p.Identity())
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.store.EndpointOwner(ctx, stored.Devices[0].EndpointARN)
	if err != nil {
		t.Fatal(err)
	}
	want := delivery.EndpointOwner{Tenant: acme, Namespace: "crmId", ProfileID: "42", Device: delivery.DeviceKey("shop-ios", "t")}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("EndpointOwner (-want +got):\n%s", diff)
	}
}
