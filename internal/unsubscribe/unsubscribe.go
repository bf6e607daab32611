// Package unsubscribe signs and verifies the tokens of one-click
// unsubscribe links (RFC 8058). A token names a tenant, a channel and an
// address and carries an HMAC-SHA256 over them, keyed per tenant from the
// deployment's secret; changing any byte, or presenting a token of
// another deployment, fails verification. Tokens do not expire: an
// unsubscribe link must keep working for as long as the message exists.
package unsubscribe

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"

	"github.com/heraldhq/herald/internal/tenant"
)

// MinSecret is the shortest secret Signer accepts, in bytes.
const MinSecret = 32

// ErrInvalid is returned for a token that is malformed, tampered with or
// signed with another secret.
var ErrInvalid = errors.New("unsubscribe: invalid token")

// Claims are what a token says.
type Claims struct {
	Tenant  tenant.Tenant
	Channel string
	Address string
	// CampaignID is the campaign the message came from (for reporting).
	CampaignID string
}

type payload struct {
	V  int    `json:"v"`
	O  string `json:"o"`
	S  string `json:"s"`
	C  string `json:"c"`
	A  string `json:"a"`
	ID string `json:"id,omitempty"`
}

// Signer makes and checks tokens with one secret.
type Signer struct {
	secret []byte
}

// New returns a signer; the secret must be at least MinSecret bytes.
func New(secret string) (*Signer, error) {
	if len(secret) < MinSecret {
		return nil, errors.New("unsubscribe: the secret must be at least 32 bytes")
	}
	return &Signer{secret: []byte(secret)}, nil
}

// tenantKey derives the tenant's own key, so a token is bound to its
// tenant even before its payload is read.
func (s *Signer) tenantKey(t tenant.Tenant) []byte {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte("herald-unsubscribe-v1\x00" + t.Key()))
	return m.Sum(nil)
}

func (s *Signer) mac(t tenant.Tenant, body string) []byte {
	m := hmac.New(sha256.New, s.tenantKey(t))
	m.Write([]byte(body))
	return m.Sum(nil)
}

// Token returns the URL-safe token for c.
func (s *Signer) Token(c Claims) string {
	b, _ := json.Marshal(payload{V: 1, O: c.Tenant.Org, S: c.Tenant.Sandbox, C: c.Channel, A: c.Address, ID: c.CampaignID})
	body := base64.RawURLEncoding.EncodeToString(b)
	return body + "." + base64.RawURLEncoding.EncodeToString(s.mac(c.Tenant, body))
}

// Verify returns the claims of a genuine token, or ErrInvalid.
func (s *Signer) Verify(token string) (Claims, error) {
	body, sig, ok := strings.Cut(token, ".")
	if !ok || len(token) > 2048 {
		return Claims{}, ErrInvalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return Claims{}, ErrInvalid
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return Claims{}, ErrInvalid
	}
	var p payload
	if err := json.Unmarshal(raw, &p); err != nil || p.V != 1 {
		return Claims{}, ErrInvalid
	}
	t := tenant.Tenant{Org: p.O, Sandbox: p.S}
	if t.Validate() != nil || !hmac.Equal(got, s.mac(t, body)) || p.C == "" || p.A == "" {
		return Claims{}, ErrInvalid
	}
	return Claims{Tenant: t, Channel: p.C, Address: p.A, CampaignID: p.ID}, nil
}
