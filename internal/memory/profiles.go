package memory

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/tenant"
)

var (
	_ profile.Store    = (*Store)(nil)
	_ delivery.Devices = (*Store)(nil)
)

func pkey(t tenant.Tenant, id profile.Identity) string { return k(t, id.Namespace, id.ID) }

// resolve finds the primary key of the profile owning id (lock held).
func (s *Store) resolve(t tenant.Tenant, id profile.Identity) (string, bool) {
	if _, ok := s.profiles[pkey(t, id)]; ok {
		return pkey(t, id), true
	}
	if primary, ok := s.aliases[pkey(t, id)]; ok {
		return primary, true
	}
	return "", false
}

// put stores p and its identities (lock held), refusing an identity of
// another profile as the DynamoDB store does.
func (s *Store) put(t tenant.Tenant, p profile.Profile) error {
	me := pkey(t, p.Identity())
	if owner, ok := s.aliases[me]; ok && owner != me {
		return derrors.New(derrors.Conflict, "identity %s:%s belongs to another profile", p.Namespace, p.ID)
	}
	for _, id := range p.AllIdentities()[1:] {
		ik := pkey(t, id)
		if _, isProfile := s.profiles[ik]; isProfile {
			return derrors.New(derrors.Conflict, "identity %s:%s belongs to another profile", id.Namespace, id.ID)
		}
		if owner, ok := s.aliases[ik]; ok && owner != me {
			return derrors.New(derrors.Conflict, "identity %s:%s belongs to another profile", id.Namespace, id.ID)
		}
	}
	if old, ok := s.profiles[me]; ok {
		for _, id := range old.AllIdentities()[1:] {
			delete(s.aliases, pkey(t, id))
		}
	}
	for _, id := range p.AllIdentities()[1:] {
		s.aliases[pkey(t, id)] = me
	}
	// Stored as a database stores it: encoded, and decoded from that
	// once, so the caller's maps are never the store's.
	doc, err := json.Marshal(p)
	if err != nil {
		panic(err)
	}
	var stored profile.Profile
	if err := json.Unmarshal(doc, &stored); err != nil {
		panic(err)
	}
	s.profiles[me] = stored
	return nil
}

// read returns a deep copy of the stored profile at key: callers never
// share maps or slices with the store (strings and numbers are values).
// Decoding the stored document again for each read, as a database's
// read decodes, would cost the benchmarks allocations that are the
// fake's, not Herald's.
func (s *Store) read(key string) profile.Profile {
	p := s.profiles[key]
	p.Attributes = cloneJSON(p.Attributes)
	p.Identities = maps.Clone(p.Identities)
	p.Consent = maps.Clone(p.Consent)
	p.Devices = slices.Clone(p.Devices)
	return p
}

// cloneJSON deep-copies a decoded JSON object: its objects and arrays;
// strings, numbers, booleans and null are shared values.
func cloneJSON(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneValue(v)
	}
	return out
}

func cloneValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return cloneJSON(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = cloneValue(e)
		}
		return out
	}
	return v
}

// Put implements profile.Store.
func (s *Store) Put(_ context.Context, t tenant.Tenant, p profile.Profile) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.put(t, p)
}

// Get implements profile.Store.
func (s *Store) Get(_ context.Context, t tenant.Tenant, id profile.Identity) (profile.Profile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key, ok := s.resolve(t, id)
	if !ok {
		return profile.Profile{}, notFound("profile")
	}
	return s.read(key), nil
}

// BatchGet implements profile.Store.
func (s *Store) BatchGet(_ context.Context, t tenant.Tenant, ids []profile.Identity) (map[profile.Identity]profile.Profile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[profile.Identity]profile.Profile, len(ids))
	for _, id := range ids {
		if key, ok := s.resolve(t, id); ok {
			out[id] = s.read(key)
		}
	}
	return out, nil
}

// CreateIfAbsent implements profile.Store.
func (s *Store) CreateIfAbsent(_ context.Context, t tenant.Tenant, p profile.Profile) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.resolve(t, p.Identity()); ok {
		return nil
	}
	// As in DynamoDB: an identity of another profile means it exists;
	// nothing is stored and that is no error.
	if err := s.put(t, p); err != nil && !derrors.Is(err, derrors.Conflict) {
		return err
	}
	return nil
}

// Update implements profile.Store.
func (s *Store) Update(_ context.Context, t tenant.Tenant, id profile.Identity, fn func(*profile.Profile) error) (profile.Profile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key, ok := s.resolve(t, id)
	if !ok {
		return profile.Profile{}, notFound("profile")
	}
	p := s.read(key)
	old := p.UpdatedAt
	if err := fn(&p); err != nil {
		return profile.Profile{}, err
	}
	if !p.UpdatedAt.After(old) {
		p.UpdatedAt = old.Add(time.Nanosecond)
	}
	if err := s.put(t, p); err != nil {
		return profile.Profile{}, err
	}
	return p, nil
}

// Delete implements profile.Store.
func (s *Store) Delete(_ context.Context, t tenant.Tenant, id profile.Identity) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	key, ok := s.resolve(t, id)
	if !ok {
		return notFound("profile")
	}
	p := s.profiles[key]
	for _, id := range p.AllIdentities()[1:] {
		delete(s.aliases, pkey(t, id))
	}
	for _, d := range p.Devices {
		if o, ok := s.endpoints[d.EndpointARN]; ok && o.Tenant == t && o.Namespace == p.Namespace && o.ProfileID == p.ID {
			delete(s.endpoints, d.EndpointARN)
		}
	}
	delete(s.profiles, key)
	return nil
}

// PutBatch implements profile.Store.
func (s *Store) PutBatch(_ context.Context, t tenant.Tenant, ps []profile.Profile) []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = s.put(t, p)
	}
	return errs
}

// Profiles returns the number of stored profiles.
func (s *Store) Profiles() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.profiles)
}
