// Package address validates the addresses messages are sent to.
package address

import (
	"net/mail"
	"strings"
	"unicode/utf8"
)

// ValidEmail reports whether s is a bare addr-spec (local@domain, no
// display name, no surrounding spaces, no control characters as IsControl
// defines them, valid UTF-8) with a dotted domain, at most 254 bytes as
// RFC 5321 allows.
func ValidEmail(s string) bool {
	if len(s) == 0 || len(s) > 254 || strings.ContainsAny(s, " <>") || HasControl(s) || !utf8.ValidString(s) {
		return false
	}
	if !dotAtoms(s) {
		// Anything else (quoted local parts, domain literals, non-ASCII)
		// is what net/mail says it is.
		a, err := mail.ParseAddress(s)
		if err != nil || a.Address != s || a.Name != "" {
			return false
		}
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	return at > 0 && strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

// dotAtoms reports whether s is local@domain with both parts RFC 5322
// dot-atoms of ASCII atext: the common address, which net/mail would parse
// back to itself with no display name. It is ValidEmail's fast path:
// net/mail allocates about ten times per address.
func dotAtoms(s string) bool {
	at := strings.IndexByte(s, '@')
	return at > 0 && dotAtom(s[:at]) && dotAtom(s[at+1:])
}

func dotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if s[i-1] == '.' {
				return false
			}
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// Domain returns the part of an email address after the last '@',
// lower-cased.
func Domain(email string) string {
	return strings.ToLower(email[strings.LastIndexByte(email, '@')+1:])
}

// IsControl reports whether r has no place in a header field or an
// identifier: a C0 control (NUL, TAB, LF, VT, FF, CR, ...), DEL, a C1
// control (NEL, ...), or U+2028 LINE SEPARATOR and U+2029 PARAGRAPH
// SEPARATOR, which mail clients, terminals and JavaScript may treat as line
// breaks.
func IsControl(r rune) bool {
	return r < 0x20 || r >= 0x7f && r <= 0x9f || r == 0x2028 || r == 0x2029
}

// HasControl reports whether s holds a character IsControl refuses.
func HasControl(s string) bool { return strings.ContainsFunc(s, IsControl) }

// StripLineBreaks makes a rendered value safe for a header line (a subject,
// a From name, a push title): CRLF and every other character that breaks a
// line or a column (CR, LF, VT, FF, TAB, NEL, U+2028, U+2029) become one
// space, every other control (NUL, the rest of C0 and C1, DEL) is removed,
// and invalid UTF-8 becomes U+FFFD. The name predates the wider rule: no
// character IsControl refuses survives it.
func StripLineBreaks(s string) string {
	if !HasControl(s) && utf8.ValidString(s) {
		return s
	}
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\r\n", " "), "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\t', r == '\n', r == '\v', r == '\f', r == '\r', r == 0x85, r == 0x2028, r == 0x2029:
			b.WriteByte(' ')
		case IsControl(r):
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ValidPhone reports whether s is an E.164 number: '+', a country code
// that does not start with 0, and 7 to 15 digits in all.
func ValidPhone(s string) bool {
	if len(s) < 8 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// NormalizeEmail lower-cases an address, the form suppression lists are
// keyed by (mailbox providers treat local parts case-insensitively).
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
