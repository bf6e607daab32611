package phonelib

import (
	"strings"
	"testing"
)

// Normalize finds plans by binary search and compiles their patterns on
// first use, in a Lambda handler: the generated table must be sorted,
// indexed as it says, and every pattern must compile.
func TestGeneratedPlans(t *testing.T) {
	for i := range plans {
		p := &plans[i]
		if int(p.id) != i {
			t.Errorf("plans[%d].id = %d", i, p.id)
		}
		if i < regionPlans && (len(p.region) != 2 || i > 0 && strings.Compare(plans[i-1].region, p.region) >= 0) {
			t.Errorf("plans[%d] (%q) out of order or not a region", i, p.region)
		}
		if i >= regionPlans && p.region != "" {
			t.Errorf("plans[%d] (%q) is a region after the regions' plans", i, p.region)
		}
		if p.possibleLengths == 0 {
			t.Errorf("plans[%d] (%q, +%d) has no possible length", i, p.region, p.countryCode)
		}
		if regionPlan(p.region) != p && i < regionPlans {
			t.Errorf("regionPlan(%q) is not plans[%d]", p.region, i)
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("plans[%d] (%q, +%d): %v", i, p.region, p.countryCode, r)
				}
			}()
			p.patterns()
		}()
	}
	for i, c := range countryCodes {
		if i > 0 && countryCodes[i-1].code >= c.code {
			t.Errorf("countryCodes[%d] (%d) out of order", i, c.code)
		}
		if p := countryPlan(int(c.code)); p == nil || p.countryCode != c.code {
			t.Errorf("countryPlan(%d) = %+v", c.code, p)
		}
	}
	for _, r := range []string{"", "ZZ", "001", "us", "U", "USA"} {
		if p := regionPlan(r); p != nil {
			t.Errorf("regionPlan(%q) = %q, want none", r, p.region)
		}
	}
}
