// Package wiring_test holds each function's AWS clients to its wiring:
// a function links the SDK clients it calls and no other.
package wiring_test

import (
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

func TestEachFunctionLinksOnlyTheClientsItCalls(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list the functions' dependencies")
	}
	const module = "github.com/heraldhq/herald/"
	const service = "github.com/aws/aws-sdk-go-v2/service/"
	// As the Makefile builds the Lambda packages.
	cmd := exec.Command(gobin, "list", "-tags", "lambda.norpc", "-f", "{{.ImportPath}} {{join .Deps \" \"}}", module+"functions/...")
	cmd.Env = append(cmd.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	got := map[string][]string{}
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, " ")
		fn := strings.TrimPrefix(pkg, module+"functions/")
		got[fn] = []string{}
		for _, d := range strings.Fields(deps) {
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
