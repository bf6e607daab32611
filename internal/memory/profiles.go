package memory

import (
	"context"
	"encoding/json"
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
	doc, err := json.Marshal(p)
	if err != nil {
		panic(err)
	}
	s.profileDocs[me] = doc
	s.profiles[me] = s.read(me)
	return nil
}

// read decodes the stored profile at key, as a database's read decodes
// what it stored: callers never share maps with the store, and the
// profile is not encoded again for each read (clone would).
func (s *Store) read(key string) profile.Profile {
	var p profile.Profile
	if err := json.Unmarshal(s.profileDocs[key], &p); err != nil {
		panic(err)
	}
	return p
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
	delete(s.profileDocs, key)
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
