package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Reputation are the reputation guard's thresholds, read by the Feedback
// function (which pauses) and Manage (which shows them).
type Reputation struct {
	// BounceRate and ComplaintRate are fractions of the window's sends at
	// or above which a tenant's channel pauses marketing
	// (HERALD_REPUTATION_BOUNCE_RATE, default 0.04;
	// HERALD_REPUTATION_COMPLAINT_RATE, default 0.0008); 0 turns a check
	// off.
	BounceRate, ComplaintRate float64
	// MinSends is the window's sample below which nothing pauses
	// (HERALD_REPUTATION_MIN_SENDS, default 500).
	MinSends int64
}

// Default reputation thresholds: below AWS's review levels (5 %, 0.1 %).
const (
	DefaultReputationBounceRate    = 0.04
	DefaultReputationComplaintRate = 0.0008
	DefaultReputationMinSends      = 500
)

func loadReputation(getenv func(string) string) (Reputation, error) {
	r := Reputation{BounceRate: DefaultReputationBounceRate, ComplaintRate: DefaultReputationComplaintRate, MinSends: DefaultReputationMinSends}
	var errs []error
	rate := func(name string, dst *float64) {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || x < 0 || x > 1 || math.IsNaN(x) {
			errs = append(errs, fmt.Errorf("config: %s %q: want a fraction of sends from 0 to 1 (0.04 for 4 %%)", name, v))
			return
		}
		*dst = x
	}
	rate("HERALD_REPUTATION_BOUNCE_RATE", &r.BounceRate)
	rate("HERALD_REPUTATION_COMPLAINT_RATE", &r.ComplaintRate)
	if v := strings.TrimSpace(getenv("HERALD_REPUTATION_MIN_SENDS")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("config: HERALD_REPUTATION_MIN_SENDS %q: want a whole number of at least 1", v))
		}
		r.MinSends = n
	}
	return r, errors.Join(errs...)
}
