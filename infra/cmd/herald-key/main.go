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
	"github.com/heraldhq/herald/internal/tenant"
)

func main() {
	table := flag.String("table", os.Getenv("HERALD_TABLE"), "DynamoDB table (the stack's TableName output; default $HERALD_TABLE)")
	org := flag.String("org", "", "tenant org, as sent in x-gw-ims-org-id (required)")
	sandbox := flag.String("sandbox", "prod", "tenant sandbox, as sent in x-sandbox-name")
	scopes := flag.String("scopes", "trigger,manage,read", "comma-separated scopes: trigger, manage, read")
	flag.Parse()
	if err := run(*table, *org, *sandbox, *scopes, os.Stdout); err != nil {
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
	cfg, err := config.Load(func(k string) string {
		if k == "HERALD_TABLE" {
			return table
		}
		return ""
	})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	awsCfg, err := app.LoadAWS(ctx)
	if err != nil {
		return fmt.Errorf("aws config: %w", err)
	}
	a := app.New(cfg, awsCfg, slog.New(slog.NewJSONHandler(os.Stderr, nil)))
	k, secret, err := auth.Mint(ctx, a.Keys(), tenant.Tenant{Org: org, Sandbox: sandbox}, sc, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "key id:  %s   (send as x-api-key)\nsecret:  %s   (send as Authorization: Bearer <secret>; shown once, store it now)\ntenant:  %s\nscopes:  %s\n",
		k.ID, secret, k.Tenant, scopeList)
	return nil
}
