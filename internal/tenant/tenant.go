// Package tenant identifies who owns a piece of data. A tenant is one
// organisation's sandbox, as in Adobe Journey Optimizer (x-gw-ims-org-id and
// x-sandbox-name). Every stored item is keyed by its tenant, and request
// handlers take the tenant only from the caller's credential, never from a body.
package tenant

import (
	"fmt"
)

// Tenant is an org and one of its sandboxes.
type Tenant struct {
	Org     string `json:"org"`
	Sandbox string `json:"sandbox"`
}

// Validate reports whether org and sandbox are usable names: 1–128 of
// letters, digits and @ . _ -, so they can never collide with the '#'
// separator of storage keys.
func (t Tenant) Validate() error {
	if !validName(t.Org) {
		return fmt.Errorf("org %q: must be 1-128 of A-Z a-z 0-9 @ . _ -", t.Org)
	}
	if !validName(t.Sandbox) {
		return fmt.Errorf("sandbox %q: must be 1-128 of A-Z a-z 0-9 @ . _ -", t.Sandbox)
	}
	return nil
}

// validName is `^[A-Za-z0-9@._-]{1,128}$`, checked on every request
// without a regexp compiled at start (a 128-state repeat).
func validName(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '@', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// Key is the tenant's storage key prefix, "org#sandbox".
func (t Tenant) Key() string { return t.Org + "#" + t.Sandbox }

// String returns "org/sandbox" for messages.
func (t Tenant) String() string { return t.Org + "/" + t.Sandbox }
