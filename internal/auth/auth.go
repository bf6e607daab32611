// Package auth holds Herald's API keys and decides who a request comes from.
//
// A key has an id (sent as x-api-key, like an AJO client id), a secret (sent
// as "Authorization: Bearer <secret>", or traded for an access token, see
// Tokens), one tenant (org + sandbox) and a set of scopes. Only the SHA-256 of the secret is stored: the secret is 256
// random bits, so a fast hash is as good as a slow one and lets the
// functions find the key with a single GetItem on the hash.
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

// Principal is who a request comes from, as Authenticate established it.
type Principal struct {
	KeyID  string
	Tenant tenant.Tenant
	Scopes []Scope
}

// Has reports whether the principal carries scope.
func (p Principal) Has(scope Scope) bool { return slices.Contains(p.Scopes, scope) }

// KeyReader finds keys: what authenticating a request needs.
type KeyReader interface {
	// GetKey returns the key whose secret hashes to hash, or a
	// derrors.NotFound error.
	GetKey(ctx context.Context, hash string) (Key, error)
	// GetKeyByID returns the key with that id, or a derrors.NotFound
	// error once it is revoked (or never was). Access tokens name their
	// key by id, so this is what revokes them.
	GetKeyByID(ctx context.Context, id string) (Key, error)
}

// KeyStore stores keys by the hash of their secret and by their id.
type KeyStore interface {
	KeyReader
	// PutKey stores a new key; it returns a derrors.Conflict error if the
	// hash or the id is already taken.
	PutKey(ctx context.Context, hash string, k Key) error
	// ListKeys returns every key, by id.
	ListKeys(ctx context.Context) ([]Key, error)
	// RotateKey gives key id the secret hashing to newHash in place of its
	// current one, which stops authenticating at once; derrors.NotFound
	// for an unknown id.
	RotateKey(ctx context.Context, id, newHash string) error
	// RevokeKey deletes key id: its secret and the access tokens issued
	// for it stop authenticating; derrors.NotFound for an unknown id.
	RevokeKey(ctx context.Context, id string) error
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
	var id [8]byte
	if _, err := rand.Read(id[:]); err != nil {
		return Key{}, "", err
	}
	secret, err := newSecret()
	if err != nil {
		return Key{}, "", err
	}
	k := Key{ID: "hk_" + hex.EncodeToString(id[:]), Tenant: t, Scopes: scopes, CreatedAt: now.UTC()}
	if err := store.PutKey(ctx, HashSecret(secret), k); err != nil {
		return Key{}, "", fmt.Errorf("mint key: %w", err)
	}
	return k, secret, nil
}

// newSecret returns 256 random bits as a key secret.
func newSecret() (string, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	return secretPrefix + base64.RawURLEncoding.EncodeToString(raw[:]), nil
}

// Rotate gives key id a new secret and returns it (shown once); the old
// secret stops authenticating at once (within a container's cache TTL),
// while access tokens already issued for the key stay valid until they
// expire: they name the key, not the secret.
func Rotate(ctx context.Context, store KeyStore, id string) (string, error) {
	secret, err := newSecret()
	if err != nil {
		return "", err
	}
	if err := store.RotateKey(ctx, id, HashSecret(secret)); err != nil {
		return "", fmt.Errorf("rotate key: %w", err)
	}
	return secret, nil
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
	Keys KeyReader
	// Tokens verifies access tokens; nil accepts key secrets only.
	Tokens *Tokens
	// Now is the clock for token lifetimes (nil: the wall clock).
	Now func() time.Time
}

// Authenticate checks the bearer credential and the AJO headers:
//   - the credential is a key secret ("hrld_…") or an access token issued
//     for a key (Tokens.Issue); a missing, malformed, unknown, expired or
//     revoked one is Unauthenticated;
//   - x-api-key, when sent, must be the key's id (Unauthenticated
//     otherwise): for a token, the client id it was issued to;
//   - x-gw-ims-org-id and x-sandbox-name, when sent, must be the key's
//     tenant (Forbidden otherwise: the credential is real but not for there);
//   - a key store (or keyring) that does not answer is Unavailable: the
//     credential may be fine, so the caller is told to retry, not that it
//     is refused.
func (a Authenticator) Authenticate(ctx context.Context, h Headers) (Principal, error) {
	authz := strings.TrimSpace(h["authorization"])
	scheme, secret, ok := strings.Cut(authz, " ")
	if authz == "" {
		return Principal{}, derrors.New(derrors.Unauthenticated, "missing Authorization: Bearer credential")
	}
	secret = strings.TrimSpace(secret)
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return Principal{}, derrors.New(derrors.Unauthenticated, "invalid credential")
	}
	var p Principal
	switch {
	case strings.HasPrefix(secret, secretPrefix) && len(secret) <= 128:
		k, err := a.Keys.GetKey(ctx, HashSecret(secret))
		if derrors.Is(err, derrors.NotFound) {
			return Principal{}, derrors.New(derrors.Unauthenticated, "invalid credential")
		}
		if err != nil {
			return Principal{}, storeUnavailable(err)
		}
		p = Principal{KeyID: k.ID, Tenant: k.Tenant, Scopes: k.Scopes}
	case a.Tokens != nil && IsToken(secret):
		now := time.Now()
		if a.Now != nil {
			now = a.Now()
		}
		c, err := a.Tokens.Verify(ctx, secret, now)
		if err != nil {
			return Principal{}, err
		}
		k, err := a.Keys.GetKeyByID(ctx, c.KeyID)
		if derrors.Is(err, derrors.NotFound) {
			return Principal{}, derrors.New(derrors.Unauthenticated, "the access token's client has been revoked")
		}
		if err != nil {
			return Principal{}, storeUnavailable(err)
		}
		if p, err = c.principal(k); err != nil {
			return Principal{}, err
		}
	default:
		return Principal{}, derrors.New(derrors.Unauthenticated, "invalid credential")
	}
	if v, ok := h["x-api-key"]; ok && v != "" && v != p.KeyID {
		return Principal{}, derrors.New(derrors.Unauthenticated, "x-api-key does not match the credential")
	}
	if v, ok := h["x-gw-ims-org-id"]; ok && v != "" && v != p.Tenant.Org {
		return Principal{}, derrors.New(derrors.Forbidden, "the credential is not valid for org %q", v)
	}
	if v, ok := h["x-sandbox-name"]; ok && v != "" && v != p.Tenant.Sandbox {
		return Principal{}, derrors.New(derrors.Forbidden, "the credential is not valid for sandbox %q", v)
	}
	return p, nil
}
