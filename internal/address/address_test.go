package address_test

import (
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/address"
)

func TestValidEmail(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"jane@example.com", true},
		{"jane.doe+news@mail.example.co.uk", true},
		{"o'brien@example.ie", true},
		{"", false},
		{"jane", false},
		{"jane@", false},
		{"@example.com", false},
		{"jane@localhost", false},
		{"jane@.example.com", false},
		{"jane@example.com.", false},
		{" jane@example.com", false},
		{"jane@example.com ", false},
		{"Jane <jane@example.com>", false},
		{"<jane@example.com>", false},
		{"jane@example.com\r\nBcc: all@example.com", false},
		{"jane\n@example.com", false},
		{"jane@exa mple.com", false},
		{"jane@@example.com", false},
		{strings.Repeat("a", 64) + "@" + strings.Repeat("b", 185) + ".com", true},  // 254 bytes
		{strings.Repeat("a", 64) + "@" + strings.Repeat("b", 186) + ".com", false}, // 255 bytes
	}
	for _, tt := range tests {
		name := "accepts " + tt.in
		if !tt.want {
			name = "rejects " + tt.in
		}
		t.Run(name, func(t *testing.T) {
			if got := address.ValidEmail(tt.in); got != tt.want {
				t.Errorf("ValidEmail(%q) = %t, want %t", tt.in, got, tt.want)
			}
		})
	}
}

func TestDomain(t *testing.T) {
	tests := []struct{ in, want string }{
		{"jane@Example.COM", "example.com"},
		{"\"a@b\"@example.org", "example.org"},
		{"no-at-sign", "no-at-sign"},
	}
	for _, tt := range tests {
		if got := address.Domain(tt.in); got != tt.want {
			t.Errorf("Domain(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestStripLineBreaks(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"a line without breaks is unchanged", "Your order 42", "Your order 42"},
		{"CRLF becomes one space", "a\r\nBcc: x", "a Bcc: x"},
		{"lone CR and LF become spaces", "a\rb\nc", "a b c"},
		{"a trailing break becomes a space", "end\n", "end "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := address.StripLineBreaks(tt.in)
			if got != tt.want {
				t.Errorf("StripLineBreaks(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if strings.ContainsAny(got, "\r\n") {
				t.Errorf("StripLineBreaks(%q) = %q still holds a line break", tt.in, got)
			}
		})
	}
}
