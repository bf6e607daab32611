// Package wiring_test holds each function's AWS clients to its wiring —
// a function links the SDK clients it calls and no other — and its
// packages to what it serves.
package wiring_test

import (
	"maps"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// clients are the SDK service clients each function links (DynamoDB, the
// table, is every function's).
var clients = map[string][]string{
	"deadletter": {"dynamodb", "sqs"},
	"dispatch":   {"dynamodb", "sesv2", "sns", "sqs"},
	"feedback":   {"dynamodb", "sns", "sqs"},
	"manage":     {"dynamodb", "scheduler", "secretsmanager", "sesv2", "sns", "sqs"},
	"reports":    {"dynamodb"},
	"scheduler":  {"dynamodb", "scheduler", "sqs"},
	"trigger":    {"dynamodb", "scheduler", "secretsmanager", "sqs"},
	"webhook":    {"dynamodb", "sqs"},
}

// loaders are the SDK's shared-config loader and its providers (SSO,
// STS, IMDS, the profile files): the functions read their configuration
// with awsenv, and only command-line tools link these.
var loaders = []string{"github.com/aws/aws-sdk-go-v2/config", "github.com/aws/aws-sdk-go-v2/feature/ec2/imds",
	"github.com/aws/aws-sdk-go-v2/service/sso", "github.com/aws/aws-sdk-go-v2/service/sts"}

// functionDeps lists each function's dependencies (by its directory
// name under functions/) as the Makefile builds the Lambda packages.
func functionDeps(t *testing.T) map[string][]string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list the functions' dependencies")
	}
	cmd := exec.Command(gobin, "list", "-tags", "lambda.norpc", "-f", "{{.ImportPath}} {{join .Deps \" \"}}", module+"functions/...")
	cmd.Env = append(cmd.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := map[string][]string{}
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		pkg, ds, _ := strings.Cut(line, " ")
		deps[strings.TrimPrefix(pkg, module+"functions/")] = strings.Fields(ds)
	}
	return deps
}

const module = "github.com/heraldhq/herald/"

func TestEachFunctionLinksOnlyTheClientsItCalls(t *testing.T) {
	const service = "github.com/aws/aws-sdk-go-v2/service/"
	got := map[string][]string{}
	for fn, deps := range functionDeps(t) {
		got[fn] = []string{}
		for _, d := range deps {
			if slices.Contains(loaders, d) {
				t.Errorf("%s links %s", fn, d)
			}
			if name, ok := strings.CutPrefix(d, service); ok && !strings.Contains(name, "/") && !slices.Contains(loaders, d) {
				got[fn] = append(got[fn], name)
			}
		}
		slices.Sort(got[fn])
	}
	if diff := cmp.Diff(clients, got); diff != "" {
		t.Errorf("SDK clients each function links (-want +got):\n%s", diff)
	}
}

// httpOnly are the packages of the HTTP API (routes, OpenAPI document,
// console, previews): only the functions that serve it, Trigger and
// Manage, link them (they are built in internal/app/httpapp).
var httpOnly = []string{module + "internal/app/httpapp", module + "internal/httpapi", module + "internal/openapi",
	module + "internal/console", module + "internal/preview"}

// schemaReaders are the functions that read context JSON Schemas, and
// so link the JSON Schema library (whose init compiles its
// meta-schemas), through contextschema, which their wiring gives.
var schemaReaders = []string{"manage", "scheduler", "trigger"}

// neverLinked are the libraries whose data a generator copies into a
// table (phonelib's numbering plans, cldr's locales): no function links
// them, nor any of their packages.
var neverLinked = []string{"github.com/nyaruka/phonenumbers", "github.com/go-playground/locales"}

// TestEachFunctionLinksOnlyThePackagesItServes holds the split of the
// composition root (docs/performance.md, "Lambda packages and cold
// starts"): a function that serves no HTTP route does not link the HTTP
// API's packages, one that reads no context schema not the JSON Schema
// library, and none links a library a generated table replaces.
func TestEachFunctionLinksOnlyThePackagesItServes(t *testing.T) {
	deps := functionDeps(t)
	if len(deps) != len(clients) {
		t.Fatalf("go list found functions %v; want those of clients", slices.Sorted(maps.Keys(deps)))
	}
	for fn, ds := range deps {
		serveHTTP := fn == "trigger" || fn == "manage"
		readsSchemas := slices.Contains(schemaReaders, fn)
		for _, d := range ds {
			if !readsSchemas && (d == module+"internal/contextschema" || strings.HasPrefix(d, "github.com/santhosh-tekuri/jsonschema")) {
				t.Errorf("%s links %s, which only the functions that read context schemas need", fn, d)
			}
			if !serveHTTP && slices.Contains(httpOnly, d) {
				t.Errorf("%s links %s, which only the HTTP API functions need", fn, d)
			}
			for _, lib := range neverLinked {
				if d == lib || strings.HasPrefix(d, lib+"/") {
					t.Errorf("%s links %s, which a generated table replaces", fn, d)
				}
			}
		}
	}
}

// zoneReaders are the functions that may load an IANA zone (a
// profile's, quiet hours', a schedule's, formatDate's), and so link
// package zone's compressed copy of the zone database (about 75 KiB;
// Lambda's image has none). The others import the package but never
// load a zone, so the linker leaves the copy out.
var zoneReaders = []string{"deadletter", "dispatch", "manage"}

func TestNoFunctionLinksTZData(t *testing.T) {
	for fn, deps := range functionDeps(t) {
		if slices.Contains(deps, "time/tzdata") {
			t.Errorf("%s links time/tzdata (400 KiB); package zone holds the zones, compressed", fn)
		}
	}
}

// TestEveryZoneIsLoadedByPackageZone builds each function: the zone
// readers, and only they, carry package zone's copy of the database, and
// none calls time.LoadLocation itself (its non-standard code
// disassembled), which on Lambda (no zone database, no time/tzdata)
// would find no zone; zone.Load reads the system's database, then the
// copy.
func TestEveryZoneIsLoadedByPackageZone(t *testing.T) {
	gobin := goCommand(t, "builds and disassembles functions")
	const copySymbol = module + "internal/zone.database"
	for _, fn := range slices.Sorted(maps.Keys(clients)) {
		t.Run(fn, func(t *testing.T) {
			t.Parallel()
			bin := buildFunction(t, gobin, fn)
			syms, err := exec.Command(gobin, "tool", "nm", bin).Output()
			if err != nil {
				t.Fatalf("nm %s: %v", fn, err)
			}
			carries := strings.Contains(string(syms), " "+copySymbol+"\n")
			if want := slices.Contains(zoneReaders, fn); carries != want {
				t.Errorf("%s carries the zone database: %v, want %v", fn, carries, want)
			}
			out, err := exec.Command(gobin, "tool", "objdump", "-s", `^github\.com/`, bin).Output()
			if err != nil {
				t.Fatalf("objdump %s: %v", fn, err)
			}
			var current string
			for line := range strings.SplitSeq(string(out), "\n") {
				if name, ok := strings.CutPrefix(line, "TEXT "); ok {
					current, _, _ = strings.Cut(name, "(SB)")
					continue
				}
				if strings.Contains(line, "CALL time.LoadLocation(SB)") || strings.Contains(line, "BL time.LoadLocation(SB)") {
					t.Errorf("%s: %s calls time.LoadLocation; load zones with zone.Load", fn, current)
				}
			}
		})
	}
}

// TestTheJSONSchemaLibraryCompilesNothingAtStart builds each function
// that links the JSON Schema library and reads its package init under
// GODEBUG=inittrace=1: the vendored copy (third_party/jsonschema-v5,
// HERALD.md) compiles its meta-schemas on the first Compile, not at init,
// where they cost 8,550 allocations (1 MB, 2.5–4.6 ms) in every cold
// start. Allocations are counted, not time.
func TestTheJSONSchemaLibraryCompilesNothingAtStart(t *testing.T) {
	gobin := goCommand(t, "builds and runs functions")
	const lib = "github.com/santhosh-tekuri/jsonschema/v5"
	for _, fn := range schemaReaders {
		bin := buildFunction(t, gobin, fn)
		// Without its configuration the function stops right after the
		// packages' inits (config: HERALD_TABLE is required).
		run := exec.Command(bin)
		run.Env = []string{"GODEBUG=inittrace=1", "PATH=/usr/bin:/bin"}
		out, _ := run.CombinedOutput()
		var line string
		for l := range strings.SplitSeq(string(out), "\n") {
			if strings.HasPrefix(l, "init "+lib+" ") {
				line = l
			}
		}
		if line == "" {
			t.Fatalf("%s: no init line for %s in:\n%s", fn, lib, out)
		}
		// "init <pkg> @1.2 ms, 0.01 ms clock, 4712 bytes, 49 allocs"
		f := strings.Fields(line)
		allocs, err := strconv.Atoi(f[len(f)-2])
		if err != nil || f[len(f)-1] != "allocs" {
			t.Fatalf("%s: cannot read %q", fn, line)
		}
		if allocs > 200 {
			t.Errorf("%s: the JSON Schema library's init made %d allocations (%s); its meta-schemas must wait for the first Compile", fn, allocs, line)
		}
	}
}

// goCommand returns the go command for a test that builds functions,
// skipping it (why) under -short or when there is none.
func goCommand(t *testing.T, why string) string {
	t.Helper()
	if testing.Short() {
		t.Skip(why)
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the functions")
	}
	return gobin
}

// buildFunction builds function fn for this machine as the Makefile
// builds it for Lambda and returns the binary's path.
func buildFunction(t *testing.T, gobin, fn string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), fn)
	build := exec.Command(gobin, "build", "-trimpath", "-tags", "lambda.norpc", "-o", bin, module+"functions/"+fn)
	build.Env = append(build.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", fn, err, out)
	}
	return bin
}
