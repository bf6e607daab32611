package memory

import (
	"context"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/derrors"
)

var _ auth.KeyStore = (*Store)(nil)

// GetKey implements auth.KeyStore.
func (s *Store) GetKey(_ context.Context, hash string) (auth.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key, ok := s.keys[hash]
	if !ok {
		return auth.Key{}, notFound("api key")
	}
	return clone(key), nil
}

// PutKey implements auth.KeyStore.
func (s *Store) PutKey(_ context.Context, hash string, key auth.Key) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[hash]; ok {
		return derrors.New(derrors.Conflict, "api key already exists")
	}
	s.keys[hash] = clone(key)
	return nil
}
