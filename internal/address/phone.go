package address

import "strings"

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
// configuration's default region (a PhoneNormalizer, in Dispatch): a
// request refuses only what can never be a number, so a number that
// turns out unusable fails that one recipient instead of the whole call.
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

// PhoneNormalizer returns s, a number as written, in E.164
// ("+14155550100"): a number with an international prefix as it is, any
// other as a national number of region (ISO 3166-1 alpha-2, such as
// "US"; "" when there is none). ok is false for a number it cannot make
// one Herald sends to, which is that recipient's failed:invalid_address.
//
// Dispatch's is package phonelib's (libphonenumber's answers, from a
// table generated from its metadata). It is injected, not imported, so
// that the functions that only check a number's shape link this package
// alone, without the numbering plans.
type PhoneNormalizer func(s, region string) (e164 string, ok bool)

// E164Only is the PhoneNormalizer of a function that was given no other:
// it keeps an E.164 number (ValidPhone) as it is and reads nothing else,
// whatever the region.
func E164Only(s, _ string) (string, bool) { return s, ValidPhone(s) }

// KnownRegion reports whether region is an ISO 3166-1 alpha-2 code, in
// upper case, that libphonenumber has a numbering plan for: the regions
// whose national numbers Dispatch can read. It is a table here rather
// than phonelib's answer so that Manage, which checks a configuration's
// defaultRegion, does not link the numbering plans; phonelib's tests hold
// the table to the library's.
func KnownRegion(region string) bool {
	if len(region) != 2 || region[0] < 'A' || region[0] > 'Z' || region[1] < 'A' || region[1] > 'Z' {
		return false
	}
	for i := 0; i < len(PhoneRegions); i += 3 {
		if PhoneRegions[i:i+2] == region {
			return true
		}
	}
	return false
}

// PhoneRegions lists the regions KnownRegion accepts, sorted and
// separated by spaces: those nyaruka/phonenumbers v1.8.1 has metadata
// for (245; AC, TA and XK included, as the library has them).
const PhoneRegions = "AC AD AE AF AG AI AL AM AO AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BW BY BZ " +
	"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
	"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GT GU GW GY HK HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP " +
	"KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS " +
	"MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PR PS PT PW PY QA RE RO RS RU " +
	"RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TA TC TD TG TH TJ TK TL TM TN TO TR TT TV TW TZ " +
	"UA UG US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW"
