// Package auth holds Herald's API keys and decides who a request comes from.
//
// A key has an id (sent as x-api-key, like an AJO client id), a secret (sent
// as "Authorization: Bearer <secret>"), one tenant (org + sandbox) and a set
// of scopes. Only the SHA-256 of the secret is stored: the secret is 256
// random bits, so a fast hash is as good as a slow one and lets the
// authorizer find the key with a single GetItem on the hash.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/tenant"
)

// Scope is a permission a key carries.
type Scope string

// The scopes of the API.
const (
	ScopeTrigger Scope = "trigger" // the execution API (/im/*)
	ScopeManage  Scope = "manage"  // create and change campaigns, configurations, profiles
	ScopeRead    Scope = "read"    // read them
)

// ParseScopes parses a comma- or space-separated scope list, rejecting
// unknown names and empty lists.
func ParseScopes(s string) ([]Scope, error) {
	var out []Scope
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		sc := Scope(f)
		switch sc {
		case ScopeTrigger, ScopeManage, ScopeRead:
		default:
			return nil, fmt.Errorf("unknown scope %q (want trigger, manage or read)", f)
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no scopes given")
	}
	return out, nil
}

// Key is a stored API key, without its secret.
type Key struct {
	ID        string
	Tenant    tenant.Tenant
	Scopes    []Scope
	CreatedAt time.Time
}

// Principal is who a request comes from, as the authorizer established it.
type Principal struct {
	KeyID  string
	Tenant tenant.Tenant
	Scopes []Scope
}

// Has reports whether the principal carries scope.
func (p Principal) Has(scope Scope) bool { return slices.Contains(p.Scopes, scope) }

// KeyStore stores keys by the hash of their secret.
type KeyStore interface {
	// GetKey returns the key whose secret hashes to hash, or a
	// derrors.NotFound error.
	GetKey(ctx context.Context, hash string) (Key, error)
	// PutKey stores a new key; it returns a derrors.Conflict error if the
	// hash is already taken.
	PutKey(ctx context.Context, hash string, k Key) error
}

const secretPrefix = "hrld_"

// HashSecret returns the hex SHA-256 of a secret, the only form stored.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Mint creates a key for t with the given scopes, stores its hash and
// returns the key and its secret. The secret is shown once and never stored.
func Mint(ctx context.Context, store KeyStore, t tenant.Tenant, scopes []Scope, now time.Time) (Key, string, error) {
	if err := t.Validate(); err != nil {
		return Key{}, "", err
	}
	if len(scopes) == 0 {
		return Key{}, "", fmt.Errorf("mint key: no scopes")
	}
	var raw [32]byte
	var id [8]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return Key{}, "", err
	}
	if _, err := rand.Read(id[:]); err != nil {
		return Key{}, "", err
	}
	secret := secretPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	k := Key{ID: "hk_" + hex.EncodeToString(id[:]), Tenant: t, Scopes: scopes, CreatedAt: now.UTC()}
	if err := store.PutKey(ctx, HashSecret(secret), k); err != nil {
		return Key{}, "", fmt.Errorf("mint key: %w", err)
	}
	return k, secret, nil
}

// Import stores a key for a secret chosen by the caller. The local runner
// uses it for its well-known demo secret; anything facing the internet
// must use Mint. The secret must start with "hrld_" and be 32-128 bytes.
func Import(ctx context.Context, store KeyStore, t tenant.Tenant, scopes []Scope, secret string, now time.Time) (Key, error) {
	if err := t.Validate(); err != nil {
		return Key{}, err
	}
	if !strings.HasPrefix(secret, secretPrefix) || len(secret) < 32 || len(secret) > 128 {
		return Key{}, fmt.Errorf("import key: secret must start with %q and be 32-128 bytes", secretPrefix)
	}
	if len(scopes) == 0 {
		return Key{}, fmt.Errorf("import key: no scopes")
	}
	k := Key{ID: ImportedKeyID(secret), Tenant: t, Scopes: scopes, CreatedAt: now.UTC()}
	if err := store.PutKey(ctx, HashSecret(secret), k); err != nil && !derrors.Is(err, derrors.Conflict) {
		return Key{}, fmt.Errorf("import key: %w", err)
	}
	return k, nil
}

// ImportedKeyID is the id Import gives the key of secret. It is derived
// from the secret, so that importing it again finds the same key, and a
// tool that knows the secret (the local runner) knows the id.
func ImportedKeyID(secret string) string {
	sum := sha256.Sum256([]byte("id:" + secret))
	return "hk_" + hex.EncodeToString(sum[:8])
}

// Headers are the request headers the decision uses, with lower-case names
// as API Gateway's payload 2.0 delivers them.
type Headers map[string]string

// Authenticator turns request headers into a Principal.
type Authenticator struct {
	Keys KeyStore
}

// Authenticate checks the bearer secret and the AJO headers:
//   - a missing, malformed or unknown secret is Unauthenticated;
//   - x-api-key, when sent, must be the key's id (Unauthenticated otherwise);
//   - x-gw-ims-org-id and x-sandbox-name, when sent, must be the key's
//     tenant (Forbidden otherwise: the credential is real but not for there).
func (a Authenticator) Authenticate(ctx context.Context, h Headers) (Principal, error) {
	authz := strings.TrimSpace(h["authorization"])
	scheme, secret, ok := strings.Cut(authz, " ")
	if authz == "" {
		return Principal{}, derrors.New(derrors.Unauthenticated, "missing Authorization: Bearer credential")
	}
	secret = strings.TrimSpace(secret)
	if !ok || !strings.EqualFold(scheme, "bearer") || !strings.HasPrefix(secret, secretPrefix) || len(secret) > 128 {
		return Principal{}, derrors.New(derrors.Unauthenticated, "invalid credential")
	}
	k, err := a.Keys.GetKey(ctx, HashSecret(secret))
	if derrors.Is(err, derrors.NotFound) {
		return Principal{}, derrors.New(derrors.Unauthenticated, "invalid credential")
	}
	if err != nil {
		return Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	if v, ok := h["x-api-key"]; ok && v != "" && v != k.ID {
		return Principal{}, derrors.New(derrors.Unauthenticated, "x-api-key does not match the credential")
	}
	if v, ok := h["x-gw-ims-org-id"]; ok && v != "" && v != k.Tenant.Org {
		return Principal{}, derrors.New(derrors.Forbidden, "the credential is not valid for org %q", v)
	}
	if v, ok := h["x-sandbox-name"]; ok && v != "" && v != k.Tenant.Sandbox {
		return Principal{}, derrors.New(derrors.Forbidden, "the credential is not valid for sandbox %q", v)
	}
	return Principal{KeyID: k.ID, Tenant: k.Tenant, Scopes: k.Scopes}, nil
}
