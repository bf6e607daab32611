package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Retention is how long the table keeps each kind of item that expires:
// the item's expiresAt (the table's TTL attribute) is set this long after
// the item's start (a send's claim, an execution's creation...). A zero
// duration keeps the kind forever. Suppressions, keys, campaigns,
// configurations, profiles and audiences never expire: they are not
// listed here (docs/operations.md#retention).
type Retention struct {
	// Executions: execution items (unitary and audience) and a campaign's
	// index of them (HERALD_RETENTION_EXECUTIONS_DAYS, default 90).
	Executions time.Duration
	// Ledger: ledger entries, one a recipient and channel, and parked jobs
	// (HERALD_RETENTION_LEDGER_DAYS, default 90).
	Ledger time.Duration
	// RecipientLists: an execution's list of addresses and the recipient
	// owning each (HERALD_RETENTION_RECIPIENT_LISTS_DAYS, default 90).
	RecipientLists time.Duration
	// Idempotency: idempotency records (HERALD_RETENTION_IDEMPOTENCY_DAYS,
	// default 7: a requestId is remembered a week, as AJO's).
	Idempotency time.Duration
	// WebhookDeliveries: the feedback webhook's delivery log
	// (HERALD_RETENTION_WEBHOOK_DELIVERIES_DAYS, default 7).
	WebhookDeliveries time.Duration
	// Counters: an execution's outcome and feedback counters
	// (HERALD_RETENTION_COUNTERS_DAYS, default 90).
	Counters time.Duration
}

// Day is the unit of retention settings.
const Day = 24 * time.Hour

// DefaultRetention is the retention of a deployment that sets none (the
// template's defaults).
var DefaultRetention = Retention{Executions: 90 * Day, Ledger: 90 * Day, RecipientLists: 90 * Day,
	Idempotency: 7 * Day, WebhookDeliveries: 7 * Day, Counters: 90 * Day}

// loadRetention reads the retention settings, whole days, 0 for never.
// Idempotency records must be kept at least a day: a retried request is
// answered from them.
func loadRetention(getenv func(string) string) (Retention, error) {
	r := DefaultRetention
	var errs []error
	days := func(name string, dst *time.Duration, minDays int) {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 36500 || (n < minDays) {
			errs = append(errs, fmt.Errorf("config: %s %q: want whole days from %d to 36500 (0: never expires)", name, v, minDays))
			return
		}
		*dst = time.Duration(n) * Day
	}
	days("HERALD_RETENTION_EXECUTIONS_DAYS", &r.Executions, 0)
	days("HERALD_RETENTION_LEDGER_DAYS", &r.Ledger, 0)
	days("HERALD_RETENTION_RECIPIENT_LISTS_DAYS", &r.RecipientLists, 0)
	days("HERALD_RETENTION_IDEMPOTENCY_DAYS", &r.Idempotency, 1)
	days("HERALD_RETENTION_WEBHOOK_DELIVERIES_DAYS", &r.WebhookDeliveries, 1)
	days("HERALD_RETENTION_COUNTERS_DAYS", &r.Counters, 0)
	return r, errors.Join(errs...)
}
