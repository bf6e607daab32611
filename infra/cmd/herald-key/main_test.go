package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/infra/localcloud"
	"github.com/heraldhq/herald/infra/motoserver"
	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/ratelimit"
	"github.com/heraldhq/herald/internal/tenant"
)

func TestMain(m *testing.M) {
	code := m.Run()
	motoserver.StopShared()
	os.Exit(code)
}

func TestMintedKeyAuthenticatesForItsTenant(t *testing.T) {
	ctx := context.Background()
	moto := motoserver.Shared(t)
	for k, v := range moto.EnvMap() {
		t.Setenv(k, v)
	}
	s, err := localcloud.LoadStack("../../../template.yaml", localcloud.StackOptions{MotoURL: moto.URL(), Name: "herald-key-test", Parameters: localcloud.DefaultParameters})
	if err != nil {
		t.Fatal(err)
	}
	if err := localcloud.Provision(ctx, moto.AWSConfig(), s); err != nil {
		t.Fatal(err)
	}
	table := s.Tables[0].Name

	var out bytes.Buffer
	if err := run(table, "ACME@AdobeOrg", "dev", "trigger,read", &out); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`key id:  (\S+).*\nsecret:  (\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("output has no key id and secret:\n%s", out.String())
	}
	a := app.New(config.Config{Table: table}, moto.AWSConfig(), slog.New(slog.NewJSONHandler(io.Discard, nil)))
	p, err := auth.Authenticator{Keys: a.Keys()}.Authenticate(ctx, auth.Headers{"authorization": "Bearer " + m[2], "x-api-key": m[1]})
	if err != nil {
		t.Fatalf("minted key does not authenticate: %v", err)
	}
	if p.Tenant.Org != "ACME@AdobeOrg" || p.Tenant.Sandbox != "dev" || !p.Has(auth.ScopeTrigger) || !p.Has(auth.ScopeRead) || p.Has(auth.ScopeManage) {
		t.Errorf("principal = %+v, want ACME@AdobeOrg/dev with trigger and read only", p)
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	tests := []struct{ name, table, org, scopes string }{
		{"no table", "", "ACME@AdobeOrg", "trigger"},
		{"no org", "t", "", "trigger"},
		{"unknown scope", "t", "ACME@AdobeOrg", "admin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := run(tt.table, tt.org, "prod", tt.scopes, &bytes.Buffer{}); err == nil {
				t.Error("run succeeded, want an error")
			}
		})
	}
}

func TestRateLimitsAreSetForTheTenantAndRemovedByDefault(t *testing.T) {
	ctx := context.Background()
	moto := motoserver.Shared(t)
	for k, v := range moto.EnvMap() {
		t.Setenv(k, v)
	}
	s, err := localcloud.LoadStack("../../../template.yaml", localcloud.StackOptions{MotoURL: moto.URL(), Name: "herald-key-rates", Parameters: localcloud.DefaultParameters})
	if err != nil {
		t.Fatal(err)
	}
	if err := localcloud.Provision(ctx, moto.AWSConfig(), s); err != nil {
		t.Fatal(err)
	}
	table := s.Tables[0].Name
	store := app.New(config.Config{Table: table}, moto.AWSConfig(), slog.New(slog.NewJSONHandler(io.Discard, nil))).Store()
	acme := tenant.Tenant{Org: "ACME@AdobeOrg", Sandbox: "dev"}

	var out bytes.Buffer
	if err := setRateLimits(table, acme.Org, acme.Sandbox, "execution=1000,management=0", &out); err != nil {
		t.Fatal(err)
	}
	got, err := store.RateLimitOverrides(ctx, acme)
	if diff := cmp.Diff(ratelimit.Overrides{ratelimit.Execution: 1000, ratelimit.Management: 0}, got); diff != "" || err != nil {
		t.Errorf("overrides (-want +got):\n%s (%v)", diff, err)
	}
	if !strings.Contains(out.String(), "highthroughput: the deployment's default") {
		t.Errorf("output does not say high throughput keeps the default:\n%s", out.String())
	}
	if err := setRateLimits(table, acme.Org, acme.Sandbox, "default", &out); err != nil {
		t.Fatal(err)
	}
	if got, err := store.RateLimitOverrides(ctx, acme); len(got) != 0 || err != nil {
		t.Errorf("overrides after default = %v, %v; want none", got, err)
	}
	for _, bad := range []string{"execution", "reads=5", ","} {
		if err := setRateLimits(table, acme.Org, acme.Sandbox, bad, &out); err == nil {
			t.Errorf("-rate-limits %q succeeded, want an error", bad)
		}
	}
}
