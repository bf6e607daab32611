// Package profile stores the people Herald sends to: their attributes (used
// for personalization), identities, push devices, marketing consent, time
// zone and locale, per tenant.
//
// A profile is addressed by its primary identity, a (namespace, id) pair
// such as ("email", "jane@example.com") or ("crmId", "42"). Its other
// identities (Identities, one id per namespace) find the same profile:
// every read by identity accepts any of them, and an identity belongs to
// at most one profile of a tenant.
package profile

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/internal/address"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/push"
	"github.com/heraldhq/herald/internal/tenant"
	"github.com/heraldhq/herald/internal/zone"
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
	// EndpointARN is the SNS platform endpoint Herald created for the
	// token (CreatePlatformEndpoint). It is Herald's own: no request sets
	// it, the API never shows it (Public), and Dispatch publishes to it
	// only while it is an endpoint of the platform application the
	// campaign's configuration names. It is stored as heraldEndpointArn:
	// the endpointArn of profiles stored before, which a client may have
	// set to anything, is never read, so those endpoints are made again
	// from the token.
	EndpointARN string `json:"heraldEndpointArn,omitempty"`
	Enabled     bool   `json:"enabled"`
}

// Public returns the profile as the API shows it: without the endpoint
// ARNs Herald keeps for itself.
func (p Profile) Public() Profile {
	if len(p.Devices) == 0 {
		return p
	}
	p.Devices = slices.Clone(p.Devices)
	for i := range p.Devices {
		p.Devices[i].EndpointARN = ""
	}
	return p
}

// ConsentsTo reports whether the profile may receive marketing on
// channel: anything but an explicit "n" is consent.
func (p Profile) ConsentsTo(channel string) bool { return p.Consent[channel] != "n" }

// Phone returns the profile's mobile number: its "phone" identity, else a
// "phone" attribute, else the XDM mobilePhone.number attribute. It is not
// validated here: Dispatch normalizes it to E.164 with the SMS
// configuration's defaultRegion, or fails the recipient.
func (p Profile) Phone() string {
	if p.Namespace == "phone" {
		return p.ID
	}
	if v := p.Identities["phone"]; v != "" {
		return v
	}
	if v, ok := p.Attributes["phone"].(string); ok {
		return v
	}
	if mp, ok := p.Attributes["mobilePhone"].(map[string]any); ok {
		if v, ok := mp["number"].(string); ok {
			return v
		}
	}
	return ""
}

// AllIdentities returns the primary identity followed by the others,
// sorted by namespace, without duplicates.
func (p Profile) AllIdentities() []Identity {
	out := []Identity{p.Identity()}
	for _, ns := range slices.Sorted(maps.Keys(p.Identities)) {
		if id := (Identity{ns, p.Identities[ns]}); id != p.Identity() && id.ID != "" {
			out = append(out, id)
		}
	}
	return out
}

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

// Store persists profiles per tenant. Every method that takes an Identity
// accepts any identity of the profile, not only its primary one.
type Store interface {
	// Put creates or replaces a profile. It returns derrors.Conflict when
	// one of its identities belongs to another profile.
	Put(ctx context.Context, t tenant.Tenant, p Profile) error
	// Get returns a profile or derrors.NotFound.
	Get(ctx context.Context, t tenant.Tenant, id Identity) (Profile, error)
	// BatchGet returns the profiles that exist among ids, keyed by the
	// identity asked for (any number of ids; the store chunks to its
	// limits).
	BatchGet(ctx context.Context, t tenant.Tenant, ids []Identity) (map[Identity]Profile, error)
	// CreateIfAbsent stores p unless a profile with its identity exists;
	// an existing one is left untouched and is not an error.
	CreateIfAbsent(ctx context.Context, t tenant.Tenant, p Profile) error
	// Update reads the profile, applies fn and writes it back provided
	// nobody changed it in between (it retries a few times otherwise). It
	// returns derrors.NotFound when there is no profile, fn's error when
	// fn fails, derrors.Conflict for an identity of another profile.
	Update(ctx context.Context, t tenant.Tenant, id Identity, fn func(*Profile) error) (Profile, error)
	// Delete removes the profile and all its identities (erasure), and
	// the owner records of its devices' endpoints (delivery.EndpointOwner)
	// that name it; it returns derrors.NotFound when there is none.
	Delete(ctx context.Context, t tenant.Tenant, id Identity) error
	// PutBatch creates or replaces many profiles, chunked to the store's
	// limits; errs[i] is p[i]'s outcome (nil when stored).
	PutBatch(ctx context.Context, t tenant.Tenant, ps []Profile) (errs []error)
}

// Consent values.
const (
	ConsentYes = "y"
	ConsentNo  = "n"
)

// Limits.
const (
	MaxIdentities = 20
	MaxDevices    = 20
	MaxTokenLen   = 4096
	MaxBatch      = 1000
)

// DeviceInput registers a push device. Enabled defaults to true.
type DeviceInput struct {
	AppID    string `json:"appId"`
	Platform string `json:"platform"`
	Token    string `json:"token"`
	Enabled  *bool  `json:"enabled,omitempty"`
	// EndpointARN is refused whatever its value (strictjson "owned"):
	// Herald makes each device's endpoint from its token, under the
	// platform application of the configuration it sends through, and
	// never publishes to an ARN a request names.
	EndpointARN json.RawMessage `json:"endpointArn,omitempty" strictjson:"owned"`
}

// Input is the body of PUT /profiles/{namespace}/{id}: the whole profile.
type Input struct {
	Attributes map[string]any    `json:"attributes"`
	Identities map[string]string `json:"identities"`
	Consent    map[string]string `json:"consent"`
	Devices    []DeviceInput     `json:"devices"`
	TimeZone   string            `json:"timeZone"`
	Locale     string            `json:"locale"`
}

// Patch is the body of PATCH /profiles/{namespace}/{id}. Absent fields
// are left alone. Attributes is a JSON merge patch (RFC 7396: null
// removes a key, objects merge); identities and consent merge per key
// (null removes); devices, when present, replace the list.
type Patch struct {
	Attributes map[string]any     `json:"attributes"`
	Identities map[string]*string `json:"identities"`
	Consent    map[string]*string `json:"consent"`
	Devices    *[]DeviceInput     `json:"devices"`
	TimeZone   *string            `json:"timeZone"`
	Locale     *string            `json:"locale"`
}

// BatchItem is one profile of POST /profiles/batch.
type BatchItem struct {
	Namespace string `json:"namespace"`
	ID        string `json:"id"`
	Input
}

// BatchResult is one profile's outcome in a batch, in request order.
type BatchResult struct {
	Namespace string               `json:"namespace"`
	ID        string               `json:"id"`
	Status    int                  `json:"status"`
	Errors    []derrors.FieldError `json:"errors,omitempty"`
	Detail    string               `json:"detail,omitempty"`
}

// Service upserts, patches, reads and erases profiles.
type Service struct {
	Store Store
	Now   func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// build validates in and returns the profile it describes (timestamps
// unset). prefix is the field path of the item ("" or "profiles[3]").
func build(f *derrors.Fields, prefix string, id Identity, in Input, old []Device) Profile {
	ValidateIdentity(f, join(prefix, ""), id)
	p := Profile{Namespace: id.Namespace, ID: id.ID, Attributes: in.Attributes, Identities: in.Identities,
		Consent: in.Consent, TimeZone: in.TimeZone, Locale: in.Locale}
	if p.Attributes == nil {
		p.Attributes = map[string]any{}
	}
	p.Devices = devices(in.Devices, old)
	validate(f, prefix, p)
	return p
}

// devices turns inputs into devices, keeping the endpoint ARN Herald
// stored for the same app and token.
func devices(in []DeviceInput, old []Device) []Device {
	if in == nil {
		return nil
	}
	out := make([]Device, len(in))
	for i, d := range in {
		out[i] = Device{AppID: d.AppID, Platform: d.Platform, Token: d.Token, Enabled: d.Enabled == nil || *d.Enabled}
		if p, ok := push.ParsePlatform(d.Platform); ok {
			out[i].Platform = p // stored as SNS spells it; anything else is left for validate to name
		}
		for _, o := range old {
			if o.AppID == d.AppID && o.Token == d.Token && out[i].EndpointARN == "" {
				out[i].EndpointARN = o.EndpointARN
			}
		}
	}
	return out
}

func join(prefix, field string) string {
	switch {
	case prefix == "":
		return field
	case field == "":
		return prefix
	}
	return prefix + "." + field
}

var localePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$`) })

// ValidLocale reports whether tag has the shape of a BCP 47 language tag
// ("fr", "fr-CA", "zh-Hant-TW"): what a profile's locale, a campaign's
// content variant and a configuration's default locale must be.
func ValidLocale(tag string) bool { return len(tag) <= 35 && localePattern().MatchString(tag) }

// validate checks everything but the primary identity.
func validate(f *derrors.Fields, prefix string, p Profile) {
	if b, _ := json.Marshal(p.Attributes); len(b) > MaxAttributesSize {
		f.Add(join(prefix, "attributes"), "must be at most %d bytes of JSON", MaxAttributesSize)
	} else {
		CheckAttributes(f, join(prefix, "attributes"), p.Attributes)
	}
	if len(p.Identities) > MaxIdentities {
		f.Add(join(prefix, "identities"), "must have at most %d identities", MaxIdentities)
	}
	for _, ns := range slices.Sorted(maps.Keys(p.Identities)) {
		ValidateIdentity(f, join(prefix, "identities."+ns), Identity{ns, p.Identities[ns]})
	}
	for _, ch := range slices.Sorted(maps.Keys(p.Consent)) {
		switch ch {
		case "email", "sms", "push":
		default:
			f.Add(join(prefix, "consent."+ch), "must be a channel: email, sms or push")
			continue
		}
		switch p.Consent[ch] {
		case ConsentYes, ConsentNo, "":
		default:
			f.Add(join(prefix, "consent."+ch), `must be "y", "n" or "" (consent assumed)`)
		}
	}
	if len(p.Devices) > MaxDevices {
		f.Add(join(prefix, "devices"), "must have at most %d devices", MaxDevices)
	}
	seen := map[[2]string]int{}
	for i, d := range p.Devices {
		fp := join(prefix, fmt.Sprintf("devices[%d]", i))
		if d.AppID == "" || len(d.AppID) > 256 || hasControl(d.AppID) {
			f.Add(fp+".appId", "must be 1-256 bytes with no control characters")
		}
		if _, ok := push.ParsePlatform(d.Platform); !ok {
			f.Add(fp+".platform", "must be %s", push.PlatformSpellings)
		}
		if d.Token == "" || len(d.Token) > MaxTokenLen || hasControl(d.Token) || strings.TrimSpace(d.Token) != d.Token {
			f.Add(fp+".token", "must be 1-%d bytes with no spaces or control characters", MaxTokenLen)
		}
		if j, dup := seen[[2]string{d.AppID, d.Token}]; dup {
			f.Add(fp+".token", "duplicates devices[%d]", j)
		}
		seen[[2]string{d.AppID, d.Token}] = i
	}
	if p.TimeZone != "" {
		if _, err := zone.LoadNamed(p.TimeZone); err != nil {
			f.Add(join(prefix, "timeZone"), "must be an IANA time zone such as Europe/Paris")
		}
	}
	if p.Locale != "" && !ValidLocale(p.Locale) {
		f.Add(join(prefix, "locale"), "must be a BCP 47 language tag such as fr-FR")
	}
}

// Upsert validates and stores a whole profile, keeping its creation time
// and the endpoint ARNs of devices it keeps, and returns it as the API
// shows it (Public). It returns derrors.Conflict when an identity belongs
// to another profile.
func (s *Service) Upsert(ctx context.Context, t tenant.Tenant, id Identity, in Input) (Profile, error) {
	var f derrors.Fields
	ValidateIdentity(&f, "", id)
	if err := f.Err(); err != nil {
		return Profile{}, err
	}
	old, err := s.Store.Get(ctx, t, id)
	exists := err == nil
	switch {
	case derrors.Is(err, derrors.NotFound):
	case err != nil:
		return Profile{}, fmt.Errorf("upsert profile: %w", err)
	case old.Identity() != id:
		// Addressed by a secondary identity: the profile keeps its primary.
		id = old.Identity()
	}
	p := build(&f, "", id, in, old.Devices)
	if err := f.Err(); err != nil {
		return Profile{}, err
	}
	now := s.now()
	p.CreatedAt, p.UpdatedAt = now, now
	if exists {
		p.CreatedAt = old.CreatedAt
		if !now.After(old.UpdatedAt) {
			p.UpdatedAt = old.UpdatedAt.Add(time.Nanosecond)
		}
	}
	if err := s.Store.Put(ctx, t, p); err != nil {
		return Profile{}, fmt.Errorf("upsert profile: %w", err)
	}
	return p.Public(), nil
}

// Patch applies a partial update (see Patch) and returns the profile as
// the API shows it (Public). It returns derrors.NotFound for an unknown
// profile.
func (s *Service) Patch(ctx context.Context, t tenant.Tenant, id Identity, in Patch) (Profile, error) {
	var f derrors.Fields
	ValidateIdentity(&f, "", id)
	if err := f.Err(); err != nil {
		return Profile{}, err
	}
	p, err := s.Store.Update(ctx, t, id, func(p *Profile) error {
		if in.Attributes != nil {
			p.Attributes = MergePatch(p.Attributes, in.Attributes)
		}
		p.Identities = patchMap(p.Identities, in.Identities)
		p.Consent = patchMap(p.Consent, in.Consent)
		if in.Devices != nil {
			p.Devices = devices(*in.Devices, p.Devices)
			if p.Devices == nil {
				p.Devices = []Device{}
			}
		}
		if in.TimeZone != nil {
			p.TimeZone = *in.TimeZone
		}
		if in.Locale != nil {
			p.Locale = *in.Locale
		}
		var f derrors.Fields
		validate(&f, "", *p)
		if err := f.Err(); err != nil {
			return err
		}
		now := s.now()
		if !now.After(p.UpdatedAt) {
			now = p.UpdatedAt.Add(time.Nanosecond)
		}
		p.UpdatedAt = now
		return nil
	})
	if err != nil {
		return Profile{}, err
	}
	return p.Public(), nil
}

func patchMap(m map[string]string, patch map[string]*string) map[string]string {
	if len(patch) == 0 {
		return m
	}
	out := maps.Clone(m)
	if out == nil {
		out = map[string]string{}
	}
	for k, v := range patch {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = *v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// MergePatch applies an RFC 7396 JSON merge patch to an object, without
// modifying either argument.
func MergePatch(target, patch map[string]any) map[string]any {
	out := maps.Clone(target)
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range patch {
		switch pv := v.(type) {
		case nil:
			delete(out, k)
		case map[string]any:
			tv, _ := out[k].(map[string]any)
			out[k] = MergePatch(tv, pv)
		default:
			out[k] = v
		}
	}
	return out
}

// Get returns a profile by any of its identities, as the API shows it
// (Public).
func (s *Service) Get(ctx context.Context, t tenant.Tenant, id Identity) (Profile, error) {
	var f derrors.Fields
	ValidateIdentity(&f, "", id)
	if err := f.Err(); err != nil {
		return Profile{}, err
	}
	p, err := s.Store.Get(ctx, t, id)
	if err != nil {
		return Profile{}, err
	}
	return p.Public(), nil
}

// Delete erases a profile and its identities; later triggers for any of
// them behave as for an unknown profile.
func (s *Service) Delete(ctx context.Context, t tenant.Tenant, id Identity) error {
	var f derrors.Fields
	ValidateIdentity(&f, "", id)
	if err := f.Err(); err != nil {
		return err
	}
	return s.Store.Delete(ctx, t, id)
}

// Batch upserts up to MaxBatch profiles. Invalid items are reported and
// skipped; the others are stored. Results are in request order with an
// HTTP-like status per item: 200 stored; 400 invalid, or refused by the
// store as it is (never worth retrying); 409 identity conflict; 503 the
// store is throttling and 500 it failed, both worth retrying.
func (s *Service) Batch(ctx context.Context, t tenant.Tenant, items []BatchItem) ([]BatchResult, error) {
	switch {
	case items == nil:
		return nil, derrors.Validation(derrors.FieldError{Field: "profiles", Message: "is required"})
	case len(items) == 0 || len(items) > MaxBatch:
		return nil, derrors.Validation(derrors.FieldError{Field: "profiles", Message: fmt.Sprintf("must hold 1 to %d profiles, not %d", MaxBatch, len(items))})
	}
	results := make([]BatchResult, len(items))
	ids := make([]Identity, 0, len(items))
	for _, it := range items {
		ids = append(ids, Identity{it.Namespace, it.ID})
	}
	seen := map[Identity]int{}
	var valid []Profile
	var at []int
	var good []Identity
	for _, id := range ids {
		var f derrors.Fields
		if ValidateIdentity(&f, "", id); len(f) == 0 {
			good = append(good, id)
		}
	}
	olds, err := s.Store.BatchGet(ctx, t, good)
	if err != nil {
		return nil, fmt.Errorf("batch: read profiles: %w", err)
	}
	now := s.now()
	for i, it := range items {
		results[i] = BatchResult{Namespace: it.Namespace, ID: it.ID, Status: 200}
		var f derrors.Fields
		prefix := fmt.Sprintf("profiles[%d]", i)
		old, exists := olds[ids[i]]
		id := ids[i]
		if exists {
			id = old.Identity()
		}
		p := build(&f, prefix, id, it.Input, old.Devices)
		if j, dup := seen[id]; dup {
			f.Add(prefix+".id", "duplicates profiles[%d]", j)
		}
		seen[id] = i
		if len(f) > 0 {
			results[i].Status, results[i].Errors = 400, f
			continue
		}
		p.CreatedAt, p.UpdatedAt = now, now
		if exists {
			p.CreatedAt = old.CreatedAt
			if !now.After(old.UpdatedAt) {
				p.UpdatedAt = old.UpdatedAt.Add(time.Nanosecond)
			}
		}
		valid = append(valid, p)
		at = append(at, i)
	}
	if len(valid) == 0 {
		return results, nil
	}
	for k, err := range s.Store.PutBatch(ctx, t, valid) {
		if err == nil {
			continue
		}
		r := &results[at[k]]
		switch derrors.KindOf(err) {
		case derrors.Conflict:
			r.Status, r.Detail = 409, err.Error()
		case derrors.Invalid, derrors.TooLarge:
			// The store refused the profile itself: a retry cannot succeed.
			r.Status, r.Detail = 400, "the profile cannot be stored as it is; it was not retried"
		case derrors.Throttled:
			r.Status, r.Detail = 503, "the store is busy; retry this profile later"
		default:
			r.Status, r.Detail = 500, "the profile could not be stored; retry it"
		}
	}
	return results, nil
}

// ValidateIdentity checks a namespace (1-64 of letters, digits, _ and -)
// and an id (1-256 bytes, no control characters), that an id in the
// "email" namespace is an email address and one in the "phone" namespace
// shaped as a phone number (address.PhoneShaped: Dispatch normalizes it
// to E.164 with the SMS configuration's default region, and fails the
// recipient it cannot). prefix is the field path.
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
	case id.Namespace == "phone" && !address.PhoneShaped(id.ID):
		f.Add(idf, "must be a phone number (1-%d of digits, spaces and + - ( ) . /) in the phone namespace", address.MaxPhoneLen)
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

// hasControl reports a character that has no place in an identifier or a
// token: C0 and C1 controls, DEL, U+2028 and U+2029, or invalid UTF-8.
func hasControl(s string) bool { return address.HasControl(s) || !utf8.ValidString(s) }
