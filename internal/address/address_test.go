package address_test

import (
	"strings"
	"testing"
	"unicode/utf8"

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
		{"f\x00z@example.com", false},
		{"f\u2028z@example.com", false},
		{"f\u0085z@example.com", false},
		{"\"f\u2028z\"@example.com", false},
		{"f\xff\xfez@example.com", false},
		{"f\ufffdz@example.com", true}, // U+FFFD itself is a character like any other
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
		{"non-ASCII text is unchanged", "Café ☕ — 42 €", "Café ☕ — 42 €"},
		{"CRLF becomes one space", "a\r\nBcc: x", "a Bcc: x"},
		{"lone CR and LF become spaces", "a\rb\nc", "a b c"},
		{"a trailing break becomes a space", "end\n", "end "},
		{"vertical tab, form feed and tab become spaces", "a\vb\fc\td", "a b c d"},
		{"NEL becomes a space", "a\u0085Bcc: x", "a Bcc: x"},
		{"the Unicode line and paragraph separators become spaces", "a\u2028b\u2029c", "a b c"},
		{"NUL is removed", "a\x00b", "ab"},
		{"other C0 controls, DEL and C1 controls are removed", "a\x01\x1b\x7f\u0080\u009fb", "ab"},
		{"invalid UTF-8 becomes U+FFFD", "a\xffb", "a\ufffdb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := address.StripLineBreaks(tt.in)
			if got != tt.want {
				t.Errorf("StripLineBreaks(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if address.HasControl(got) || !utf8.ValidString(got) {
				t.Errorf("StripLineBreaks(%q) = %q still holds a control character or invalid UTF-8", tt.in, got)
			}
		})
	}
}

func TestIsControl(t *testing.T) {
	tests := []struct {
		name string
		r    rune
		want bool
	}{
		{"NUL is a control", 0, true},
		{"TAB is a control", '\t', true},
		{"LF is a control", '\n', true},
		{"VT is a control", '\v', true},
		{"the last C0 control is a control", 0x1f, true},
		{"a space is not a control", ' ', false},
		{"a tilde is not a control", '~', false},
		{"DEL is a control", 0x7f, true},
		{"the first C1 control is a control", 0x80, true},
		{"NEL is a control", 0x85, true},
		{"the last C1 control is a control", 0x9f, true},
		{"a no-break space is not a control", 0xa0, false},
		{"LINE SEPARATOR is a control", 0x2028, true},
		{"PARAGRAPH SEPARATOR is a control", 0x2029, true},
		{"an em dash is not a control", 0x2014, false},
		{"U+FFFD is not a control", 0xfffd, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := address.IsControl(tt.r); got != tt.want {
				t.Errorf("IsControl(%U) = %t, want %t", tt.r, got, tt.want)
			}
		})
	}
}
