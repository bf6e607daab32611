// Command herald-key mints an API key in a Herald table and prints its id
// and secret once; only the secret's hash is stored, so a lost secret
// means minting a new key.
//
// It uses the normal AWS credential chain and honours AWS_ENDPOINT_URL, so
// the same command works against a deployed stack and the local cloud:
//
//	go run ./infra/cmd/herald-key -table <TableName output> -org ACME@AdobeOrg -sandbox prod -scopes trigger,read
//	AWS_ENDPOINT_URL=http://127.0.0.1:5000 AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
//	  go run ./infra/cmd/herald-key -table herald-local-HeraldTable -org ACME@AdobeOrg -sandbox prod
//
// With -rate-limits it mints nothing and sets the tenant's own rate limits
// instead (requests per second per route group; a group not named keeps
// the deployment's default, 0 is no limit; "default" removes them all).
// Running functions pick them up within a minute:
//
//	go run ./infra/cmd/herald-key -table <TableName> -org ACME@AdobeOrg -sandbox prod -rate-limits execution=1000,management=20
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/ratelimit"
	"github.com/heraldhq/herald/internal/tenant"
)

func main() {
	table := flag.String("table", os.Getenv("HERALD_TABLE"), "DynamoDB table (the stack's TableName output; default $HERALD_TABLE)")
	org := flag.String("org", "", "tenant org, as sent in x-gw-ims-org-id (required)")
	sandbox := flag.String("sandbox", "prod", "tenant sandbox, as sent in x-sandbox-name")
	scopes := flag.String("scopes", "trigger,manage,read", "comma-separated scopes: trigger, manage, read")
	limits := flag.String("rate-limits", "", `instead of minting a key, set the tenant's rate limits: "execution=1000,highthroughput=5000,management=0" (0: none), or "default"`)
	flag.Parse()
	do := func() error { return run(*table, *org, *sandbox, *scopes, os.Stdout) }
	if *limits != "" {
		do = func() error { return setRateLimits(*table, *org, *sandbox, *limits, os.Stdout) }
	}
	if err := do(); err != nil {
		fmt.Fprintln(os.Stderr, "herald-key:", err)
		os.Exit(1)
	}
}

func run(table, org, sandbox, scopeList string, out io.Writer) error {
	if table == "" || org == "" {
		return fmt.Errorf("-table and -org are required")
	}
	sc, err := auth.ParseScopes(scopeList)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, err := newApp(ctx, table)
	if err != nil {
		return err
	}
	k, secret, err := auth.Mint(ctx, a.Keys(), tenant.Tenant{Org: org, Sandbox: sandbox}, sc, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "key id:  %s   (send as x-api-key)\nsecret:  %s   (send as Authorization: Bearer <secret>; shown once, store it now)\ntenant:  %s\nscopes:  %s\n",
		k.ID, secret, k.Tenant, scopeList)
	return nil
}

// setRateLimits replaces the tenant's rate limit overrides with spec
// ("default": none).
func setRateLimits(table, org, sandbox, spec string, out io.Writer) error {
	if table == "" || org == "" {
		return fmt.Errorf("-table and -org are required")
	}
	t := tenant.Tenant{Org: org, Sandbox: sandbox}
	if err := t.Validate(); err != nil {
		return err
	}
	var o ratelimit.Overrides
	if spec != "default" {
		var err error
		if o, err = ratelimit.ParseOverrides(spec); err != nil {
			return err
		}
		if len(o) == 0 {
			return fmt.Errorf(`-rate-limits names no group: give <group>=<n>,... or "default"`)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, err := newApp(ctx, table)
	if err != nil {
		return err
	}
	if err := a.Store().SetRateLimitOverrides(ctx, t, o); err != nil {
		return err
	}
	fmt.Fprintf(out, "tenant:  %s\n", t)
	for _, g := range ratelimit.Groups {
		if n, ok := o[g]; ok {
			fmt.Fprintf(out, "%-15s %d requests/s (0: no limit)\n", string(g)+":", n)
		} else {
			fmt.Fprintf(out, "%-15s the deployment's default\n", string(g)+":")
		}
	}
	return nil
}

// newApp builds the app on table from the environment's AWS settings.
func newApp(ctx context.Context, table string) (*app.App, error) {
	cfg, err := config.Load(func(k string) string {
		if k == "HERALD_TABLE" {
			return table
		}
		return ""
	})
	if err != nil {
		return nil, err
	}
	awsCfg, err := app.LoadAWS(ctx)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	return app.New(cfg, awsCfg, slog.New(slog.NewJSONHandler(os.Stderr, nil))), nil
}
