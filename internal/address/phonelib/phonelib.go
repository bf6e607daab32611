// Package phonelib reads phone numbers as Adobe Journey Optimizer accepts
// them into E.164, giving libphonenumber's answers
// (github.com/nyaruka/phonenumbers: Parse, IsPossibleNumberWithReason,
// Format E164) without linking it.
//
// That library decodes all its metadata when its package is initialized
// (≈ 8 ms, 35,000 allocations) and adds ≈ 9 MiB to a binary
// (docs/performance.md). This package reads numbers with the few fields
// of that metadata the three calls consult, copied into
// zz_generated_metadata.go by ./gen from the version go.mod requires:
// static data, nothing built at init, each plan's patterns compiled the
// first time a number of that plan is read. TestNormalizeIsLibphonenumbers
// holds Normalize to the library over some 200,000 inputs, and
// TestGeneratedTableIsUpToDate (in ./gen) the table to its metadata.
package phonelib

//go:generate go run ./gen -o zz_generated_metadata.go

import (
	"cmp"
	"errors"
	"math/bits"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/heraldhq/herald/internal/address"
)

var _ address.PhoneNormalizer = Normalize

// Normalize returns s in E.164 ("+14155550100"): a number with an
// international prefix ('+' and a country code, or the region's own
// prefix such as 00 or 011) as it is, any other number as a national
// number of region (an ISO 3166-1 alpha-2 code such as "US"; "" when
// there is no default, and then only international numbers normalize).
// ok is false for what is not address.PhoneShaped and for what
// libphonenumber's metadata cannot make a possible number of its country
// (wrong length for the country, unknown country code, no region for a
// national number).
//
// Possible, not valid: libphonenumber's validity tables lag the
// operators' new number ranges and refuse the test ranges (555,
// AJO's own "1234567890"), and a number refused here is a message never
// attempted, while the SMS provider is the authority on what it can
// deliver and reports what it cannot as that recipient's outcome.
//
// It follows libphonenumber's parseHelper step by step, for the
// characters PhoneShaped lets through (ASCII digits, spaces and
// + - ( ) . /): no letters, so no extension, vanity number or RFC 3966
// form can occur.
func Normalize(s, region string) (e164 string, ok bool) {
	if !address.PhoneShaped(s) {
		return "", false
	}
	// extractPossibleNumber: from the first '+' or digit (PhoneShaped
	// guarantees a digit). The library's trailing-character pattern
	// cannot match these characters, so nothing is cut at the end.
	start := 0
	for s[start] != '+' && !isDigit(s[start]) {
		start++
	}
	number := s[start:]
	if !viable(number) {
		return "", false
	}
	def := regionPlan(region)
	// A viable number has '+' only at its start.
	plus := number[0] == '+'
	if def == nil && !plus {
		return "", false // no region to read a national number with
	}
	cc, national, err := extractCountryCode(number, def)
	if err == errInvalidCountryCode && plus {
		// "+0044…" or "+011…": read again without the plus.
		i := 0
		for number[i] == '+' {
			i++
		}
		cc, national, err = extractCountryCode(number[i:], def)
		if err == nil && cc == 0 {
			err = errInvalidCountryCode
		}
	}
	if err != nil {
		return "", false
	}
	var p *plan // the plan parsing strips a national prefix with
	if cc != 0 {
		p = countryPlan(cc)
	} else {
		national = digitsOnly(number)
		p = def
		cc = int(def.countryCode)
	}
	if len(national) < minNSN {
		return "", false
	}
	// The national prefix goes only if what remains has a length the
	// plan allows (or is too long for it).
	if stripped := stripNationalPrefix(national, p); stripped != national {
		switch p.testLength(stripped) {
		case tooShort, possibleLocalOnly, invalidLength:
		default:
			national = stripped
		}
	}
	if len(national) < minNSN || len(national) > maxNSN {
		return "", false
	}
	// IsPossibleNumberWithReason reads the number with its country's main
	// plan (US for +1 numbers of CA), which may not be the one parsing
	// used. Leading zeros are kept (the "Italian leading zero"), so the
	// national significant number is national as it is.
	main := countryPlan(cc)
	if main == nil {
		return "", false
	}
	// (A plan without a national number pattern would take any length
	// parsing lets through.)
	if main.nationalNumberPattern != "" && main.testLength(national) != possible {
		return "", false
	}
	return "+" + strconv.Itoa(cc) + national, true
}

// The bounds of a national significant number's length
// (libphonenumber's MIN_LENGTH_FOR_NSN and MAX_LENGTH_FOR_NSN).
const (
	minNSN = 2
	maxNSN = 17
	// maxCountryCodeLen is MAX_LENGTH_COUNTRY_CODE.
	maxCountryCodeLen = 3
)

var (
	errInvalidCountryCode = errors.New("invalid country code")
	errTooShortAfterIDD   = errors.New("too short after the international prefix")
)

// plan is a numbering plan, a region's or a non-geographical entity's:
// the fields of libphonenumber's PhoneMetadata that reading a number into
// E.164 consults.
type plan struct {
	id          uint16 // its index in plans
	region      string // ISO 3166-1 alpha-2; "" for a non-geographical entity
	countryCode uint16
	// internationalPrefix is a pattern of the prefixes dialled from the
	// region to call abroad (00, 011, "0(?:0|1[1-4])"...).
	internationalPrefix string
	// nationalPrefixForParsing is a pattern of what may precede a
	// national number (a trunk prefix, a carrier code), capturing what
	// nationalPrefixTransformRule rewrites.
	nationalPrefixForParsing    string
	nationalPrefixTransformRule string
	// nationalNumberPattern is the general description's pattern of
	// every national number of the plan.
	nationalNumberPattern string
	// possibleLengths and localOnlyLengths hold a length n as bit n.
	possibleLengths, localOnlyLengths uint32
}

// countryCode is a country calling code and the index in plans of its
// main region's plan.
type countryCode struct {
	code, plan uint16
}

// compiledPlan holds a plan's patterns, compiled on first use.
type compiledPlan struct {
	once sync.Once
	// idd, prefix and national are internationalPrefix and
	// nationalPrefixForParsing anchored at the start, and
	// nationalNumberPattern anchored at both ends, as libphonenumber
	// matches them.
	idd, prefix, national *regexp.Regexp
}

// compiled is indexed as plans. Zero until used: no work at init.
var compiled [len(plans)]compiledPlan

// patterns returns p's compiled patterns, compiling them once.
func (p *plan) patterns() *compiledPlan {
	c := &compiled[p.id]
	c.once.Do(func() {
		c.idd = regexp.MustCompile("^(?:" + p.internationalPrefix + ")")
		c.prefix = regexp.MustCompile("^(?:" + p.nationalPrefixForParsing + ")")
		c.national = regexp.MustCompile("^(?:" + p.nationalNumberPattern + ")$")
	})
	return c
}

// regionPlan returns region's plan, nil for a region libphonenumber has
// no plan for ("", "ZZ", "001", lower case).
func regionPlan(region string) *plan {
	i, ok := slices.BinarySearchFunc(plans[:regionPlans], region, func(p plan, r string) int {
		return strings.Compare(p.region, r)
	})
	if !ok {
		return nil
	}
	return &plans[i]
}

// countryPlan returns the plan of cc's main region, nil for a country
// calling code libphonenumber does not know.
func countryPlan(cc int) *plan {
	i, ok := slices.BinarySearchFunc(countryCodes[:], cc, func(c countryCode, cc int) int {
		return cmp.Compare(int(c.code), cc)
	})
	if !ok {
		return nil
	}
	return &plans[countryCodes[i].plan]
}

// extractCountryCode is libphonenumber's maybeExtractCountryCode: the
// country code number starts with after '+' or def's international
// prefix, with the national number after it; or def's own country code
// when number starts with it and reads better without it; or 0 and ""
// when number has no country code.
func extractCountryCode(number string, def *plan) (cc int, national string, err error) {
	if number == "" {
		return 0, "", nil
	}
	// maybeStripInternationalPrefixAndNormalize
	international := false
	var full string
	if number[0] == '+' {
		i := 0
		for i < len(number) && number[i] == '+' {
			i++
		}
		full = digitsOnly(number[i:])
		international = true
	} else {
		full = digitsOnly(number)
		if def != nil {
			// An international prefix counts unless a 0 follows it:
			// country codes do not start with 0.
			if m := def.patterns().idd.FindStringIndex(full); m != nil && (m[1] == len(full) || full[m[1]] != '0') {
				full = full[m[1]:]
				international = true
			}
		}
	}
	if international {
		if len(full) <= minNSN {
			return 0, "", errTooShortAfterIDD
		}
		if full[0] != '0' {
			for i := 1; i <= maxCountryCodeLen && i <= len(full); i++ {
				c, _ := strconv.Atoi(full[:i])
				if countryPlan(c) != nil {
					return c, full[i:], nil
				}
			}
		}
		return 0, "", errInvalidCountryCode
	}
	if def == nil {
		return 0, "", nil
	}
	// A number that starts with the region's own country code, without
	// '+': the code goes if the rest reads as a national number and the
	// whole did not, or if the whole is too long.
	code := strconv.Itoa(int(def.countryCode))
	if len(full) >= len(code) && full[:len(code)] == code {
		rest := stripNationalPrefix(full[len(code):], def)
		re := def.patterns().national
		if (!re.MatchString(full) && re.MatchString(rest)) || def.testLength(full) == tooLong {
			return int(def.countryCode), rest, nil
		}
	}
	return 0, "", nil
}

// stripNationalPrefix is libphonenumber's
// maybeStripNationalPrefixAndCarrierCode: number without p's national
// prefix (or carrier code, or with the prefix rewritten by the transform
// rule), or number as it is when it has none or when stripping it would
// make a number that matched p's national pattern stop matching it.
func stripNationalPrefix(number string, p *plan) string {
	if number == "" || p.nationalPrefixForParsing == "" {
		return number
	}
	c := p.patterns()
	groups := c.prefix.FindStringSubmatchIndex(number)
	if groups == nil {
		return number
	}
	viableOriginal := c.national.MatchString(number)
	last := len(groups)/2 - 1 // the last capturing group
	var rest string
	if p.nationalPrefixTransformRule == "" || groups[last*2] < 0 {
		rest = number[groups[1]:]
	} else {
		rest = c.prefix.ReplaceAllString(number, p.nationalPrefixTransformRule)
	}
	if viableOriginal && !c.national.MatchString(rest) {
		return number
	}
	return rest
}

// lengthResult is libphonenumber's ValidationResult, for lengths.
type lengthResult int

const (
	possible lengthResult = iota
	possibleLocalOnly
	tooShort
	tooLong
	invalidLength
)

// testLength is libphonenumber's testNumberLength for the general
// description (type UNKNOWN). ./gen guarantees possibleLengths is not
// empty.
func (p *plan) testLength(number string) lengthResult {
	n := len(number)
	var bit uint32
	if n < 32 {
		bit = 1 << n
	}
	shortest := bits.TrailingZeros32(p.possibleLengths)
	longest := 31 - bits.LeadingZeros32(p.possibleLengths)
	switch {
	case p.localOnlyLengths&bit != 0:
		return possibleLocalOnly
	case n == shortest:
		return possible
	case n < shortest:
		return tooShort
	case n > longest:
		return tooLong
	case p.possibleLengths&bit != 0:
		return possible
	}
	return invalidLength
}

// viable is libphonenumber's isViablePhoneNumber for number, which
// starts with '+' or a digit and holds PhoneShaped's characters only:
// exactly two digits, or any '+' signs then at least three digits,
// punctuation anywhere among them.
func viable(number string) bool {
	if len(number) < minNSN {
		return false
	}
	if len(number) == 2 && isDigit(number[0]) && isDigit(number[1]) {
		return true
	}
	i := 0
	for i < len(number) && number[i] == '+' {
		i++
	}
	digits := 0
	for ; i < len(number); i++ {
		switch c := number[i]; {
		case isDigit(c):
			digits++
		case c == '+':
			return false
		}
	}
	return digits >= 3
}

// digitsOnly is libphonenumber's normalize for PhoneShaped characters:
// the digits.
func digitsOnly(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			n++
		}
	}
	if n == len(s) {
		return s
	}
	b := make([]byte, 0, n)
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			b = append(b, s[i])
		}
	}
	return string(b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
