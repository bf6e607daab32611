// Package backoff is the one retry schedule Herald's retries share
// (Dispatch's sends, the feedback webhook's deliveries): a wait that
// doubles from a first step up to a cap, spread by jitter so what failed
// together does not come back together.
package backoff

import (
	"math/rand/v2"
	"time"
)

// Exponential is the wait before retry n (1 for the first), without
// jitter: first doubled n-1 times, at most max.
func Exponential(first, max time.Duration, n int) time.Duration {
	d := first
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// Jitter spreads d over [d/2, d].
func Jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}
