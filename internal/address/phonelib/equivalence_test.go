package phonelib_test

import (
	"maps"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"

	"github.com/heraldhq/herald/internal/address"
	"github.com/heraldhq/herald/internal/address/phonelib"
)

// libphonenumber is Normalize as it was written on the library, before
// the generated plans: the answer Normalize must give.
func libphonenumber(s, region string) (string, bool) {
	if !address.PhoneShaped(s) {
		return "", false
	}
	n, err := phonenumbers.Parse(s, region)
	if err != nil || phonenumbers.IsPossibleNumberWithReason(n) != phonenumbers.IS_POSSIBLE {
		return "", false
	}
	return phonenumbers.Format(n, phonenumbers.E164), true
}

type phoneCase struct{ in, region string }

// TestNormalizeIsLibphonenumbers holds Normalize to the library over the
// inputs equivalenceCases writes: every region's example numbers in every
// form people write them, wrong by a few digits, with and without
// national and international prefixes, read with no region, their own and
// others; and random digit strings.
func TestNormalizeIsLibphonenumbers(t *testing.T) {
	cases := equivalenceCases()
	if len(cases) < 100_000 {
		t.Fatalf("%d cases, want at least 100,000", len(cases))
	}
	var ok, mismatches int
	for _, c := range cases {
		want, wantOK := libphonenumber(c.in, c.region)
		got, gotOK := phonelib.Normalize(c.in, c.region)
		if wantOK {
			ok++
		}
		if got != want || gotOK != wantOK {
			mismatches++
			if mismatches <= 20 {
				t.Errorf("Normalize(%q, %q) = %q, %t; libphonenumber: %q, %t", c.in, c.region, got, gotOK, want, wantOK)
			}
		}
	}
	t.Logf("%d cases: %d possible numbers, %d refused; %d differ from libphonenumber", len(cases), ok, len(cases)-ok, mismatches)
	// Both answers must be common, or the cases test one branch only.
	if ok < len(cases)/5 || len(cases)-ok < len(cases)/5 {
		t.Errorf("%d of %d cases normalize: want both outcomes at least a fifth of the cases", ok, len(cases))
	}
}

// equivalenceCases returns the inputs of TestNormalizeIsLibphonenumbers,
// the same on every run (a fixed seed).
func equivalenceCases() []phoneCase {
	rng := rand.New(rand.NewPCG(17, 2026))
	regions := slices.Sorted(maps.Keys(phonenumbers.GetSupportedRegions()))
	// Regions to read a number with: none, invalid ones, its own, others.
	someRegion := func() string {
		switch rng.IntN(12) {
		case 0:
			return ""
		case 1:
			return []string{"ZZ", "001", "us", "XX"}[rng.IntN(4)]
		default:
			return regions[rng.IntN(len(regions))]
		}
	}
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		panic(err)
	}
	// The prefixes each region dials abroad with, written out.
	idds := map[string][]string{}
	digitsOnly := regexp.MustCompile(`^\d+$`)
	for _, m := range coll.GetMetadata() {
		var ps []string
		if p := m.GetPreferredInternationalPrefix(); p != "" {
			ps = append(ps, strings.ReplaceAll(p, "~", ""))
		}
		if p := m.GetInternationalPrefix(); digitsOnly.MatchString(p) {
			ps = append(ps, p)
		}
		idds[m.GetId()] = append(ps, "00", "011")
	}
	types := []phonenumbers.PhoneNumberType{
		phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE,
		phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST, phonenumbers.VOIP,
		phonenumbers.PERSONAL_NUMBER, phonenumbers.PAGER, phonenumbers.UAN, phonenumbers.VOICEMAIL,
	}
	randomDigits := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + rng.IntN(10))
		}
		return string(b)
	}
	// written puts separators into digits as people write them.
	written := func(digits string) string {
		var b strings.Builder
		if len(digits) > 4 && rng.IntN(3) == 0 {
			k := 1 + rng.IntN(3)
			b.WriteString("(" + digits[:k] + ") ")
			digits = digits[k:]
		}
		for i := 0; i < len(digits); i++ {
			if i > 0 && rng.IntN(3) == 0 {
				b.WriteByte(" -./"[rng.IntN(4)])
			}
			b.WriteByte(digits[i])
		}
		return b.String()
	}

	var cases []phoneCase
	add := func(in string, region string) {
		cases = append(cases, phoneCase{in, region})
	}
	addNumber := func(region, cc, nsn string) {
		ndd := phonenumbers.GetNddPrefixForRegion(region, true)
		idd := idds[region]
		if region == "" {
			idd = []string{"00"}
		}
		// The number, wrong by one to three digits, with a trunk
		// prefix, a leading zero or its country code.
		variants := []string{nsn, ndd + nsn, "0" + nsn, "00" + nsn, cc + nsn, cc + ndd + nsn}
		for k := 1; k <= 3; k++ {
			if k < len(nsn) {
				variants = append(variants, nsn[:len(nsn)-k], ndd+nsn[:len(nsn)-k])
			}
			variants = append(variants, nsn+randomDigits(k), ndd+nsn+randomDigits(k))
		}
		for _, v := range variants {
			forms := []string{
				v,
				written(v),
				"+" + cc + v,
				"+" + cc + " " + written(v),
				"+" + v,
				"++" + cc + v,
				"+0" + cc + v,
				"+(" + cc + ") " + v,
				idd[rng.IntN(len(idd))] + cc + v,
				idd[rng.IntN(len(idd))] + " " + cc + " " + written(v),
				"+" + idd[rng.IntN(len(idd))] + cc + v,
			}
			// Four of the forms, each read with the number's own region
			// or none, and with another.
			for range 4 {
				f := forms[rng.IntN(len(forms))]
				if region != "" && rng.IntN(3) > 0 {
					add(f, region)
				} else {
					add(f, "")
				}
				add(f, someRegion())
			}
		}
	}
	for _, r := range regions {
		cc := strconv.Itoa(phonenumbers.GetCountryCodeForRegion(r))
		for _, typ := range types {
			if n := phonenumbers.GetExampleNumberForType(r, typ); n != nil {
				addNumber(r, cc, phonenumbers.GetNationalSignificantNumber(n))
			}
		}
	}
	for _, c := range slices.Sorted(maps.Keys(phonenumbers.GetSupportedGlobalNetworkCallingCodes())) {
		if n := phonenumbers.GetExampleNumberForNonGeoEntity(c); n != nil {
			addNumber("", strconv.Itoa(c), phonenumbers.GetNationalSignificantNumber(n))
		}
	}
	// Random digit strings of 3 to 17 digits, as they are, written, after
	// '+' or a prefix, and a few that are not phone-shaped.
	prefixes := []string{"", "", "", "+", "0", "00", "011", "+0", "1", "8", "810", "0011", "++"}
	for range 40_000 {
		d := randomDigits(3 + rng.IntN(15))
		if rng.IntN(2) == 0 {
			d = written(d)
		}
		in := prefixes[rng.IntN(len(prefixes))] + d
		switch rng.IntN(40) {
		case 0:
			in += " ext. 12"
		case 1:
			in += " x12"
		case 2:
			in = " " + in + " "
		case 3:
			in = "." + in + ")"
		case 4:
			in = in[:len(in)/2] + "+" + in[len(in)/2:]
		}
		add(in, someRegion())
	}
	for _, two := range []string{"12", "1 2", "+1", "01", "00", "+12", "(1)2", "123", "+123", "+1 23"} {
		for _, r := range append([]string{""}, regions...) {
			add(two, r)
		}
	}
	return cases
}

// BenchmarkNormalize compares Normalize with the library it replaces,
// on the same numbers (their patterns compiled before the timer starts).
func BenchmarkNormalize(b *testing.B) {
	numbers := []struct{ name, in, region string }{
		{"E.164", "+14155550100", ""},
		{"US national written", "(415) 555-0100", "US"},
		{"FR trunk prefix", "06 12 34 56 78", "FR"},
		{"FR international prefix", "00 33 6 12 34 56 78", "FR"},
		{"too long for FR", "1234567890", "FR"},
	}
	impls := []struct {
		name string
		f    func(s, region string) (string, bool)
	}{{"phonelib", phonelib.Normalize}, {"libphonenumber", libphonenumber}}
	for _, impl := range impls {
		for _, n := range numbers {
			b.Run(impl.name+"/"+n.name, func(b *testing.B) {
				want, wantOK := libphonenumber(n.in, n.region)
				b.ReportAllocs()
				for b.Loop() {
					if got, ok := impl.f(n.in, n.region); got != want || ok != wantOK {
						b.Fatalf("Normalize(%q, %q) = %q, %t; want %q, %t", n.in, n.region, got, ok, want, wantOK)
					}
				}
			})
		}
	}
}
