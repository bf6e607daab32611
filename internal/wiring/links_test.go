// Package wiring_test holds each function's AWS clients to its wiring —
// a function links the SDK clients it calls and no other — and its
// packages to what it serves.
package wiring_test

import (
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// clients are the SDK service clients each function links (DynamoDB, the
// table, is every function's).
var clients = map[string][]string{
	"deadletter": {"dynamodb", "sqs"},
	"dispatch":   {"dynamodb", "scheduler", "sesv2", "sns", "sqs"},
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

// neverLinked are the libraries whose data a generator copies into a
// table (phonelib's numbering plans, cldr's locales): no function links
// them, nor any of their packages.
var neverLinked = []string{"github.com/nyaruka/phonenumbers", "github.com/go-playground/locales"}

// TestEachFunctionLinksOnlyThePackagesItServes holds the split of the
// composition root (docs/performance.md, "Lambda packages and cold
// starts"): a function that serves no HTTP route does not link the HTTP
// API's packages, and none links a library a generated table replaces.
func TestEachFunctionLinksOnlyThePackagesItServes(t *testing.T) {
	deps := functionDeps(t)
	if len(deps) != len(clients) {
		t.Fatalf("go list found functions %v; want those of clients", slices.Sorted(maps.Keys(deps)))
	}
	for fn, ds := range deps {
		serveHTTP := fn == "trigger" || fn == "manage"
		for _, d := range ds {
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
