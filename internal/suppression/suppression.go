// Package suppression keeps each tenant's list of addresses Herald must
// not send to: email addresses and phone numbers, each with why
// (bounce, complaint, unsubscribe, manual) and since when.
//
// Who a suppression stops depends on the campaign: marketing is stopped
// by any reason; transactional only by the reasons in Blocks (bounces,
// complaints and manual entries), and even those not when the channel
// configuration says to send to suppressed addresses.
package suppression

import (
	"context"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/address"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/tenant"
)

// Channel is what an address is for.
type Channel string

// Channels with a suppression list (push tokens have their own
// lifecycle: a dead token disables the device).
const (
	Email Channel = "email"
	SMS   Channel = "sms"
)

// Reason says why an address is suppressed.
type Reason string

// Reasons.
const (
	Bounce      Reason = "bounce"
	Complaint   Reason = "complaint"
	Unsubscribe Reason = "unsubscribe"
	Manual      Reason = "manual"
)

// Valid reports whether r is a known reason.
func (r Reason) Valid() bool {
	switch r {
	case Bounce, Complaint, Unsubscribe, Manual:
		return true
	}
	return false
}

// Blocks reports whether a suppression for reason r stops a message of a
// campaign that is marketing (or not), given the configuration's
// send-to-suppressed flag. Marketing: every reason. Transactional: an
// unsubscribe never does (it is a marketing choice); bounces, complaints
// and manual entries do unless sendToSuppressed.
func Blocks(r Reason, marketing, sendToSuppressed bool) bool {
	switch {
	case marketing:
		return true
	case r == Unsubscribe:
		return false
	}
	return !sendToSuppressed
}

// Entry is one suppressed address.
type Entry struct {
	Channel   Channel   `json:"channel"`
	Address   string    `json:"address"`
	Reason    Reason    `json:"reason"`
	CreatedAt time.Time `json:"createdAt"`
}

// Page is one page of a list; Next is the cursor of the following page,
// empty on the last.
type Page struct {
	Items []Entry `json:"items"`
	Next  string  `json:"nextCursor,omitempty"`
}

// Store persists suppressions per tenant. Addresses reach it normalized.
type Store interface {
	// PutSuppression creates or replaces an entry.
	PutSuppression(ctx context.Context, t tenant.Tenant, e Entry) error
	// AddSuppression creates e unless the address is suppressed already
	// (then the existing entry is kept and returned, with created=false).
	AddSuppression(ctx context.Context, t tenant.Tenant, e Entry) (existing Entry, created bool, err error)
	// GetSuppression returns an entry or derrors.NotFound.
	GetSuppression(ctx context.Context, t tenant.Tenant, ch Channel, addr string) (Entry, error)
	// DeleteSuppression removes an entry; derrors.NotFound if absent.
	DeleteSuppression(ctx context.Context, t tenant.Tenant, ch Channel, addr string) error
	// ListSuppressions returns up to limit entries of channel ch (all
	// channels when empty) after the opaque cursor, in address order.
	ListSuppressions(ctx context.Context, t tenant.Tenant, ch Channel, limit int, cursor string) (Page, error)
}

// Normalize checks addr for channel ch and returns its stored form
// (email lower-cased; phone numbers E.164 as they are). It returns a
// derrors.Invalid naming field otherwise.
func Normalize(ch Channel, addr, field string) (string, error) {
	switch ch {
	case Email:
		a := address.NormalizeEmail(addr)
		if !address.ValidEmail(a) {
			return "", derrors.Validation(derrors.FieldError{Field: field, Message: "must be an email address"})
		}
		return a, nil
	case SMS:
		if !address.ValidPhone(addr) {
			return "", derrors.Validation(derrors.FieldError{Field: field, Message: "must be an E.164 phone number"})
		}
		return addr, nil
	}
	return "", derrors.Validation(derrors.FieldError{Field: "channel", Message: "must be email or sms"})
}

// Input is the body of PUT /suppressions/{channel}/{address}.
type Input struct {
	// Reason defaults to manual.
	Reason Reason `json:"reason"`
}

// Service manages the suppression list.
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

// Put suppresses an address (replacing the reason of an existing entry).
func (s *Service) Put(ctx context.Context, t tenant.Tenant, ch Channel, addr string, in Input) (Entry, error) {
	a, err := Normalize(ch, addr, "address")
	if err != nil {
		return Entry{}, err
	}
	if in.Reason == "" {
		in.Reason = Manual
	}
	if !in.Reason.Valid() {
		return Entry{}, derrors.Validation(derrors.FieldError{Field: "reason", Message: "must be bounce, complaint, unsubscribe or manual"})
	}
	e := Entry{Channel: ch, Address: a, Reason: in.Reason, CreatedAt: s.now()}
	if err := s.Store.PutSuppression(ctx, t, e); err != nil {
		return Entry{}, fmt.Errorf("suppress: %w", err)
	}
	return e, nil
}

// Unsubscribe records an unsubscribe, idempotently: an address already
// suppressed (for any reason) keeps its entry.
func (s *Service) Unsubscribe(ctx context.Context, t tenant.Tenant, ch Channel, addr string) (Entry, error) {
	a, err := Normalize(ch, addr, "address")
	if err != nil {
		return Entry{}, err
	}
	e, _, err := s.Store.AddSuppression(ctx, t, Entry{Channel: ch, Address: a, Reason: Unsubscribe, CreatedAt: s.now()})
	if err != nil {
		return Entry{}, fmt.Errorf("unsubscribe: %w", err)
	}
	return e, nil
}

// Get returns an address's entry, or derrors.NotFound.
func (s *Service) Get(ctx context.Context, t tenant.Tenant, ch Channel, addr string) (Entry, error) {
	a, err := Normalize(ch, addr, "address")
	if err != nil {
		return Entry{}, err
	}
	return s.Store.GetSuppression(ctx, t, ch, a)
}

// Delete lifts a suppression; derrors.NotFound if there is none.
func (s *Service) Delete(ctx context.Context, t tenant.Tenant, ch Channel, addr string) error {
	a, err := Normalize(ch, addr, "address")
	if err != nil {
		return err
	}
	return s.Store.DeleteSuppression(ctx, t, ch, a)
}

// MaxPage bounds a list page.
const MaxPage = 1000

// List returns one page; limit 0 means 100.
func (s *Service) List(ctx context.Context, t tenant.Tenant, ch Channel, limit int, cursor string) (Page, error) {
	var f derrors.Fields
	switch ch {
	case "", Email, SMS:
	default:
		f.Add("channel", "must be email or sms")
	}
	if limit == 0 {
		limit = 100
	}
	if limit < 1 || limit > MaxPage {
		f.Add("limit", "must be 1 to %d", MaxPage)
	}
	if cursor != "" {
		if _, err := base64.RawURLEncoding.DecodeString(cursor); err != nil {
			f.Add("cursor", "is not a cursor this API returned")
		}
	}
	if err := f.Err(); err != nil {
		return Page{}, err
	}
	p, err := s.Store.ListSuppressions(ctx, t, ch, limit, cursor)
	if err != nil {
		return Page{}, fmt.Errorf("list suppressions: %w", err)
	}
	if p.Items == nil {
		p.Items = []Entry{}
	}
	return p, nil
}
