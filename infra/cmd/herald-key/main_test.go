package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/heraldhq/herald/infra/localcloud"
	"github.com/heraldhq/herald/infra/motoserver"
	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/ratelimit"
	"github.com/heraldhq/herald/internal/tenant"
)

func TestMain(m *testing.M) {
	code := m.Run()
	motoserver.StopShared()
	os.Exit(code)
}

var secretLine = regexp.MustCompile(`key id:  (\S+).*\nsecret:  (\S+)`)

func TestMintListRotateRevoke(t *testing.T) {
	ctx := context.Background()
	table := provisionedTable(t, "herald-key-test")
	keys, err := open(ctx, table)
	if err != nil {
		t.Fatal(err)
	}
	authn := auth.Authenticator{Keys: keys}
	cmd := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := run(ctx, append(args, "-table", table), &out); err != nil {
			t.Fatalf("herald-key %v: %v", args, err)
		}
		return out.String()
	}
	authenticate := func(secret string) (auth.Principal, error) {
		return authn.Authenticate(ctx, auth.Headers{"authorization": "Bearer " + secret})
	}

	// Mint, with and without the subcommand name.
	m := secretLine.FindStringSubmatch(cmd("-org", "ACME@AdobeOrg", "-sandbox", "dev", "-scopes", "trigger,read"))
	m2 := secretLine.FindStringSubmatch(cmd("mint", "-org", "GLOBEX@AdobeOrg", "-scopes", "manage"))
	if m == nil || m2 == nil {
		t.Fatal("mint printed no key id and secret")
	}
	p, err := authenticate(m[2])
	if err != nil || p.KeyID != m[1] || p.Tenant.Org != "ACME@AdobeOrg" || p.Tenant.Sandbox != "dev" || !p.Has(auth.ScopeTrigger) || !p.Has(auth.ScopeRead) || p.Has(auth.ScopeManage) {
		t.Fatalf("the minted key authenticates as %+v, %v; want ACME@AdobeOrg/dev with trigger and read", p, err)
	}

	list := cmd("list")
	for _, want := range []string{m[1], m2[1], "ACME@AdobeOrg/dev", "trigger,read", "manage"} {
		if !strings.Contains(list, want) {
			t.Errorf("list lacks %q:\n%s", want, list)
		}
	}
	if strings.Contains(list, m[2]) || strings.Contains(list, "hrld_") {
		t.Errorf("list shows a secret:\n%s", list)
	}

	r := secretLine.FindStringSubmatch(cmd("rotate", "-id", m[1]))
	if r == nil || r[1] != m[1] || r[2] == m[2] {
		t.Fatalf("rotate printed %v, want the same id and a new secret", r)
	}
	if _, err := authenticate(m[2]); !derrors.Is(err, derrors.Unauthenticated) {
		t.Errorf("the old secret after rotate: %v, want Unauthenticated", err)
	}
	if p, err := authenticate(r[2]); err != nil || p.KeyID != m[1] {
		t.Errorf("the new secret: %+v, %v", p, err)
	}

	cmd("revoke", "-id", m[1])
	if _, err := authenticate(r[2]); !derrors.Is(err, derrors.Unauthenticated) {
		t.Errorf("a revoked key: %v, want Unauthenticated", err)
	}
	if list := cmd("list"); strings.Contains(list, m[1]) || !strings.Contains(list, m2[1]) {
		t.Errorf("list after revoke:\n%s", list)
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"revoke", "-id", m[1], "-table", table}, &out); !derrors.Is(err, derrors.NotFound) {
		t.Errorf("revoking again: %v, want NotFound", err)
	}
	if !strings.Contains(cmd("index"), "indexed 0 key(s)") {
		t.Error("index on a table of indexed keys indexed some")
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"no table", []string{"-org", "ACME@AdobeOrg"}},
		{"no org", []string{"-table", "t"}},
		{"unknown scope", []string{"-table", "t", "-org", "ACME@AdobeOrg", "-scopes", "admin"}},
		{"unknown command", []string{"delete", "-table", "t"}},
		{"rotate without an id", []string{"rotate", "-table", "t"}},
		{"revoke without an id", []string{"revoke", "-table", "t"}},
		{"an unknown flag", []string{"list", "-table", "t", "-bogus"}},
		{"limits without an org", []string{"limits", "-table", "t", "-rate-limits", "execution=1"}},
		{"limits without limits", []string{"limits", "-table", "t", "-org", "ACME@AdobeOrg"}},
		{"limits naming no group", []string{"limits", "-table", "t", "-org", "ACME@AdobeOrg", "-rate-limits", ","}},
		{"limits of an unknown group", []string{"limits", "-table", "t", "-org", "ACME@AdobeOrg", "-rate-limits", "reads=5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("HERALD_TABLE", "")
			if err := run(context.Background(), tt.args, &bytes.Buffer{}); err == nil {
				t.Error("run succeeded, want an error")
			}
		})
	}
}

func TestRateLimitsAreSetForTheTenantAndRemovedByDefault(t *testing.T) {
	ctx := context.Background()
	table := provisionedTable(t, "herald-key-rates")
	store, err := open(ctx, table)
	if err != nil {
		t.Fatal(err)
	}
	acme := tenant.Tenant{Org: "ACME@AdobeOrg", Sandbox: "dev"}
	limits := func(spec string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, []string{"limits", "-table", table, "-org", acme.Org, "-sandbox", acme.Sandbox, "-rate-limits", spec}, &out)
		return out.String(), err
	}
	out, err := limits("execution=1000,management=0")
	if err != nil {
		t.Fatal(err)
	}
	got, err := store.RateLimitOverrides(ctx, acme)
	if diff := cmp.Diff(ratelimit.Overrides{ratelimit.Execution: 1000, ratelimit.Management: 0}, got); diff != "" || err != nil {
		t.Errorf("overrides (-want +got):\n%s (%v)", diff, err)
	}
	if !strings.Contains(out, "highthroughput: the deployment's default") {
		t.Errorf("output does not say high throughput keeps the default:\n%s", out)
	}
	if _, err := limits("default"); err != nil {
		t.Fatal(err)
	}
	if got, err := store.RateLimitOverrides(ctx, acme); len(got) != 0 || err != nil {
		t.Errorf("overrides after default = %v, %v; want none", got, err)
	}
}

// provisionedTable creates the template's resources under stack name in
// the shared moto, points the AWS environment at it and returns the
// table's name.
func provisionedTable(t *testing.T, name string) string {
	t.Helper()
	moto := motoserver.Shared(t)
	for k, v := range moto.EnvMap() {
		t.Setenv(k, v)
	}
	s, err := localcloud.LoadStack("../../../template.yaml", localcloud.StackOptions{MotoURL: moto.URL(), Name: name, Parameters: localcloud.DefaultParameters})
	if err != nil {
		t.Fatal(err)
	}
	if err := localcloud.Provision(context.Background(), moto.AWSConfig(), s); err != nil {
		t.Fatal(err)
	}
	return s.Tables[0].Name
}
