package webhook

import (
	"context"
	"time"

	"github.com/heraldhq/herald/internal/tenant"
)

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

// Delivery statuses. Delivered, Skipped and Failed are final: a message
// whose delivery is final is acknowledged without a request (a redrive
// makes a failed one Retrying again).
const (
	// Pending: received, no attempt finished yet.
	Pending DeliveryStatus = "pending"
	// Retrying: an attempt failed; the message comes back after a backoff.
	Retrying DeliveryStatus = "retrying"
	// Delivered: the endpoint answered 2xx.
	Delivered DeliveryStatus = "delivered"
	// Skipped: the tenant's webhook was deleted or no longer subscribes
	// to the channel when the message was delivered.
	Skipped DeliveryStatus = "skipped"
	// Failed: every attempt failed for the whole retry window.
	Failed DeliveryStatus = "failed"
)

// Valid reports whether s is a known status.
func (s DeliveryStatus) Valid() bool {
	switch s {
	case Pending, Retrying, Delivered, Skipped, Failed:
		return true
	}
	return false
}

// final reports whether no attempt may follow.
func (s DeliveryStatus) final() bool { return s == Delivered || s == Skipped || s == Failed }

// DeliveryTTL is how long delivery records (and the payloads a redrive
// re-sends) are kept by default: a deployment's retention setting
// (config.Retention.WebhookDeliveries) replaces it in the DynamoDB store.
const DeliveryTTL = 7 * 24 * time.Hour

// Delivery is the record of one event's delivery: what the API lists and
// what deduplicates it. It keeps the message for a redrive, never the
// endpoint's answer.
type Delivery struct {
	EventID string `json:"eventId"`
	Channel string `json:"channel"`
	// EventTimestamp is the event's time (the payload's eventTimestamp).
	EventTimestamp time.Time      `json:"eventTimestamp"`
	Status         DeliveryStatus `json:"status"`
	Attempts       int            `json:"attempts"`
	// LastStatusCode is the endpoint's last HTTP status (0 when it did
	// not answer); LastError classifies a failed attempt (ErrorClass).
	LastStatusCode int    `json:"lastStatusCode,omitempty"`
	LastError      string `json:"lastError,omitempty"`
	// CreatedAt is the first receive; WindowStart starts the retry
	// window (CreatedAt, or the last redrive).
	CreatedAt     time.Time  `json:"createdAt"`
	WindowStart   time.Time  `json:"-"`
	LastAttemptAt *time.Time `json:"lastAttemptAt,omitempty"`
	DeliveredAt   *time.Time `json:"deliveredAt,omitempty"`
	// Message is the encoded queue message, for a redrive.
	Message []byte `json:"-"`
	// LeaseUntil is set while an attempt is in flight: a copy of the
	// message received meanwhile does not send it again.
	LeaseUntil time.Time `json:"-"`
	ExpiresAt  time.Time `json:"-"`
}

// DeliveryPage is one page of deliveries, newest first; Next is the
// cursor of the following page, empty on the last.
type DeliveryPage struct {
	Items []Delivery `json:"items"`
	Next  string     `json:"nextCursor,omitempty"`
}

// DeliveryStore keeps delivery records per tenant; they expire at
// ExpiresAt.
type DeliveryStore interface {
	// ClaimDelivery takes the right to attempt d.EventID's delivery until
	// `until`: it stores d if there is no record (claimed), or leases the
	// existing record if its status is not final and no lease runs at now
	// (claimed, the record as stored). Otherwise it returns the record
	// and claimed=false.
	ClaimDelivery(ctx context.Context, t tenant.Tenant, d Delivery, now, until time.Time) (current Delivery, claimed bool, err error)
	// SaveDelivery replaces an existing record (an attempt's outcome, a
	// redrive); derrors.NotFound if there is none.
	SaveDelivery(ctx context.Context, t tenant.Tenant, d Delivery) error
	// GetDelivery returns a record or derrors.NotFound.
	GetDelivery(ctx context.Context, t tenant.Tenant, eventID string) (Delivery, error)
	// ListDeliveries returns up to limit records after the opaque cursor,
	// newest first (by CreatedAt, then event ID); a cursor is refused
	// with a derrors.Validation on field "cursor".
	ListDeliveries(ctx context.Context, t tenant.Tenant, limit int, cursor string) (DeliveryPage, error)
}
