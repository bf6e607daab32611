package storetest

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/profile"
)

// EndpointStore is what records and finds the owners of platform
// endpoints: delivery.EndpointOwners and the Feedback function's read,
// with the profile store whose erasure deletes them.
type EndpointStore interface {
	delivery.EndpointOwners
	EndpointOwner(ctx context.Context, endpointARN string) (delivery.EndpointOwner, error)
	profile.Store
}

// Endpoints runs the endpoint owner contract; newStore returns a fresh,
// empty store.
func Endpoints(t *testing.T, newStore func(t *testing.T) EndpointStore) {
	ctx := context.Background()
	arn := "arn:aws:sns:us-east-1:123456789012:endpoint/GCM/herald-app/5e3e9847-3183-3f18-a7e8-671c3a57d4b3"
	jane := delivery.EndpointOwner{Tenant: acme, Namespace: "email", ProfileID: "jane@example.com", Device: "0a1b2c3d4e5f6071"}
	john := delivery.EndpointOwner{Tenant: other, Namespace: "crmId", ProfileID: "42", Device: "8899aabbccddeeff"}

	t.Run("a recorded owner is found by its endpoint", func(t *testing.T) {
		s := newStore(t)
		if err := s.PutEndpointOwner(ctx, arn, jane); err != nil {
			t.Fatal(err)
		}
		got, err := s.EndpointOwner(ctx, arn)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(jane, got); diff != "" {
			t.Errorf("EndpointOwner (-want +got):\n%s", diff)
		}
	})
	t.Run("a second owner of one endpoint replaces the first", func(t *testing.T) {
		s := newStore(t)
		for _, o := range []delivery.EndpointOwner{jane, john} {
			if err := s.PutEndpointOwner(ctx, arn, o); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.EndpointOwner(ctx, arn)
		if diff := cmp.Diff(john, got); diff != "" || err != nil {
			t.Errorf("EndpointOwner (-want +got):\n%s (%v)", diff, err)
		}
	})
	t.Run("another endpoint, or a very long one, has no owner", func(t *testing.T) {
		s := newStore(t)
		if err := s.PutEndpointOwner(ctx, arn, jane); err != nil {
			t.Fatal(err)
		}
		for _, other := range []string{arn + "0", strings.Repeat("x", 4096)} {
			_, err := s.EndpointOwner(ctx, other)
			wantKind(t, "EndpointOwner", err, derrors.NotFound)
		}
	})
	t.Run("erasing a profile deletes the owners that name it, not another's", func(t *testing.T) {
		s := newStore(t)
		shared := arn + "-shared" // made again for the same token under John's profile
		p := profile.Profile{Namespace: jane.Namespace, ID: jane.ProfileID, Attributes: map[string]any{}, CreatedAt: t0, UpdatedAt: t0,
			Devices: []profile.Device{
				{AppID: "shop-android", Platform: "GCM", Token: "a", EndpointARN: arn, Enabled: true},
				{AppID: "shop-android", Platform: "GCM", Token: "b", EndpointARN: shared, Enabled: true},
				{AppID: "shop-ios", Platform: "APNS", Token: "c", Enabled: true},
			}}
		if err := s.Put(ctx, acme, p); err != nil {
			t.Fatal(err)
		}
		if err := s.PutEndpointOwner(ctx, arn, jane); err != nil {
			t.Fatal(err)
		}
		if err := s.PutEndpointOwner(ctx, shared, john); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, acme, profile.Identity{Namespace: jane.Namespace, ID: jane.ProfileID}); err != nil {
			t.Fatal(err)
		}
		_, err := s.EndpointOwner(ctx, arn)
		wantKind(t, "EndpointOwner(erased profile's endpoint)", err, derrors.NotFound)
		got, err := s.EndpointOwner(ctx, shared)
		if diff := cmp.Diff(john, got); diff != "" || err != nil {
			t.Errorf("EndpointOwner(another profile's endpoint) (-want +got):\n%s (%v)", diff, err)
		}
	})
}
