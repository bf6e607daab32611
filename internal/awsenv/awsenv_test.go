package awsenv_test

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/heraldhq/herald/internal/awsenv"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestAFunctionsConfigIsItsEnvironments(t *testing.T) {
	lambda := map[string]string{"AWS_REGION": "eu-west-3", "AWS_DEFAULT_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "ASIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token"}
	cfg, err := awsenv.Config(env(lambda))
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-3" || creds.AccessKeyID != "ASIAEXAMPLE" || creds.SecretAccessKey != "secret" || creds.SessionToken != "token" ||
		cfg.BaseEndpoint != nil || cfg.RetryMaxAttempts != 0 {
		t.Errorf("config = %+v, credentials %+v", cfg, creds)
	}

	local := map[string]string{"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
		"AWS_ENDPOINT_URL": "http://127.0.0.1:5000", "AWS_MAX_ATTEMPTS": "5"}
	cfg, err = awsenv.Config(env(local))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "us-east-1" || aws.ToString(cfg.BaseEndpoint) != "http://127.0.0.1:5000" || cfg.RetryMaxAttempts != 5 {
		t.Errorf("local config = %+v", cfg)
	}
}

func TestAFunctionWithoutRegionOrCredentialsDoesNotStart(t *testing.T) {
	for name, m := range map[string]map[string]string{
		"no region":      {"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"},
		"no credentials": {"AWS_REGION": "eu-west-3"},
		"half of them":   {"AWS_REGION": "eu-west-3", "AWS_ACCESS_KEY_ID": "a"},
	} {
		if _, err := awsenv.Config(env(m)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// The functions read their configuration with awsenv: none links the
// SDK's shared-config loader and its providers (SSO, STS, IMDS, the
// profile files), which only command-line tools use.
func TestNoFunctionLinksTheSDKsConfigLoader(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list the functions' dependencies")
	}
	const module = "github.com/heraldhq/herald/"
	cmd := exec.Command(gobin, "list", "-tags", "lambda.norpc", "-f", "{{.ImportPath}} {{join .Deps \" \"}}", module+"functions/...")
	cmd.Env = append(cmd.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 8 {
		t.Fatalf("go list named %d functions, want every one:\n%s", len(lines), out)
	}
	for _, line := range lines {
		pkg, deps, _ := strings.Cut(line, " ")
		for _, loader := range []string{"github.com/aws/aws-sdk-go-v2/config", "github.com/aws/aws-sdk-go-v2/feature/ec2/imds",
			"github.com/aws/aws-sdk-go-v2/service/sso", "github.com/aws/aws-sdk-go-v2/service/sts"} {
			if slices.Contains(strings.Fields(deps), loader) {
				t.Errorf("%s links %s", strings.TrimPrefix(pkg, module), loader)
			}
		}
	}
}
