package feedback

import (
	"context"
	"errors"
	"fmt"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/profile"
)

// EndpointOwners finds the device a push endpoint belongs to: the owner
// Dispatch recorded when it made the endpoint (delivery.EndpointOwners).
type EndpointOwners interface {
	// EndpointOwner returns the owner of endpointARN, or derrors.NotFound
	// for an endpoint Herald did not make.
	EndpointOwner(ctx context.Context, endpointARN string) (delivery.EndpointOwner, error)
}

// EndpointReader reads a push endpoint's state at the platform.
type EndpointReader interface {
	// EndpointEnabled reports whether the endpoint is enabled. It returns
	// delivery.ErrEndpointGone (wrapped) when the endpoint no longer
	// exists, another error when the answer is unknown (retry later).
	EndpointEnabled(ctx context.Context, endpointARN string) (bool, error)
}

// errNoChange ends a profile update that would change nothing, so
// nothing is written.
var errNoChange = errors.New("feedback: the device needs no change")

// ApplyEndpoint applies an EndpointDeleted or EndpointUpdated event to the
// device owning its endpoint, on the owner's profile:
//
//   - deleted: the device forgets the endpoint, and stays enabled. A
//     deleted endpoint says nothing about the token (an operator, or a
//     clean-up, may have deleted it); Dispatch makes a new endpoint from
//     the token at the next send, and that send's answer says whether the
//     token is still good.
//   - updated: the endpoint's state is read from SNS (the event's own
//     attributes are not relied on, and may be stale when it arrives
//     late). Disabled — the platform refused the token — disables the
//     device, as a delivery failure does; still enabled, nothing changes;
//     gone, it is applied as deleted.
//
// Only a device still holding the event's endpoint changes: a device
// whose endpoint was forgotten or made again since is not touched
// (Repeated). An endpoint without an owner, or whose profile or device is
// gone, is not Herald's (Unknown). Replays converge: a second event finds
// nothing to change (Repeated) and writes nothing.
func (s *Service) ApplyEndpoint(ctx context.Context, ev Event) (Applied, error) {
	if s.Endpoints == nil || s.Devices == nil || (ev.Kind == EndpointUpdated && s.Platform == nil) {
		return Unknown, nil
	}
	o, err := s.Endpoints.EndpointOwner(ctx, ev.Endpoint)
	if derrors.Is(err, derrors.NotFound) {
		s.log().Info("push endpoint event for no Herald device", "event", "pushEndpoint", "kind", ev.Kind)
		return Unknown, nil
	}
	if err != nil {
		return "", fmt.Errorf("find endpoint owner: %w", err)
	}
	kind := ev.Kind
	if kind == EndpointUpdated {
		enabled, err := s.Platform.EndpointEnabled(ctx, ev.Endpoint)
		switch {
		case errors.Is(err, delivery.ErrEndpointGone):
			kind = EndpointDeleted
		case err != nil:
			return "", fmt.Errorf("read endpoint: %w", err)
		case enabled:
			s.logEndpoint(ctx, ev, o, "unchanged")
			return Repeated, nil
		}
	}
	found := false
	_, err = s.Devices.Update(ctx, o.Tenant, profile.Identity{Namespace: o.Namespace, ID: o.ProfileID}, func(p *profile.Profile) error {
		found = false
		changed := false
		for i, d := range p.Devices {
			if delivery.DeviceKey(d.AppID, d.Token) != o.Device {
				continue
			}
			found = true
			if d.EndpointARN != ev.Endpoint {
				continue // already forgotten, or made again since
			}
			switch {
			case kind == EndpointDeleted:
				p.Devices[i].EndpointARN, changed = "", true
			case d.Enabled:
				p.Devices[i].Enabled, changed = false, true
			}
		}
		if !changed {
			return errNoChange
		}
		return nil
	})
	switch {
	case errors.Is(err, errNoChange) && !found, derrors.Is(err, derrors.NotFound):
		s.log().Info("push endpoint event for no Herald device", "event", "pushEndpoint", "kind", ev.Kind)
		return Unknown, nil
	case errors.Is(err, errNoChange):
		s.logEndpoint(ctx, ev, o, "unchanged")
		return Repeated, nil
	case err != nil:
		return "", fmt.Errorf("update device of endpoint: %w", err)
	}
	action := "endpointForgotten"
	if kind == EndpointUpdated {
		action = "deviceDisabled"
	}
	s.logEndpoint(ctx, ev, o, action)
	return Recorded, nil
}

// logEndpoint records what an endpoint event did, naming the device by
// its digest: never the token, the profile id (which may be an address)
// nor the endpoint.
func (s *Service) logEndpoint(ctx context.Context, ev Event, o delivery.EndpointOwner, action string) {
	s.log().InfoContext(ctx, "push endpoint event applied", "event", "pushEndpoint", "kind", ev.Kind, "action", action,
		"org", o.Tenant.Org, "sandbox", o.Tenant.Sandbox, "device", o.Device)
}
