package phonelib_test

import (
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nyaruka/phonenumbers"

	"github.com/heraldhq/herald/internal/address"
	"github.com/heraldhq/herald/internal/address/phonelib"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		region string
		want   string // "" when the number cannot be normalized
	}{
		{"an E.164 number stays as it is", "+14155550100", "", "+14155550100"},
		{"an E.164 number ignores the default region", "+33612345678", "US", "+33612345678"},
		{"a formatted international number loses its spaces and dashes", "+1 415-555-0100", "", "+14155550100"},
		{"a US national number takes the US country code", "4155550100", "US", "+14155550100"},
		{"AJO's example 1234567890 is a possible US number", "1234567890", "US", "+11234567890"},
		{"AJO's example 111-111-1111 is a possible US number", "111-111-1111", "US", "+11111111111"},
		{"a parenthesized area code is read", "(415) 555-0100", "US", "+14155550100"},
		{"a French national number drops its trunk 0", "06 12 34 56 78", "FR", "+33612345678"},
		{"the region's international prefix is read", "00 33 6 12 34 56 78", "FR", "+33612345678"},
		{"the 555 test range is kept", "+15555550100", "", "+15555550100"},
		{"a national number without a default region is refused", "4155550100", "", ""},
		{"a number too long for its region is refused", "1234567890", "FR", ""},
		{"a number too short for its country is refused", "+1234567", "", ""},
		{"a local-only number is refused", "555-0100", "US", ""},
		{"an unknown country code is refused", "+999123456", "", ""},
		{"letters are refused", "1-800-FLOWERS", "US", ""},
		{"a control character is refused", "415555\n0100", "US", ""},
		{"an empty number is refused", "", "US", ""},
		{"more than 32 bytes are refused", "+1 " + strings.Repeat(" ", 30) + "4155550100", "US", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := phonelib.Normalize(tt.in, tt.region)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("Normalize(%q, %q) = %q, %t; want %q", tt.in, tt.region, got, ok, tt.want)
			}
		})
	}
}

// address.KnownRegion answers from a table so that Manage does not link
// libphonenumber; the table must be the regions Normalize can read.
func TestKnownRegionsAreLibphonenumbers(t *testing.T) {
	want := slices.Sorted(maps.Keys(phonenumbers.GetSupportedRegions()))
	got := strings.Fields(address.PhoneRegions)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("address.PhoneRegions against phonenumbers.GetSupportedRegions (-want +got):\n%s", diff)
	}
	for _, r := range want {
		if !address.KnownRegion(r) {
			t.Errorf("KnownRegion(%q) = false, but libphonenumber reads its numbers", r)
		}
	}
}

// Functions read numbers with phonelib's generated plans: libphonenumber
// (and the protobuf runtime it decodes its metadata with) is for ./gen and
// the tests alone, and a function linking it again would pay ≈ 9 MiB and
// ≈ 8 ms of package initialization at every cold start.
func TestNoFunctionLinksLibphonenumber(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list the functions' dependencies")
	}
	const module = "github.com/heraldhq/herald/"
	// As the Makefile builds the Lambda packages.
	cmd := exec.Command(gobin, "list", "-tags", "lambda.norpc", "-f", "{{.ImportPath}} {{join .Deps \" \"}}",
		module+"functions/...", module+"internal/app")
	cmd.Env = append(cmd.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 3 {
		t.Fatalf("go list named %d packages, want every function and internal/app:\n%s", len(lines), out)
	}
	var normalizers []string
	for _, line := range lines {
		pkg, deps, _ := strings.Cut(line, " ")
		pkg = strings.TrimPrefix(pkg, module)
		for _, dep := range strings.Fields(deps) {
			if dep == "github.com/nyaruka/phonenumbers" || strings.HasPrefix(dep, "google.golang.org/protobuf/") {
				t.Errorf("%s links %s", pkg, dep)
			}
			if dep == module+"internal/address/phonelib" {
				normalizers = append(normalizers, pkg)
			}
		}
	}
	// Dispatch reads numbers (with the SMS configuration's region); the
	// check above means something only while it links this package.
	if !slices.Contains(normalizers, "functions/dispatch") {
		t.Errorf("functions/dispatch does not link internal/address/phonelib (linked by %v)", normalizers)
	}
}
