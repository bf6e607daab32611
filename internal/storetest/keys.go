package storetest

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/derrors"
)

// Keys runs the auth.KeyStore contract; newStore returns a fresh, empty
// store.
func Keys(t *testing.T, newStore func(t *testing.T) auth.KeyStore) {
	ctx := context.Background()
	key := auth.Key{ID: "hk_1", Tenant: acme, Scopes: []auth.Scope{auth.ScopeTrigger, auth.ScopeRead}, CreatedAt: t0}
	rival := auth.Key{ID: "hk_2", Tenant: other, Scopes: []auth.Scope{auth.ScopeManage}, CreatedAt: t0.Add(1)}

	tests := []struct {
		name string
		puts []auth.Key // stored under "h1", in order
		want []derrors.Kind
		get  string
		key  auth.Key
		kind derrors.Kind
	}{
		{name: "a stored key is found by the hash of its secret", puts: []auth.Key{key}, want: []derrors.Kind{noError},
			get: "h1", key: key, kind: noError},
		{name: "another hash finds nothing", puts: []auth.Key{key}, want: []derrors.Kind{noError},
			get: "h2", kind: derrors.NotFound},
		{name: "an empty store finds nothing", get: "h1", kind: derrors.NotFound},
		{name: "a hash is taken once and keeps its first key", puts: []auth.Key{key, rival}, want: []derrors.Kind{noError, derrors.Conflict},
			get: "h1", key: key, kind: noError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			for i, k := range tt.puts {
				wantKind(t, "PutKey("+k.ID+")", s.PutKey(ctx, "h1", k), tt.want[i])
			}
			got, err := s.GetKey(ctx, tt.get)
			wantKind(t, "GetKey", err, tt.kind)
			if diff := cmp.Diff(tt.key, got); diff != "" {
				t.Errorf("GetKey (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("a stored key is a copy of the caller's", func(t *testing.T) {
		s := newStore(t)
		k := key
		k.Scopes = []auth.Scope{auth.ScopeTrigger}
		if err := s.PutKey(ctx, "h1", k); err != nil {
			t.Fatal(err)
		}
		k.Scopes[0] = auth.ScopeManage
		got, err := s.GetKey(ctx, "h1")
		if err != nil {
			t.Fatal(err)
		}
		got.Scopes[0] = auth.ScopeRead
		again, err := s.GetKey(ctx, "h1")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]auth.Scope{auth.ScopeTrigger}, again.Scopes); diff != "" {
			t.Errorf("scopes after the caller changed its copies (-want +got):\n%s", diff)
		}
	})
}

// KeysByID runs the contract of what a key store does by key id: find,
// list, rotate and revoke; newStore returns a fresh, empty store.
func KeysByID(t *testing.T, newStore func(t *testing.T) auth.KeyStore) {
	ctx := context.Background()
	key := auth.Key{ID: "hk_1", Tenant: acme, Scopes: []auth.Scope{auth.ScopeTrigger, auth.ScopeRead}, CreatedAt: t0}
	rival := auth.Key{ID: "hk_2", Tenant: other, Scopes: []auth.Scope{auth.ScopeManage}, CreatedAt: t0.Add(1)}
	put := func(t *testing.T, s auth.KeyStore, hash string, k auth.Key) {
		t.Helper()
		if err := s.PutKey(ctx, hash, k); err != nil {
			t.Fatalf("PutKey(%s): %v", k.ID, err)
		}
	}
	t.Run("a stored key is found by its id", func(t *testing.T) {
		s := newStore(t)
		put(t, s, "h1", key)
		got, err := s.GetKeyByID(ctx, "hk_1")
		if err != nil || !cmp.Equal(key, got) {
			t.Errorf("GetKeyByID = %+v, %v; want %+v", got, err, key)
		}
		_, err = s.GetKeyByID(ctx, "hk_9")
		wantKind(t, "GetKeyByID(unknown)", err, derrors.NotFound)
		_, err = s.GetKeyByID(ctx, "")
		wantKind(t, "GetKeyByID(empty)", err, derrors.NotFound)
	})
	t.Run("an id is taken once, whatever the hash", func(t *testing.T) {
		s := newStore(t)
		put(t, s, "h1", key)
		wantKind(t, "PutKey(same id, other hash)", s.PutKey(ctx, "h2", key), derrors.Conflict)
		_, err := s.GetKey(ctx, "h2")
		wantKind(t, "GetKey(h2) after the refused put", err, derrors.NotFound)
	})
	t.Run("keys are listed by id", func(t *testing.T) {
		s := newStore(t)
		put(t, s, "h2", rival)
		put(t, s, "h1", key)
		got, err := s.ListKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]auth.Key{key, rival}, got); diff != "" {
			t.Errorf("ListKeys (-want +got):\n%s", diff)
		}
	})
	t.Run("rotation moves the key to the new hash", func(t *testing.T) {
		s := newStore(t)
		put(t, s, "h1", key)
		put(t, s, "h2", rival)
		if err := s.RotateKey(ctx, "hk_1", "h3"); err != nil {
			t.Fatal(err)
		}
		_, err := s.GetKey(ctx, "h1")
		wantKind(t, "GetKey(old hash)", err, derrors.NotFound)
		if got, err := s.GetKey(ctx, "h3"); err != nil || !cmp.Equal(key, got) {
			t.Errorf("GetKey(new hash) = %+v, %v; want %+v", got, err, key)
		}
		if got, err := s.GetKeyByID(ctx, "hk_1"); err != nil || !cmp.Equal(key, got) {
			t.Errorf("GetKeyByID after rotation = %+v, %v", got, err)
		}
		wantKind(t, "RotateKey(onto another key's hash)", s.RotateKey(ctx, "hk_1", "h2"), derrors.Conflict)
		if got, err := s.GetKey(ctx, "h2"); err != nil || got.ID != "hk_2" {
			t.Errorf("the rival's hash after a refused rotation = %+v, %v", got, err)
		}
		wantKind(t, "RotateKey(unknown)", s.RotateKey(ctx, "hk_9", "h4"), derrors.NotFound)
		// Rotating again works from the new hash.
		if err := s.RotateKey(ctx, "hk_1", "h5"); err != nil {
			t.Fatal(err)
		}
		_, err = s.GetKey(ctx, "h3")
		wantKind(t, "GetKey(second old hash)", err, derrors.NotFound)
	})
	t.Run("revocation removes the key by hash and by id", func(t *testing.T) {
		s := newStore(t)
		put(t, s, "h1", key)
		put(t, s, "h2", rival)
		if err := s.RevokeKey(ctx, "hk_1"); err != nil {
			t.Fatal(err)
		}
		_, err := s.GetKey(ctx, "h1")
		wantKind(t, "GetKey after revocation", err, derrors.NotFound)
		_, err = s.GetKeyByID(ctx, "hk_1")
		wantKind(t, "GetKeyByID after revocation", err, derrors.NotFound)
		wantKind(t, "RevokeKey again", s.RevokeKey(ctx, "hk_1"), derrors.NotFound)
		if got, err := s.ListKeys(ctx); err != nil || len(got) != 1 || got[0].ID != "hk_2" {
			t.Errorf("ListKeys after revocation = %+v, %v; want the rival only", got, err)
		}
	})
}
