package feedback_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/feedback"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/profile"
)

const (
	janeEndpoint  = "arn:aws:sns:us-east-1:123456789012:endpoint/GCM/shop-android/5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"
	otherEndpoint = "arn:aws:sns:us-east-1:123456789012:endpoint/GCM/shop-android/0f3c9d2e-7a41-4b8e-9c55-1d2e3f4a5b6c"
)

// platform is a hand-written EndpointReader: the endpoints' enabled
// state, absent for a deleted endpoint; err fails every read.
type platform struct {
	enabled map[string]bool
	err     error
	reads   int
}

func (p *platform) EndpointEnabled(_ context.Context, arn string) (bool, error) {
	p.reads++
	if p.err != nil {
		return false, p.err
	}
	v, ok := p.enabled[arn]
	if !ok {
		return false, fmt.Errorf("get endpoint attributes: %w", delivery.ErrEndpointGone)
	}
	return v, nil
}

var jane = profile.Identity{Namespace: "crmId", ID: "42"}

// endpointFixture stores Jane's profile with one Android device holding
// janeEndpoint, whose owner Dispatch recorded.
func endpointFixture(t *testing.T, p *platform) (*memory.Store, *feedback.Service) {
	t.Helper()
	ctx := context.Background()
	s := memory.New()
	err := s.Put(ctx, acme, profile.Profile{Namespace: jane.Namespace, ID: jane.ID, Devices: []profile.Device{
		{AppID: "shop-android", Platform: "GCM", Token: "android-token", EndpointARN: janeEndpoint, Enabled: true},
		{AppID: "shop-ios", Platform: "APNS", Token: "ios-token", Enabled: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	o := delivery.EndpointOwner{Tenant: acme, Namespace: jane.Namespace, ProfileID: jane.ID, Device: delivery.DeviceKey("shop-android", "android-token")}
	if err := s.PutEndpointOwner(ctx, janeEndpoint, o); err != nil {
		t.Fatal(err)
	}
	svc := service(s)
	svc.Endpoints, svc.Platform = s, p
	return s, svc
}

func endpointEvent(k feedback.Kind, arn string) feedback.Event {
	return feedback.Event{ID: feedback.EventID("test", arn, string(k)), Channel: campaign.Push, Kind: k, Endpoint: arn, At: t0}
}

// androidDevice is Jane's Android device as stored.
func androidDevice(t *testing.T, s *memory.Store) profile.Device {
	t.Helper()
	p, err := s.Get(context.Background(), acme, jane)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range p.Devices {
		if d.AppID == "shop-android" {
			return d
		}
	}
	t.Fatal("the Android device is gone")
	return profile.Device{}
}

func TestEndpointEventsChangeTheDeviceOwningTheEndpoint(t *testing.T) {
	stored := profile.Device{AppID: "shop-android", Platform: "GCM", Token: "android-token", EndpointARN: janeEndpoint, Enabled: true}
	forgotten, disabled := stored, stored
	forgotten.EndpointARN = ""
	disabled.Enabled = false
	tests := []struct {
		name    string
		kind    feedback.Kind
		arn     string
		enabled map[string]bool // the platform's endpoints
		applied []feedback.Applied
		want    profile.Device
	}{
		{name: "a deleted endpoint is forgotten and the device stays enabled", kind: feedback.EndpointDeleted, arn: janeEndpoint,
			applied: []feedback.Applied{feedback.Recorded, feedback.Repeated}, want: forgotten},
		{name: "an endpoint updated to disabled disables the device", kind: feedback.EndpointUpdated, arn: janeEndpoint,
			enabled: map[string]bool{janeEndpoint: false}, applied: []feedback.Applied{feedback.Recorded, feedback.Repeated}, want: disabled},
		{name: "an endpoint updated and still enabled changes nothing", kind: feedback.EndpointUpdated, arn: janeEndpoint,
			enabled: map[string]bool{janeEndpoint: true}, applied: []feedback.Applied{feedback.Repeated, feedback.Repeated}, want: stored},
		{name: "an updated endpoint that no longer exists is applied as deleted", kind: feedback.EndpointUpdated, arn: janeEndpoint,
			applied: []feedback.Applied{feedback.Recorded, feedback.Repeated}, want: forgotten},
		{name: "an endpoint Herald did not make is dropped", kind: feedback.EndpointDeleted, arn: otherEndpoint,
			applied: []feedback.Applied{feedback.Unknown, feedback.Unknown}, want: stored},
		{name: "an update of an endpoint Herald did not make is dropped unread", kind: feedback.EndpointUpdated, arn: otherEndpoint,
			enabled: map[string]bool{otherEndpoint: false}, applied: []feedback.Applied{feedback.Unknown, feedback.Unknown}, want: stored},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &platform{enabled: tt.enabled}
			s, svc := endpointFixture(t, p)
			ev := endpointEvent(tt.kind, tt.arn)
			var got []feedback.Applied
			for range tt.applied { // the event, then its replay
				a, err := svc.Apply(context.Background(), ev)
				if err != nil {
					t.Fatalf("Apply: %v", err)
				}
				got = append(got, a)
			}
			if diff := cmp.Diff(tt.applied, got); diff != "" {
				t.Errorf("Apply, then its replay (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, androidDevice(t, s)); diff != "" {
				t.Errorf("the Android device (-want +got):\n%s", diff)
			}
			if tt.arn == otherEndpoint && p.reads != 0 {
				t.Errorf("read the platform %d times for an endpoint that is not Herald's", p.reads)
			}
		})
	}
}

func TestAnEndpointEventLeavesADeviceThatMovedToAnotherEndpointAlone(t *testing.T) {
	for _, kind := range []feedback.Kind{feedback.EndpointDeleted, feedback.EndpointUpdated} {
		t.Run(string(kind), func(t *testing.T) {
			s, svc := endpointFixture(t, &platform{enabled: map[string]bool{janeEndpoint: false}})
			ctx := context.Background()
			// Dispatch made the device a new endpoint since.
			if _, err := s.Update(ctx, acme, jane, func(p *profile.Profile) error {
				p.Devices[0].EndpointARN = otherEndpoint
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			a, err := svc.Apply(ctx, endpointEvent(kind, janeEndpoint))
			if err != nil || a != feedback.Repeated {
				t.Errorf("Apply = %v, %v; want %v", a, err, feedback.Repeated)
			}
			d := androidDevice(t, s)
			if d.EndpointARN != otherEndpoint || !d.Enabled {
				t.Errorf("the device is now %+v; want it enabled with its new endpoint", d)
			}
		})
	}
}

func TestAnEndpointEventOfAnErasedProfileIsDropped(t *testing.T) {
	s, svc := endpointFixture(t, &platform{enabled: map[string]bool{janeEndpoint: false}})
	if err := s.Delete(context.Background(), acme, jane); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []feedback.Kind{feedback.EndpointDeleted, feedback.EndpointUpdated} {
		if a, err := svc.Apply(context.Background(), endpointEvent(kind, janeEndpoint)); err != nil || a != feedback.Unknown {
			t.Errorf("Apply(%s) = %v, %v; want %v", kind, a, err, feedback.Unknown)
		}
	}
}

func TestAnEndpointWhoseStateIsUnknownIsRetried(t *testing.T) {
	s, svc := endpointFixture(t, &platform{err: errors.New("sns endpoint attributes: throttled")})
	if _, err := svc.Apply(context.Background(), endpointEvent(feedback.EndpointUpdated, janeEndpoint)); err == nil {
		t.Error("Apply = no error; want one, so Lambda retries the event")
	}
	if d := androidDevice(t, s); !d.Enabled || d.EndpointARN != janeEndpoint {
		t.Errorf("the device is now %+v; want it unchanged", d)
	}
}
