package storetest

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
)

// EndpointStore is what records and finds the owners of platform
// endpoints: delivery.EndpointOwners and the Feedback function's read.
type EndpointStore interface {
	delivery.EndpointOwners
	EndpointOwner(ctx context.Context, endpointARN string) (delivery.EndpointOwner, error)
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
}
