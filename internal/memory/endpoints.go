package memory

import (
	"context"

	"github.com/heraldhq/herald/internal/delivery"
)

var _ delivery.EndpointOwners = (*Store)(nil)

// PutEndpointOwner implements delivery.EndpointOwners.
func (s *Store) PutEndpointOwner(_ context.Context, endpointARN string, o delivery.EndpointOwner) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.endpoints == nil {
		s.endpoints = map[string]delivery.EndpointOwner{}
	}
	s.endpoints[endpointARN] = o
	return nil
}

// EndpointOwner returns the owner of endpointARN, or derrors.NotFound.
func (s *Store) EndpointOwner(_ context.Context, endpointARN string) (delivery.EndpointOwner, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.endpoints[endpointARN]
	if !ok {
		return delivery.EndpointOwner{}, notFound("endpoint owner")
	}
	return o, nil
}
