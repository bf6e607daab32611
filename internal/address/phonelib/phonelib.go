// Package phonelib reads phone numbers as Adobe Journey Optimizer accepts
// them, with libphonenumber (github.com/nyaruka/phonenumbers), into E.164.
//
// It is kept apart from package address, and internal/app never imports
// it, because libphonenumber decodes all its metadata when its package is
// initialized: every binary linking it pays that at start-up and in size
// (docs/performance.md). A function main that sends SMS injects Normalize
// (app.SetPhoneNormalizer); every other function checks a number's shape
// only (address.PhoneShaped). TestOnlyDispatchLinksLibphonenumber holds
// that.
package phonelib

import (
	"github.com/nyaruka/phonenumbers"

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
func Normalize(s, region string) (e164 string, ok bool) {
	if !address.PhoneShaped(s) {
		return "", false
	}
	n, err := phonenumbers.Parse(s, region)
	if err != nil || phonenumbers.IsPossibleNumberWithReason(n) != phonenumbers.IS_POSSIBLE {
		return "", false
	}
	return phonenumbers.Format(n, phonenumbers.E164), true
}
