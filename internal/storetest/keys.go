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
