package memory

import (
	"context"
	"encoding/base64"
	"slices"
	"strings"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/suppression"
	"github.com/heraldhq/herald/internal/tenant"
)

var (
	_ suppression.Store     = (*Store)(nil)
	_ delivery.Suppressions = (*Store)(nil)
)

func skey(t tenant.Tenant, ch suppression.Channel, addr string) string { return k(t, string(ch), addr) }

// PutSuppression implements suppression.Store.
func (s *Store) PutSuppression(_ context.Context, t tenant.Tenant, e suppression.Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.suppressions[skey(t, e.Channel, e.Address)] = e
	return nil
}

// AddSuppression implements suppression.Store.
func (s *Store) AddSuppression(_ context.Context, t tenant.Tenant, e suppression.Entry) (suppression.Entry, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.suppressions[skey(t, e.Channel, e.Address)]; ok {
		return old, false, nil
	}
	s.suppressions[skey(t, e.Channel, e.Address)] = e
	return e, true, nil
}

// GetSuppression implements suppression.Store and delivery.Suppressions.
func (s *Store) GetSuppression(_ context.Context, t tenant.Tenant, ch suppression.Channel, addr string) (suppression.Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.suppressions[skey(t, ch, addr)]
	if !ok {
		return e, notFound("suppression")
	}
	return e, nil
}

// GetSuppressions implements delivery.Suppressions.
func (s *Store) GetSuppressions(_ context.Context, t tenant.Tenant, ch suppression.Channel, addrs []string) (map[string]suppression.Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]suppression.Entry{}
	for _, a := range addrs {
		if e, ok := s.suppressions[skey(t, ch, a)]; ok {
			out[a] = e
		}
	}
	return out, nil
}

// DeleteSuppression implements suppression.Store.
func (s *Store) DeleteSuppression(_ context.Context, t tenant.Tenant, ch suppression.Channel, addr string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.suppressions[skey(t, ch, addr)]; !ok {
		return notFound("suppression")
	}
	delete(s.suppressions, skey(t, ch, addr))
	return nil
}

// ListSuppressions implements suppression.Store; the cursor is the
// base64 of the last key returned, as in the DynamoDB store.
func (s *Store) ListSuppressions(_ context.Context, t tenant.Tenant, ch suppression.Channel, limit int, cursor string) (suppression.Page, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	after := ""
	if cursor != "" {
		// As in DynamoDB, a cursor of one channel's list continues no
		// other channel's.
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || ch != "" && !strings.HasPrefix(string(b), string(ch)+"#") {
			return suppression.Page{}, derrors.Validation(derrors.FieldError{Field: "cursor", Message: "is not a cursor this API returned"})
		}
		after = string(b)
	}
	var keys []string
	entries := map[string]suppression.Entry{}
	prefix := k(t) + "#"
	for key, e := range s.suppressions {
		if !strings.HasPrefix(key, prefix) || ch != "" && e.Channel != ch {
			continue
		}
		if sk := string(e.Channel) + "#" + e.Address; sk > after {
			keys = append(keys, sk)
			entries[sk] = e
		}
	}
	slices.Sort(keys)
	var p suppression.Page
	for i, sk := range keys {
		if i == limit {
			p.Next = base64.RawURLEncoding.EncodeToString([]byte(keys[i-1]))
			break
		}
		p.Items = append(p.Items, entries[sk])
	}
	return p, nil
}
