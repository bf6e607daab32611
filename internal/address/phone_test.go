package address_test

import (
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/address"
)

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

func TestE164OnlyKeepsE164AndReadsNothingElse(t *testing.T) {
	tests := []struct {
		in, region string
		want       string // "" when refused
	}{
		{"+14155550100", "", "+14155550100"},
		{"+14155550100", "US", "+14155550100"},
		{"+33612345678", "US", "+33612345678"},
		{"4155550100", "US", ""},
		{"111-111-1111", "US", ""},
		{"+1 415-555-0100", "US", ""},
		{"", "US", ""},
	}
	for _, tt := range tests {
		got, ok := address.E164Only(tt.in, tt.region)
		if ok != (tt.want != "") || ok && got != tt.want {
			t.Errorf("E164Only(%q, %q) = %q, %t; want %q", tt.in, tt.region, got, ok, tt.want)
		}
	}
}

func TestKnownRegion(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool
	}{{"US", true}, {"FR", true}, {"GB", true}, {"AC", true}, {"ZW", true}, {"us", false}, {"UK", false}, {"ZZ", false},
		{"", false}, {"USA", false}, {"001", false}, {"S ", false}, {" A", false}, {"C ", false}} {
		if got := address.KnownRegion(tt.in); got != tt.want {
			t.Errorf("KnownRegion(%q) = %t, want %t", tt.in, got, tt.want)
		}
	}
}
