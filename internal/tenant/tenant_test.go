package tenant_test

import (
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/tenant"
)

func TestNamesAreOneTo128OfTheirAlphabet(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"ACME@AdobeOrg", true},
		{"prod", true},
		{"a.b_c-D9", true},
		{strings.Repeat("a", 128), true},
		{strings.Repeat("a", 129), false},
		{"", false},
		{"acme#prod", false}, // the storage keys' separator
		{"ac me", false},
		{"acmé", false},
		{"acme/prod", false},
		{"acme\n", false},
	} {
		err := tenant.Tenant{Org: tc.name, Sandbox: "prod"}.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("org %q: error %v, want ok=%v", tc.name, err, tc.ok)
		}
		err = tenant.Tenant{Org: "ACME@AdobeOrg", Sandbox: tc.name}.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("sandbox %q: error %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}
