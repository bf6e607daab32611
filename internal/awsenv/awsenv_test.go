package awsenv_test

import (
	"context"
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
