// Package address validates the addresses messages are sent to.
package address

import (
	"net/mail"
	"strings"
)

// ValidEmail reports whether s is a bare addr-spec (local@domain, no
// display name, no surrounding spaces) with a dotted domain, at most 254
// bytes as RFC 5321 allows.
func ValidEmail(s string) bool {
	if len(s) == 0 || len(s) > 254 || strings.ContainsAny(s, " \t\r\n<>") {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	return at > 0 && strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

// Domain returns the part of an email address after the last '@',
// lower-cased.
func Domain(email string) string {
	return strings.ToLower(email[strings.LastIndexByte(email, '@')+1:])
}

// StripLineBreaks removes CR and LF, so a rendered value can never start a
// new header line.
func StripLineBreaks(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(s)
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
