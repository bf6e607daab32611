package backoff_test

import (
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/backoff"
)

func TestExponentialDoublesUpToItsCap(t *testing.T) {
	for n, want := range map[int]time.Duration{0: time.Second, 1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 6: 30 * time.Second, 100: 30 * time.Second} {
		if got := backoff.Exponential(time.Second, 30*time.Second, n); got != want {
			t.Errorf("Exponential(1s, 30s, %d) = %s, want %s", n, got, want)
		}
	}
}

func TestJitterStaysWithinHalfAndWhole(t *testing.T) {
	for range 1000 {
		if got := backoff.Jitter(10 * time.Second); got < 5*time.Second || got > 10*time.Second {
			t.Fatalf("Jitter(10s) = %s, want within [5s, 10s]", got)
		}
	}
	if got := backoff.Jitter(1); got != 1 {
		t.Errorf("Jitter(1ns) = %s", got)
	}
}
