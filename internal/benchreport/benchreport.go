// Package benchreport holds what Herald's benchmarks report beside Go's
// own figures.
package benchreport

import (
	"slices"
	"testing"
	"time"
)

// Percentiles reports the median and the 99th percentile of times, one
// per iteration, as custom metrics beside the mean (p50-ns/op,
// p99-ns/op).
func Percentiles(b *testing.B, times []time.Duration) {
	b.Helper()
	if len(times) == 0 {
		return
	}
	slices.Sort(times)
	at := func(q float64) float64 { return float64(times[int(q*float64(len(times)-1))]) }
	b.ReportMetric(at(0.50), "p50-ns/op")
	b.ReportMetric(at(0.99), "p99-ns/op")
}
