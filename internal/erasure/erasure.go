// Package erasure erases a person: every row of the table that carries
// one of their identities or addresses is removed or pseudonymised, and
// what must stay (the suppression list, whose address is what suppresses)
// is kept and counted (docs/operations.md#erasure).
//
// A person is named by a profile identity (DELETE /profiles/{namespace}/{id},
// POST /erasures {namespace, id}) or by an address (POST /erasures
// {channel, address}) for a recipient who never had a profile. A profile
// found either way contributes all its identities and addresses.
package erasure

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/suppression"
	"github.com/heraldhq/herald/internal/tenant"
)

// Kinds of rows an erasure counts (the keys of Result's maps).
const (
	Profiles            = "profiles"
	LedgerEntries       = "ledgerEntries"
	RecipientLists      = "recipientLists"
	AudienceMemberships = "audienceMemberships"
	WebhookDeliveries   = "webhookDeliveries"
	SoftBounces         = "softBounces"
	ParkedRecipients    = "parkedRecipients"
	// FrequencyCapCounters are a profile's frequency cap counters, one
	// per channel (package capping).
	FrequencyCapCounters = "frequencyCapCounters"
	Suppressions         = "suppressions"
)

// Address is an address of a channel with a suppression list.
type Address struct {
	Channel suppression.Channel `json:"channel"`
	Address string              `json:"address"`
}

// Subject is everything a person is known by in a tenant.
type Subject struct {
	Identities []profile.Identity
	Addresses  []Address
}

// Request is an erasure by identity (Namespace and ID) or by address
// (Channel and Address), never both.
type Request struct {
	Namespace string              `json:"namespace,omitempty"`
	ID        string              `json:"id,omitempty"`
	Channel   suppression.Channel `json:"channel,omitempty"`
	Address   string              `json:"address,omitempty"`
}

// Result says what an erasure did, as counts of rows per kind: removed
// (Erased), rewritten without the person's identity (Pseudonymised), and
// kept on purpose (Kept). A repeated erasure finds nothing more to do.
type Result struct {
	Erased        map[string]int `json:"erased"`
	Pseudonymised map[string]int `json:"pseudonymised"`
	Kept          map[string]int `json:"kept"`
}

// NewResult returns a Result with every kind at zero.
func NewResult() Result {
	return Result{Erased: map[string]int{Profiles: 0, LedgerEntries: 0, RecipientLists: 0, AudienceMemberships: 0, WebhookDeliveries: 0,
		SoftBounces: 0, ParkedRecipients: 0, FrequencyCapCounters: 0}, Pseudonymised: map[string]int{LedgerEntries: 0}, Kept: map[string]int{Suppressions: 0}}
}

// Store erases a subject's rows other than its profile.
type Store interface {
	// EraseSubject removes or pseudonymises every row carrying one of s's
	// identities or addresses, adding the counts to r; a ledger entry's
	// userId becomes pseudonym(identity). Rows already erased are not
	// found again, so a repeat adds nothing.
	EraseSubject(ctx context.Context, t tenant.Tenant, s Subject, pseudonym func(profile.Identity) string, r *Result) error
}

// ProfileStore reads and deletes profiles (profile.Store's part erasure uses).
type ProfileStore interface {
	// Get returns the profile with identity id, or derrors.NotFound.
	Get(ctx context.Context, t tenant.Tenant, id profile.Identity) (profile.Profile, error)
	// Delete deletes the profile, its identities and its endpoint owners;
	// derrors.NotFound if there is none.
	Delete(ctx context.Context, t tenant.Tenant, id profile.Identity) error
}

// Service erases people.
type Service struct {
	Profiles ProfileStore
	Store    Store
	// Key keys the pseudonyms of erased identities (Pseudonymizer).
	Key []byte
}

// Pseudonymizer derives the erasure key from the deployment's secret
// (the unsubscribe secret): a domain-separated HMAC, so the secret itself
// keys nothing else's hashes.
func Pseudonymizer(secret string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("herald erasure pseudonym v1"))
	return m.Sum(nil)
}

// Pseudonym is the stable, keyed stand-in for an identity in a tenant:
// "erased-" and 22 base64url characters. The same identity always gets
// the same pseudonym (counts per recipient stay right), which nobody
// without the key can link back to it.
func (s *Service) Pseudonym(t tenant.Tenant, id profile.Identity) string {
	m := hmac.New(sha256.New, s.Key)
	m.Write([]byte(t.Key() + "\x00" + id.Namespace + "\x00" + id.ID))
	return "erased-" + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// EraseProfile erases the person with identity id: the profile if there
// is one, and every row carrying id (or the profile's other identities
// and addresses). Erasing someone never seen is no error: the answer
// counts nothing.
func (s *Service) EraseProfile(ctx context.Context, t tenant.Tenant, id profile.Identity) (Result, error) {
	var f derrors.Fields
	profile.ValidateIdentity(&f, "", id)
	if err := f.Err(); err != nil {
		return Result{}, err
	}
	sub := Subject{Identities: []profile.Identity{id}}
	// An identity that is an address (email/<address>, phone/<number>)
	// is also that address, profile or not.
	for ch, ns := range map[suppression.Channel]string{suppression.Email: "email", suppression.SMS: "phone"} {
		if id.Namespace == ns {
			if a, err := suppression.Normalize(ch, id.ID, "id"); err == nil {
				sub.Addresses = append(sub.Addresses, Address{ch, a})
			}
		}
	}
	return s.erase(ctx, t, sub, id)
}

// Erase serves POST /erasures.
func (s *Service) Erase(ctx context.Context, t tenant.Tenant, req Request) (Result, error) {
	byID, byAddr := req.Namespace != "" || req.ID != "", req.Channel != "" || req.Address != ""
	switch {
	case byID && byAddr:
		return Result{}, derrors.Validation(derrors.FieldError{Field: "channel", Message: "give namespace and id, or channel and address, not both"})
	case byID:
		return s.EraseProfile(ctx, t, profile.Identity{Namespace: req.Namespace, ID: req.ID})
	case !byAddr:
		return Result{}, derrors.Validation(derrors.FieldError{Field: "namespace", Message: "give namespace and id, or channel and address"})
	}
	if req.Channel != suppression.Email && req.Channel != suppression.SMS {
		return Result{}, derrors.Validation(derrors.FieldError{Field: "channel", Message: "must be email or sms"})
	}
	addr, err := suppression.Normalize(req.Channel, req.Address, "address")
	if err != nil {
		return Result{}, err
	}
	// The address is also the identity a profile may be known by.
	id := profile.Identity{Namespace: identityNamespace(req.Channel), ID: addr}
	sub := Subject{Identities: []profile.Identity{id}, Addresses: []Address{{req.Channel, addr}}}
	if raw := strings.TrimSpace(req.Address); raw != addr {
		// Entries keep the userId as the call wrote it.
		sub.Identities = append(sub.Identities, profile.Identity{Namespace: id.Namespace, ID: raw})
	}
	return s.erase(ctx, t, sub, id)
}

func identityNamespace(ch suppression.Channel) string {
	if ch == suppression.SMS {
		return "phone"
	}
	return "email"
}

// erase widens sub with the profile found by id, deletes the profile,
// then the rest.
func (s *Service) erase(ctx context.Context, t tenant.Tenant, sub Subject, id profile.Identity) (Result, error) {
	if len(s.Key) == 0 {
		return Result{}, derrors.New(derrors.Internal, "erasure needs the deployment's secret (HERALD_UNSUBSCRIBE_SECRET) to key pseudonyms")
	}
	r := NewResult()
	p, err := s.Profiles.Get(ctx, t, id)
	switch {
	case err == nil:
		sub.Identities = append(sub.Identities, p.AllIdentities()...)
		if a := p.Email(); a != "" {
			if n, err := suppression.Normalize(suppression.Email, a, "email"); err == nil {
				sub.Addresses = append(sub.Addresses, Address{suppression.Email, n})
			}
		}
		if a := p.Phone(); a != "" {
			if n, err := suppression.Normalize(suppression.SMS, a, "phone"); err == nil {
				sub.Addresses = append(sub.Addresses, Address{suppression.SMS, n})
			}
		}
		if err := s.Profiles.Delete(ctx, t, p.Identity()); err != nil && !derrors.Is(err, derrors.NotFound) {
			return Result{}, fmt.Errorf("erase profile: %w", err)
		}
		r.Erased[Profiles] = 1
	case derrors.Is(err, derrors.NotFound):
	default:
		return Result{}, fmt.Errorf("erase: read profile: %w", err)
	}
	sub = dedupe(sub)
	if err := s.Store.EraseSubject(ctx, t, sub, func(id profile.Identity) string { return s.Pseudonym(t, id) }, &r); err != nil {
		return Result{}, fmt.Errorf("erase: %w", err)
	}
	return r, nil
}

func dedupe(s Subject) Subject {
	var out Subject
	for _, id := range s.Identities {
		if !slices.Contains(out.Identities, id) {
			out.Identities = append(out.Identities, id)
		}
	}
	for _, a := range s.Addresses {
		if !slices.Contains(out.Addresses, a) {
			out.Addresses = append(out.Addresses, a)
		}
	}
	return out
}

// Mentions reports whether a JSON message (a webhook delivery's) holds a
// string equal to one of s's identity ids or addresses (email compared
// lower-cased): exact values, never substrings, so erasing "42" leaves
// other people's messages that merely contain the digits.
func Mentions(message []byte, s Subject) bool {
	var v any
	if json.Unmarshal(message, &v) != nil {
		return false
	}
	needles := map[string]bool{}
	for _, id := range s.Identities {
		needles[id.ID] = true
	}
	for _, a := range s.Addresses {
		needles[a.Address] = true
	}
	return mentions(v, needles)
}

func mentions(v any, needles map[string]bool) bool {
	switch v := v.(type) {
	case string:
		return needles[v] || needles[strings.ToLower(v)]
	case []any:
		for _, x := range v {
			if mentions(x, needles) {
				return true
			}
		}
	case map[string]any:
		for _, x := range v {
			if mentions(x, needles) {
				return true
			}
		}
	}
	return false
}

// StripJob removes from a parked job the recipients that are s: by
// identity, or by the address the call gave (channelData). It returns the
// job left and how many recipients it removed.
func StripJob(job delivery.Job, s Subject) (delivery.Job, int) {
	kept := job.Recipients[:0:0]
	for _, r := range job.Recipients {
		if !isSubject(r, s) {
			kept = append(kept, r)
		}
	}
	removed := len(job.Recipients) - len(kept)
	job.Recipients = kept
	return job, removed
}

// StripParked removes s from an execution's parked jobs (StripJob; a job
// left with no one is unparked, so no redrive reaches them) and returns
// how many recipients it removed. Both stores erase through it.
func StripParked(ctx context.Context, p delivery.Parking, t tenant.Tenant, exec string, s Subject) (int, error) {
	parked, err := p.Parked(ctx, t, exec)
	if err != nil {
		return 0, fmt.Errorf("parked jobs: %w", err)
	}
	removed := 0
	for _, pj := range parked {
		job, n := StripJob(pj.Job, s)
		switch {
		case n == 0:
			continue
		case len(job.Recipients) == 0:
			err = p.Unpark(ctx, t, exec, pj.ID)
		default:
			pj.Job = job
			err = p.Park(ctx, t, pj)
		}
		if err != nil {
			return removed, fmt.Errorf("parked jobs: %w", err)
		}
		removed += n
	}
	return removed, nil
}

func isSubject(r delivery.Recipient, s Subject) bool {
	if slices.Contains(s.Identities, profile.Identity{Namespace: r.Namespace, ID: r.UserID}) {
		return true
	}
	for _, a := range s.Addresses {
		switch {
		case a.Channel == suppression.Email && r.Email != "" && strings.EqualFold(strings.TrimSpace(r.Email), a.Address):
			return true
		case a.Channel == suppression.SMS && r.Phone != "" && digits(r.Phone) == digits(a.Address):
			return true
		}
	}
	return false
}

// digits compares phone numbers as written ("415-555-0100") with E.164
// ones loosely: by their last ten digits.
func digits(phone string) string {
	var b strings.Builder
	for _, c := range phone {
		if c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
	}
	d := b.String()
	if len(d) > 10 {
		d = d[len(d)-10:]
	}
	return d
}
