package auth

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/tenant"
)

// Access tokens, as Adobe IMS issues them to OAuth server-to-server
// clients: a client (an API key: client id = key id, client secret = the
// key's secret) trades its credentials for a bearer token that lives a
// day, and sends it with x-api-key = its client id.
//
// A token is a JWT signed with HMAC-SHA256 (RFC 7519, RFC 7515 compact
// form) by a signing key from a Keyring; its header names the signing key
// (kid), so a rotated keyring still verifies the tokens its previous key
// signed. The token names its key by id and carries the key's tenant and
// scopes; verifying it also looks the key up by id, so a revoked key's
// tokens stop working with it.

// TokenLifetime is how long an access token is valid: a day, as IMS's.
const TokenLifetime = 24 * time.Hour

// tokenIssuer is the iss of every token Herald signs.
const tokenIssuer = "herald"

// maxTokenLen bounds what is parsed as a token; Herald's are ~400 bytes.
const maxTokenLen = 4096

// clockSkew is how far in the future a token's issue time may be.
const clockSkew = 5 * time.Minute

// Keyring holds the keys that sign and verify access tokens.
type Keyring interface {
	// SigningKey returns the current key and its id.
	SigningKey(ctx context.Context) (kid string, key []byte, err error)
	// VerifyingKey returns the key with id kid, current or previous; a
	// derrors.NotFound error when there is none (a token signed by a key
	// rotated out twice, or forged).
	VerifyingKey(ctx context.Context, kid string) ([]byte, error)
}

// StaticKeyring is a keyring of one key, for tests and the local cloud.
type StaticKeyring struct {
	ID  string
	Key []byte
}

// SigningKey implements Keyring.
func (s StaticKeyring) SigningKey(context.Context) (string, []byte, error) { return s.ID, s.Key, nil }

// VerifyingKey implements Keyring.
func (s StaticKeyring) VerifyingKey(_ context.Context, kid string) ([]byte, error) {
	if kid != s.ID {
		return nil, derrors.New(derrors.NotFound, "no signing key %q", kid)
	}
	return s.Key, nil
}

// MinSigningKey is the shortest signing key a keyring may hold (256
// bits, HMAC-SHA256's block of strength).
const MinSigningKey = 32

// tokenHeader is the JOSE header of a token.
type tokenHeader struct {
	Alg string `json:"alg"`
	Typ string `json:"typ"`
	Kid string `json:"kid"`
}

// Claims are what an access token says.
type Claims struct {
	Issuer    string `json:"iss"`
	KeyID     string `json:"sub"`
	ClientID  string `json:"client_id"`
	Org       string `json:"org"`
	Sandbox   string `json:"sandbox"`
	Scope     string `json:"scope"` // space-separated, as RFC 8693 writes it
	IssuedAt  int64  `json:"iat"`
	ExpiresAt int64  `json:"exp"`
	ID        string `json:"jti"`
}

// Token is an issued access token.
type Token struct {
	AccessToken string
	ExpiresIn   time.Duration
}

// Tokens issues and verifies access tokens.
type Tokens struct {
	Keys    KeyReader
	Keyring Keyring
}

// Issue authenticates a client by its id and secret and returns a token
// carrying its key's tenant and scopes. The scopes a client asks for are
// not Herald's to grant (AJO clients send Adobe's list): the token carries
// the key's own. A wrong id or secret is Unauthenticated, with the same
// message either way.
func (t Tokens) Issue(ctx context.Context, clientID, clientSecret string, now time.Time) (Token, error) {
	bad := derrors.New(derrors.Unauthenticated, "invalid client credentials")
	if clientID == "" || !strings.HasPrefix(clientSecret, secretPrefix) || len(clientSecret) > 128 {
		return Token{}, bad
	}
	k, err := t.Keys.GetKey(ctx, HashSecret(clientSecret))
	if derrors.Is(err, derrors.NotFound) {
		return Token{}, bad
	}
	if err != nil {
		return Token{}, storeUnavailable(err)
	}
	if !hmac.Equal([]byte(k.ID), []byte(clientID)) {
		return Token{}, bad
	}
	kid, key, err := t.Keyring.SigningKey(ctx)
	if err != nil {
		return Token{}, derrors.Unavailability(err, 5*time.Second, "the token signing key is unavailable; retry later")
	}
	var jti [12]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return Token{}, err
	}
	scopes := make([]string, len(k.Scopes))
	for i, s := range k.Scopes {
		scopes[i] = string(s)
	}
	c := Claims{Issuer: tokenIssuer, KeyID: k.ID, ClientID: k.ID, Org: k.Tenant.Org, Sandbox: k.Tenant.Sandbox,
		Scope: strings.Join(scopes, " "), IssuedAt: now.Unix(), ExpiresAt: now.Add(TokenLifetime).Unix(),
		ID: hex.EncodeToString(jti[:])}
	tok, err := sign(tokenHeader{Alg: "HS256", Typ: "JWT", Kid: kid}, c, key)
	if err != nil {
		return Token{}, err
	}
	return Token{AccessToken: tok, ExpiresIn: TokenLifetime}, nil
}

var b64 = base64.RawURLEncoding

func sign(h tokenHeader, c Claims, key []byte) (string, error) {
	hb, err := json.Marshal(h)
	if err != nil {
		return "", err
	}
	cb, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	signed := b64.EncodeToString(hb) + "." + b64.EncodeToString(cb)
	return signed + "." + b64.EncodeToString(mac(key, signed)), nil
}

func mac(key []byte, signed string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(signed))
	return m.Sum(nil)
}

// IsToken reports whether a bearer credential has a token's form (three
// base64url parts), as opposed to a key secret.
func IsToken(s string) bool {
	return len(s) <= maxTokenLen && strings.Count(s, ".") == 2 && !strings.HasPrefix(s, secretPrefix)
}

// Verify checks a token's signature, issuer and lifetime and returns its
// claims. It does not look the key up (Authenticate does). Every way a
// token can be wrong is Unauthenticated, without saying which (the
// message names expiry, which a client acts on by fetching a new token);
// a keyring that cannot be read is Unavailable.
func (t Tokens) Verify(ctx context.Context, token string, now time.Time) (Claims, error) {
	bad := derrors.New(derrors.Unauthenticated, "invalid access token")
	if !IsToken(token) {
		return Claims{}, bad
	}
	head, rest, _ := strings.Cut(token, ".")
	payload, sig, _ := strings.Cut(rest, ".")
	var h tokenHeader
	if err := decodePart(head, &h); err != nil || h.Alg != "HS256" || h.Kid == "" {
		return Claims{}, bad
	}
	key, err := t.Keyring.VerifyingKey(ctx, h.Kid)
	if derrors.Is(err, derrors.NotFound) {
		return Claims{}, bad
	}
	if err != nil {
		return Claims{}, derrors.Unavailability(err, 5*time.Second, "the token signing key is unavailable; retry later")
	}
	got, err := b64.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac(key, head+"."+payload)) {
		return Claims{}, bad
	}
	var c Claims
	if err := decodePart(payload, &c); err != nil || c.Issuer != tokenIssuer || c.KeyID == "" {
		return Claims{}, bad
	}
	switch {
	case now.Unix() >= c.ExpiresAt:
		return Claims{}, derrors.New(derrors.Unauthenticated, "the access token has expired")
	case time.Unix(c.IssuedAt, 0).After(now.Add(clockSkew)):
		return Claims{}, bad
	}
	return c, nil
}

func decodePart(part string, v any) error {
	b, err := b64.DecodeString(part)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// principal is who a verified token speaks for: its key as stored now,
// which must still exist and hold the token's tenant, with the scopes the
// token carries that the key still has.
func (c Claims) principal(k Key) (Principal, error) {
	if k.ID != c.KeyID || k.Tenant != (tenant.Tenant{Org: c.Org, Sandbox: c.Sandbox}) {
		return Principal{}, derrors.New(derrors.Unauthenticated, "invalid access token")
	}
	p := Principal{KeyID: k.ID, Tenant: k.Tenant}
	for _, f := range strings.Fields(c.Scope) {
		if s := Scope(f); slices.Contains(k.Scopes, s) && !slices.Contains(p.Scopes, s) {
			p.Scopes = append(p.Scopes, s)
		}
	}
	return p, nil
}

// storeUnavailable is the error for a key store that did not answer: a
// 503 to retry, never a 401 or 403 (the credential may be fine).
func storeUnavailable(err error) error {
	return derrors.Unavailability(fmt.Errorf("key store: %w", err), 2*time.Second, "credentials cannot be checked right now; retry later")
}
