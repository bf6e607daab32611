package campaign

import "strings"

// Allowlist is what a deployment lets channel configurations send through:
// the SES identity From addresses must be or be under, and the SNS
// platform applications push apps may name. Without it any tenant could
// send as any verified identity, or push through any application, of the
// account Herald runs in.
//
// It is checked when a configuration is created or changed (a 400 naming
// the field), when a campaign is reviewed (an error, so activation is
// refused), and by Dispatch before each send (the recipient ends
// failed:unauthorized_sender or failed:unauthorized_application and
// nothing is sent), so a configuration stored before, or under other
// settings, cannot send either. The functions build it from
// HERALD_SENDER_IDENTITY and HERALD_PUSH_APPLICATIONS, which the template
// sets from its SenderIdentity and PushApplicationNames parameters, the
// same values its IAM policies are scoped to.
type Allowlist struct {
	// SenderIdentity is an SES identity. A domain allows From addresses in
	// it and in its subdomains (as SES sends for a verified domain's
	// subdomains); an address allows itself. Empty allows no sender.
	SenderIdentity string
	// PushApplications is a pattern of the platform application ARNs
	// allowed, in IAM's syntax: '*' matches any run of characters, '?' any
	// one ("arn:aws:sns:us-east-1:123456789012:app/*/herald-*"). Empty
	// allows none.
	PushApplications string
}

// AllowsSender reports whether a configuration may send as from.
// Addresses and domains compare without regard to case.
func (a Allowlist) AllowsSender(from string) bool {
	id := strings.ToLower(strings.TrimSpace(a.SenderIdentity))
	from = strings.ToLower(from)
	at := strings.LastIndexByte(from, '@')
	if id == "" || at < 0 {
		return false
	}
	if strings.Contains(id, "@") {
		return from == id
	}
	domain := from[at+1:]
	return domain == id || strings.HasSuffix(domain, "."+id)
}

// AllowsApplication reports whether a push app may send through the
// platform application arn.
func (a Allowlist) AllowsApplication(arn string) bool {
	return a.PushApplications != "" && arn != "" && MatchARN(a.PushApplications, arn)
}

// MatchARN reports whether s matches pattern as IAM matches a policy's
// Resource against an ARN: '*' is any run of characters (none included,
// '/' and ':' too) and '?' any one; the rest compares exactly. The
// allowlist and the checks of the template's policies both use it, so
// they agree with each other and with IAM.
func MatchARN(pattern, s string) bool {
	// The classic two-pointer match: on a mismatch, let the last '*' seen
	// swallow one more character and try again from there.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			// Before the literal case: a '*' in s is matched by the
			// wildcard, not taken for one.
			star, mark = p, i
			p++
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
