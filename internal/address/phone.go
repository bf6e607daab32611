package address

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// MaxPhoneLen is the longest phone number accepted as written, spaces
// and punctuation included: E.164 has at most 15 digits, and 32 bytes
// leave room for "+1 (415) 555-0100"-style formatting and an
// international prefix.
const MaxPhoneLen = 32

// PhoneShaped reports whether s may be a phone number as people and
// AJO's examples write it ("+14155550100", "1234567890",
// "111-111-1111", "(415) 555-0100", "06 12 34 56 78"): 1 to MaxPhoneLen
// bytes of digits, spaces and + - ( ) . /, with at least one digit. It
// says nothing of the number's validity, which needs the SMS
// configuration's default region (NormalizePhone): a request refuses
// only what can never be a number, so a number that turns out unusable
// fails that one recipient instead of the whole call.
func PhoneShaped(s string) bool {
	if len(s) == 0 || len(s) > MaxPhoneLen {
		return false
	}
	digits := false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits = true
		case strings.ContainsRune(" +-()./", r):
		default:
			return false
		}
	}
	return digits
}

// NormalizePhone returns s in E.164 ("+14155550100"): a number with an
// international prefix ('+' and a country code, or the region's own
// prefix such as 00 or 011) as it is, any other number as a national
// number of region (an ISO 3166-1 alpha-2 code such as "US"; "" when
// there is no default, and then only international numbers normalize).
// ok is false for what libphonenumber's metadata cannot make a possible
// number of its country (wrong length for the country, unknown country
// code, no region for a national number).
//
// Possible, not valid: libphonenumber's validity tables lag the
// operators' new number ranges and refuse the test ranges (555,
// AJO's own "1234567890"), and a number refused here is a message never
// attempted, while the SMS provider is the authority on what it can
// deliver and reports what it cannot as that recipient's outcome.
func NormalizePhone(s, region string) (e164 string, ok bool) {
	if !PhoneShaped(s) {
		return "", false
	}
	n, err := phonenumbers.Parse(s, region)
	if err != nil || phonenumbers.IsPossibleNumberWithReason(n) != phonenumbers.IS_POSSIBLE {
		return "", false
	}
	return phonenumbers.Format(n, phonenumbers.E164), true
}

// KnownRegion reports whether region is an ISO 3166-1 alpha-2 code, in
// upper case, that libphonenumber has numbering metadata for: the
// regions NormalizePhone can read national numbers of.
func KnownRegion(region string) bool {
	return len(region) == 2 && region == strings.ToUpper(region) && phonenumbers.GetSupportedRegions()[region]
}
