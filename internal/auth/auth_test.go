package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/tenant"
)

var (
	acme = tenant.Tenant{Org: "acme@AdobeOrg", Sandbox: "prod"}
	now  = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

// mintKey stores a fresh key for acme and returns it with its secret.
func mintKey(t *testing.T, store auth.KeyStore, scopes ...auth.Scope) (auth.Key, string) {
	t.Helper()
	k, secret, err := auth.Mint(context.Background(), store, acme, scopes, now)
	if err != nil {
		t.Fatalf("Mint: %v", err)
	}
	return k, secret
}

func TestAuthenticate(t *testing.T) {
	store := memory.New()
	key, secret := mintKey(t, store, auth.ScopeTrigger, auth.ScopeRead)
	otherSecret := "hrld_" + strings.Repeat("x", 43) // well-formed, never stored
	want := auth.Principal{KeyID: key.ID, Tenant: acme, Scopes: []auth.Scope{auth.ScopeTrigger, auth.ScopeRead}}

	tests := []struct {
		name     string
		headers  auth.Headers
		wantKind derrors.Kind // Internal (zero) means success
	}{
		{"a missing Authorization header is unauthenticated",
			auth.Headers{}, derrors.Unauthenticated},
		{"a blank Authorization header is unauthenticated",
			auth.Headers{"authorization": "   "}, derrors.Unauthenticated},
		{"a Basic credential is unauthenticated",
			auth.Headers{"authorization": "Basic " + secret}, derrors.Unauthenticated},
		{"a scheme without a secret is unauthenticated",
			auth.Headers{"authorization": "Bearer"}, derrors.Unauthenticated},
		{"a secret without the hrld_ prefix is unauthenticated",
			auth.Headers{"authorization": "Bearer " + strings.TrimPrefix(secret, "hrld_")}, derrors.Unauthenticated},
		{"a secret over 128 bytes is unauthenticated",
			auth.Headers{"authorization": "Bearer hrld_" + strings.Repeat("a", 200)}, derrors.Unauthenticated},
		{"an unknown secret is unauthenticated",
			auth.Headers{"authorization": "Bearer " + otherSecret}, derrors.Unauthenticated},
		{"an x-api-key of another key is unauthenticated",
			auth.Headers{"authorization": "Bearer " + secret, "x-api-key": "hk_someoneelse"}, derrors.Unauthenticated},
		{"an org header of another org is forbidden",
			auth.Headers{"authorization": "Bearer " + secret, "x-gw-ims-org-id": "globex@AdobeOrg"}, derrors.Forbidden},
		{"a sandbox header of another sandbox is forbidden",
			auth.Headers{"authorization": "Bearer " + secret, "x-gw-ims-org-id": acme.Org, "x-sandbox-name": "dev"}, derrors.Forbidden},
		{"a bare bearer secret is the key's principal",
			auth.Headers{"authorization": "Bearer " + secret}, 0},
		{"a lower-case scheme with extra spaces is accepted",
			auth.Headers{"authorization": "  bearer   " + secret + " "}, 0},
		{"matching x-api-key, org and sandbox headers are the key's principal",
			auth.Headers{"authorization": "Bearer " + secret, "x-api-key": key.ID,
				"x-gw-ims-org-id": acme.Org, "x-sandbox-name": acme.Sandbox}, 0},
		{"empty AJO headers count as absent",
			auth.Headers{"authorization": "Bearer " + secret, "x-api-key": "", "x-gw-ims-org-id": "", "x-sandbox-name": ""}, 0},
	}
	a := auth.Authenticator{Keys: store}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := a.Authenticate(context.Background(), tt.headers)
			if tt.wantKind != 0 {
				if !derrors.Is(err, tt.wantKind) {
					t.Fatalf("Authenticate() error = %v (kind %d), want kind %d", err, derrors.KindOf(err), tt.wantKind)
				}
				if diff := cmp.Diff(auth.Principal{}, got); diff != "" {
					t.Errorf("Authenticate() returned a principal with its error (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("Authenticate() error = %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Authenticate() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// failingKeys is a key store that is down.
type failingKeys struct{ err error }

func (f failingKeys) GetKey(context.Context, string) (auth.Key, error)     { return auth.Key{}, f.err }
func (f failingKeys) GetKeyByID(context.Context, string) (auth.Key, error) { return auth.Key{}, f.err }

func TestAuthenticateKeyStoreFailureIsUnavailable(t *testing.T) {
	down := errors.New("dynamodb: connection reset")
	a := auth.Authenticator{Keys: failingKeys{err: down}}
	_, err := a.Authenticate(context.Background(), auth.Headers{"authorization": "Bearer hrld_" + strings.Repeat("k", 43)})
	if !errors.Is(err, down) {
		t.Fatalf("Authenticate() error = %v, want it to wrap %v", err, down)
	}
	var de *derrors.Error
	if !errors.As(err, &de) || de.Kind != derrors.Unavailable || de.RetryAfter <= 0 {
		t.Errorf("Authenticate() error = %#v, want Unavailable with a RetryAfter: an outage is not a credential problem", err)
	}
	if strings.Contains(de.Detail, "connection reset") {
		t.Errorf("the caller's detail %q quotes the store's error", de.Detail)
	}
}

// recordingKeys remembers every hash and key it was given.
type recordingKeys struct {
	*memory.Store
	puts map[string]auth.Key
}

func (r *recordingKeys) PutKey(ctx context.Context, hash string, k auth.Key) error {
	r.puts[hash] = k
	return r.Store.PutKey(ctx, hash, k)
}

func TestMintStoresOnlyTheHash(t *testing.T) {
	store := &recordingKeys{Store: memory.New(), puts: map[string]auth.Key{}}
	key, secret := mintKey(t, store, auth.ScopeManage)

	if !strings.HasPrefix(secret, "hrld_") || len(secret) < 40 {
		t.Errorf("Mint secret = %q, want hrld_ and 256 random bits", secret)
	}
	if len(store.puts) != 1 {
		t.Fatalf("Mint stored %d keys, want 1", len(store.puts))
	}
	for hash, k := range store.puts {
		if hash == secret || strings.Contains(hash, strings.TrimPrefix(secret, "hrld_")) {
			t.Errorf("Mint stored the secret itself as the key hash %q", hash)
		}
		if hash != auth.HashSecret(secret) {
			t.Errorf("Mint stored hash %q, want HashSecret(secret) %q", hash, auth.HashSecret(secret))
		}
		if diff := cmp.Diff(key, k); diff != "" {
			t.Errorf("stored key differs from the returned one (-want +got):\n%s", diff)
		}
	}

	got, err := store.GetKey(context.Background(), auth.HashSecret(secret))
	if err != nil {
		t.Fatalf("GetKey(HashSecret(secret)): %v", err)
	}
	want := auth.Key{ID: key.ID, Tenant: acme, Scopes: []auth.Scope{auth.ScopeManage}, CreatedAt: now}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GetKey(HashSecret(secret)) mismatch (-want +got):\n%s", diff)
	}
	if _, err := store.GetKey(context.Background(), secret); !derrors.Is(err, derrors.NotFound) {
		t.Errorf("GetKey(secret) error = %v, want NotFound: the key must only be findable by its hash", err)
	}
}

func TestMintMakesDistinctKeys(t *testing.T) {
	store := memory.New()
	k1, s1 := mintKey(t, store, auth.ScopeRead)
	k2, s2 := mintKey(t, store, auth.ScopeRead)
	if k1.ID == k2.ID || s1 == s2 {
		t.Errorf("two Mint calls gave ids %q, %q and secrets equal=%t; want both distinct", k1.ID, k2.ID, s1 == s2)
	}
}

func TestMintRejectsBadInput(t *testing.T) {
	tests := []struct {
		name   string
		tenant tenant.Tenant
		scopes []auth.Scope
	}{
		{"a tenant with a '#' in its org is refused", tenant.Tenant{Org: "a#b", Sandbox: "prod"}, []auth.Scope{auth.ScopeRead}},
		{"a tenant without a sandbox is refused", tenant.Tenant{Org: "acme"}, []auth.Scope{auth.ScopeRead}},
		{"a key without scopes is refused", acme, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := &recordingKeys{Store: memory.New(), puts: map[string]auth.Key{}}
			if _, _, err := auth.Mint(context.Background(), store, tt.tenant, tt.scopes, now); err == nil {
				t.Error("Mint() error = nil, want an error")
			}
			if len(store.puts) != 0 {
				t.Errorf("Mint() stored %d keys after refusing", len(store.puts))
			}
		})
	}
}

func TestImport(t *testing.T) {
	secret := "hrld_local-demo-secret-0123456789abcdef"
	store := memory.New()
	k1, err := auth.Import(context.Background(), store, acme, []auth.Scope{auth.ScopeTrigger}, secret, now)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	k2, err := auth.Import(context.Background(), store, acme, []auth.Scope{auth.ScopeTrigger}, secret, now)
	if err != nil {
		t.Fatalf("Import again: %v, want the repeat to be harmless", err)
	}
	if k1.ID != k2.ID {
		t.Errorf("Import ids = %q then %q, want the same id for the same secret", k1.ID, k2.ID)
	}
	got, err := auth.Authenticator{Keys: store}.Authenticate(context.Background(), auth.Headers{"authorization": "Bearer " + secret})
	if err != nil {
		t.Fatalf("Authenticate(imported secret): %v", err)
	}
	if got.KeyID != k1.ID {
		t.Errorf("Authenticate(imported secret).KeyID = %q, want %q", got.KeyID, k1.ID)
	}

	for _, bad := range []string{"short", "demo-secret-without-the-prefix-0123456789", "hrld_" + strings.Repeat("x", 124)} {
		if _, err := auth.Import(context.Background(), store, acme, []auth.Scope{auth.ScopeTrigger}, bad, now); err == nil {
			t.Errorf("Import(%q) error = nil, want the secret refused", bad)
		}
	}
}

func TestParseScopes(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []auth.Scope
		wantErr bool
	}{
		{"one scope parses", "trigger", []auth.Scope{auth.ScopeTrigger}, false},
		{"a comma-separated list keeps its order", "read,manage", []auth.Scope{auth.ScopeRead, auth.ScopeManage}, false},
		{"a space-separated list parses", "trigger manage read", []auth.Scope{auth.ScopeTrigger, auth.ScopeManage, auth.ScopeRead}, false},
		{"mixed separators and repeats collapse", " trigger, trigger ,read,,", []auth.Scope{auth.ScopeTrigger, auth.ScopeRead}, false},
		{"an unknown scope is refused", "trigger,admin", nil, true},
		{"scope names are case-sensitive", "Trigger", nil, true},
		{"an empty list is refused", "", nil, true},
		{"separators alone are refused", " , ,", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := auth.ParseScopes(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseScopes(%q) error = %v, wantErr %t", tt.in, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseScopes(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestPrincipalHas(t *testing.T) {
	p := auth.Principal{Scopes: []auth.Scope{auth.ScopeRead}}
	if !p.Has(auth.ScopeRead) || p.Has(auth.ScopeManage) {
		t.Errorf("Principal{read}.Has(read, manage) = %t, %t; want true, false", p.Has(auth.ScopeRead), p.Has(auth.ScopeManage))
	}
}
