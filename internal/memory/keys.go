package memory

import (
	"cmp"
	"context"
	"slices"

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

// GetKeyByID implements auth.KeyStore.
func (s *Store) GetKeyByID(_ context.Context, id string) (auth.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	hash, ok := s.keyHashes[id]
	if !ok {
		return auth.Key{}, notFound("api key")
	}
	return clone(s.keys[hash]), nil
}

// PutKey implements auth.KeyStore.
func (s *Store) PutKey(_ context.Context, hash string, key auth.Key) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[hash]; ok {
		return derrors.New(derrors.Conflict, "api key already exists")
	}
	if _, ok := s.keyHashes[key.ID]; ok {
		return derrors.New(derrors.Conflict, "api key already exists")
	}
	s.keys[hash] = clone(key)
	s.keyHashes[key.ID] = hash
	return nil
}

// ListKeys implements auth.KeyStore.
func (s *Store) ListKeys(context.Context) ([]auth.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]auth.Key, 0, len(s.keyHashes))
	for _, hash := range s.keyHashes {
		out = append(out, clone(s.keys[hash]))
	}
	slices.SortFunc(out, func(a, b auth.Key) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// RotateKey implements auth.KeyStore.
func (s *Store) RotateKey(_ context.Context, id, newHash string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.keyHashes[id]
	if !ok {
		return notFound("api key")
	}
	if _, taken := s.keys[newHash]; taken {
		return derrors.New(derrors.Conflict, "api key already exists")
	}
	s.keys[newHash] = s.keys[old]
	delete(s.keys, old)
	s.keyHashes[id] = newHash
	return nil
}

// RevokeKey implements auth.KeyStore.
func (s *Store) RevokeKey(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	hash, ok := s.keyHashes[id]
	if !ok {
		return notFound("api key")
	}
	delete(s.keys, hash)
	delete(s.keyHashes, id)
	return nil
}
