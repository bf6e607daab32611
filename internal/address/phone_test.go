package address_test

import (
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/address"
)

func TestNormalizePhone(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		region string
		want   string // "" when the number cannot be normalized
	}{
		{"an E.164 number stays as it is", "+14155550100", "", "+14155550100"},
		{"an E.164 number ignores the default region", "+33612345678", "US", "+33612345678"},
		{"a formatted international number loses its spaces and dashes", "+1 415-555-0100", "", "+14155550100"},
		{"a US national number takes the US country code", "4155550100", "US", "+14155550100"},
		{"AJO's example 1234567890 is a possible US number", "1234567890", "US", "+11234567890"},
		{"AJO's example 111-111-1111 is a possible US number", "111-111-1111", "US", "+11111111111"},
		{"a parenthesized area code is read", "(415) 555-0100", "US", "+14155550100"},
		{"a French national number drops its trunk 0", "06 12 34 56 78", "FR", "+33612345678"},
		{"the region's international prefix is read", "00 33 6 12 34 56 78", "FR", "+33612345678"},
		{"the 555 test range is kept", "+15555550100", "", "+15555550100"},
		{"a national number without a default region is refused", "4155550100", "", ""},
		{"a number too long for its region is refused", "1234567890", "FR", ""},
		{"a number too short for its country is refused", "+1234567", "", ""},
		{"a local-only number is refused", "555-0100", "US", ""},
		{"an unknown country code is refused", "+999123456", "", ""},
		{"letters are refused", "1-800-FLOWERS", "US", ""},
		{"a control character is refused", "415555\n0100", "US", ""},
		{"an empty number is refused", "", "US", ""},
		{"more than 32 bytes are refused", "+1 " + strings.Repeat(" ", 30) + "4155550100", "US", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := address.NormalizePhone(tt.in, tt.region)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("NormalizePhone(%q, %q) = %q, %t; want %q", tt.in, tt.region, got, ok, tt.want)
			}
		})
	}
}

func TestPhoneShaped(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"+14155550100", true},
		{"1234567890", true},
		{"111-111-1111", true},
		{"(415) 555.0100", true},
		{"06/12/34/56/78", true},
		{strings.Repeat("1", 32), true},
		{strings.Repeat("1", 33), false},
		{"", false},
		{"+-() ./", false},
		{"0612-piiMarker", false},
		{"4155550100\r\n", false},
		{"٤١٥٥٥٥٠١٠٠", false}, // digits, but not ASCII ones
	}
	for _, tt := range tests {
		name := "accepts " + tt.in
		if !tt.want {
			name = "rejects " + tt.in
		}
		t.Run(name, func(t *testing.T) {
			if got := address.PhoneShaped(tt.in); got != tt.want {
				t.Errorf("PhoneShaped(%q) = %t, want %t", tt.in, got, tt.want)
			}
		})
	}
}

func TestKnownRegion(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool
	}{{"US", true}, {"FR", true}, {"GB", true}, {"us", false}, {"UK", false}, {"ZZ", false}, {"", false}, {"USA", false}, {"001", false}} {
		if got := address.KnownRegion(tt.in); got != tt.want {
			t.Errorf("KnownRegion(%q) = %t, want %t", tt.in, got, tt.want)
		}
	}
}
