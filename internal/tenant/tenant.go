// Package tenant identifies who owns a piece of data. A tenant is one
// organisation's sandbox, as in Adobe Journey Optimizer (x-gw-ims-org-id and
// x-sandbox-name). Every stored item is keyed by its tenant, and request
// handlers take the tenant only from the caller's credential, never from a body.
package tenant

import (
	"fmt"
	"regexp"
)

// Tenant is an org and one of its sandboxes.
type Tenant struct {
	Org     string `json:"org"`
	Sandbox string `json:"sandbox"`
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9@._-]{1,128}$`)

// Validate reports whether org and sandbox are usable names: 1–128 of
// letters, digits and @ . _ -, so they can never collide with the '#'
// separator of storage keys.
func (t Tenant) Validate() error {
	if !namePattern.MatchString(t.Org) {
		return fmt.Errorf("org %q: must be 1-128 of A-Z a-z 0-9 @ . _ -", t.Org)
	}
	if !namePattern.MatchString(t.Sandbox) {
		return fmt.Errorf("sandbox %q: must be 1-128 of A-Z a-z 0-9 @ . _ -", t.Sandbox)
	}
	return nil
}

// Key is the tenant's storage key prefix, "org#sandbox".
func (t Tenant) Key() string { return t.Org + "#" + t.Sandbox }

// String returns "org/sandbox" for messages.
func (t Tenant) String() string { return t.Org + "/" + t.Sandbox }
