package render

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestAppendDecimalMatchesStrconv checks appendDecimal, appendNumber's
// fast path for prices and the like, against strconv on numbers it takes
// and numbers it must refuse.
func TestAppendDecimalMatchesStrconv(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 2026))
	check := func(f float64) {
		t.Helper()
		a := math.Abs(f)
		got, ok := appendDecimal(nil, f, a)
		if !ok {
			return
		}
		if want := strconv.FormatFloat(f, 'f', -1, 64); string(got) != want {
			t.Fatalf("appendDecimal(%v) = %s, strconv gives %s", f, got, want)
		}
	}
	taken := 0
	for range 400000 {
		var f float64
		switch r.IntN(5) {
		case 0: // a decimal with up to 7 decimals, as data holds prices
			k := r.IntN(8)
			f = float64(r.Int64N(1<<(1+r.IntN(52)))) / math.Pow(10, float64(k))
		case 1: // the same, parsed from its text
			k := r.IntN(8)
			s := strconv.FormatInt(r.Int64N(1<<(1+r.IntN(40))), 10) + "e-" + strconv.Itoa(k)
			f, _ = strconv.ParseFloat(s, 64)
		case 2: // any bits
			f = math.Float64frombits(r.Uint64())
		case 3: // near the edges: 2^30, tiny numbers
			f = math.Nextafter(float64(1<<30), 0) - float64(r.IntN(1000))/1e6
			if r.IntN(2) == 0 {
				f = float64(r.IntN(1000)+1) * 1e-6 * (1 + float64(r.IntN(3))*1e-9)
			}
		default: // one ulp either side of a short decimal
			f = float64(r.Int64N(1e9)) / 1e3
			f = math.Nextafter(f, math.Inf(r.IntN(2)*2-1))
		}
		if r.IntN(2) == 0 {
			f = -f
		}
		if math.IsNaN(f) || math.IsInf(f, 0) || f == math.Trunc(f) {
			continue
		}
		if _, ok := appendDecimal(nil, f, math.Abs(f)); ok {
			taken++
		}
		check(f)
	}
	for _, f := range []float64{19.9, 14.5, 34.95, 165.25, 4.9, 170.15, 0.1, 0.000001, 0.3, 1e-6 + 1e-7, 1073741823.5, 0.1 + 0.2, 2.675, 1.005} {
		check(f)
		check(-f)
	}
	if taken < 100000 {
		t.Errorf("the fast path took %d numbers, want most of the short decimals", taken)
	}
}
