// Package profile stores the people Herald sends to: their attributes (used
// for personalization) and identities, per tenant.
//
// A profile is addressed by its primary identity, a (namespace, id) pair
// such as ("email", "jane@example.com") or ("crmId", "42").
package profile

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/address"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/tenant"
)

// MaxAttributesSize bounds a profile's attributes, as JSON.
const MaxAttributesSize = 100 << 10

// Identity names a profile: an identity namespace and the id in it.
type Identity struct {
	Namespace string
	ID        string
}

// Profile is a person's stored data.
type Profile struct {
	Namespace  string            `json:"namespace"`
	ID         string            `json:"id"`
	Attributes map[string]any    `json:"attributes"`
	Identities map[string]string `json:"identities,omitempty"`
	// Consent is marketing consent per channel ("email", "sms", "push"):
	// "y", "n", or empty (consent assumed).
	Consent map[string]string `json:"consent,omitempty"`
	// Devices are the profile's registered push devices.
	Devices []Device `json:"devices,omitempty"`
	// TimeZone is an IANA zone name; Locale a BCP 47 tag.
	TimeZone  string    `json:"timeZone,omitempty"`
	Locale    string    `json:"locale,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Device is a push token registered for one app.
type Device struct {
	AppID    string `json:"appId"`
	Platform string `json:"platform"`
	Token    string `json:"token"`
	// EndpointARN is the SNS platform endpoint created for the token.
	EndpointARN string `json:"endpointArn,omitempty"`
	Enabled     bool   `json:"enabled"`
}

// ConsentsTo reports whether the profile may receive marketing on
// channel: anything but an explicit "n" is consent.
func (p Profile) ConsentsTo(channel string) bool { return p.Consent[channel] != "n" }

// Identity returns the profile's primary identity.
func (p Profile) Identity() Identity { return Identity{p.Namespace, p.ID} }

// Email returns the profile's email address: its "email" identity, else an
// "email" attribute, else the XDM personalEmail.address attribute.
func (p Profile) Email() string {
	if p.Namespace == "email" && address.ValidEmail(p.ID) {
		return p.ID
	}
	if v := p.Identities["email"]; v != "" {
		return v
	}
	if v, ok := p.Attributes["email"].(string); ok {
		return v
	}
	if pe, ok := p.Attributes["personalEmail"].(map[string]any); ok {
		if v, ok := pe["address"].(string); ok {
			return v
		}
	}
	return ""
}

// Store persists profiles per tenant.
type Store interface {
	// Put creates or replaces a profile.
	Put(ctx context.Context, t tenant.Tenant, p Profile) error
	// Get returns a profile or derrors.NotFound.
	Get(ctx context.Context, t tenant.Tenant, id Identity) (Profile, error)
	// BatchGet returns the profiles that exist among ids (any number of
	// ids; the store chunks to its limits).
	BatchGet(ctx context.Context, t tenant.Tenant, ids []Identity) (map[Identity]Profile, error)
	// CreateIfAbsent stores p unless a profile with its identity exists;
	// an existing one is left untouched and is not an error.
	CreateIfAbsent(ctx context.Context, t tenant.Tenant, p Profile) error
}

// Input is the body of PUT /profiles/{namespace}/{id}.
type Input struct {
	Attributes map[string]any    `json:"attributes"`
	Identities map[string]string `json:"identities"`
}

// Service upserts and reads profiles.
type Service struct {
	Store Store
	Now   func() time.Time
}

// Upsert validates and stores a profile, keeping its creation time.
func (s *Service) Upsert(ctx context.Context, t tenant.Tenant, id Identity, in Input) (Profile, error) {
	var f derrors.Fields
	ValidateIdentity(&f, "", id)
	if b, _ := json.Marshal(in.Attributes); len(b) > MaxAttributesSize {
		f.Add("attributes", "must be at most %d bytes of JSON", MaxAttributesSize)
	}
	if len(in.Identities) > 20 {
		f.Add("identities", "must have at most 20 identities")
	}
	for ns, v := range in.Identities {
		ValidateIdentity(&f, "identities."+ns, Identity{ns, v})
	}
	if err := f.Err(); err != nil {
		return Profile{}, err
	}
	now := time.Now().UTC()
	if s.Now != nil {
		now = s.Now().UTC()
	}
	p := Profile{Namespace: id.Namespace, ID: id.ID, Attributes: in.Attributes, Identities: in.Identities, CreatedAt: now, UpdatedAt: now}
	if p.Attributes == nil {
		p.Attributes = map[string]any{}
	}
	old, err := s.Store.Get(ctx, t, id)
	switch {
	case err == nil:
		p.CreatedAt = old.CreatedAt
	case !derrors.Is(err, derrors.NotFound):
		return Profile{}, fmt.Errorf("upsert profile: %w", err)
	}
	if err := s.Store.Put(ctx, t, p); err != nil {
		return Profile{}, fmt.Errorf("upsert profile: %w", err)
	}
	return p, nil
}

// Get returns a profile.
func (s *Service) Get(ctx context.Context, t tenant.Tenant, id Identity) (Profile, error) {
	var f derrors.Fields
	ValidateIdentity(&f, "", id)
	if err := f.Err(); err != nil {
		return Profile{}, err
	}
	return s.Store.Get(ctx, t, id)
}

// ValidateIdentity checks a namespace (1-64 of letters, digits, _ and -)
// and an id (1-256 bytes, no control characters), and that an id in the
// "email" namespace is an email address. prefix is the field path.
func ValidateIdentity(f *derrors.Fields, prefix string, id Identity) {
	ns, idf := "namespace", "id"
	if prefix != "" {
		ns, idf = prefix, prefix
	}
	if !ValidNamespace(id.Namespace) {
		f.Add(ns, "namespace must be 1-64 of letters, digits, '_' and '-'")
	}
	switch {
	case id.ID == "" || len(id.ID) > 256:
		f.Add(idf, "must be 1-256 bytes")
	case hasControl(id.ID):
		f.Add(idf, "must not contain control characters")
	case id.Namespace == "email" && !address.ValidEmail(id.ID):
		f.Add(idf, "must be an email address in the email namespace")
	}
}

// ValidNamespace reports whether s is a usable identity namespace: 1-64
// of ASCII letters, digits, '_' and '-'.
func ValidNamespace(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}
