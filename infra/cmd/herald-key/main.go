// Command herald-key manages Herald's API keys in a Herald table: it mints
// a key and prints its id and secret once (only the secret's hash is
// stored, so a lost secret means rotating or minting anew), lists keys,
// rotates a key's secret and revokes a key (with the access tokens issued
// for it).
//
// A key is also an OAuth client for the IMS-style token route
// (POST /ims/token/v3): its id is the client id, its secret the client
// secret.
//
// It uses the normal AWS credential chain and honours AWS_ENDPOINT_URL, so
// the same command works against a deployed stack and the local cloud:
//
//	herald-key mint   -table <TableName output> -org ACME@AdobeOrg -sandbox prod -scopes trigger,read
//	herald-key list   -table <TableName output>
//	herald-key rotate -table <TableName output> -id hk_0123456789abcdef
//	herald-key revoke -table <TableName output> -id hk_0123456789abcdef
//	herald-key index  -table <TableName output>   (once, after upgrading from a release before access tokens)
//	herald-key limits -table <TableName output> -org ACME@AdobeOrg -sandbox prod -rate-limits execution=1000,management=20
//
// limits sets a tenant's own rate limits (requests per second per route
// group; a group not named keeps the deployment's default, 0 is no limit;
// "default" removes them all). Running functions pick them up within a
// minute.
//
// Without a subcommand it mints (herald-key -table … -org …), as before.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/dynamo"
	"github.com/heraldhq/herald/internal/ratelimit"
	"github.com/heraldhq/herald/internal/tenant"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "herald-key:", err)
		os.Exit(1)
	}
}

var commands = []string{"mint", "list", "rotate", "revoke", "index", "limits"}

// run parses a command line and runs its subcommand.
func run(ctx context.Context, args []string, out io.Writer) error {
	cmd := "mint"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	if !slices.Contains(commands, cmd) {
		return fmt.Errorf("unknown command %q (want %s)", cmd, strings.Join(commands, ", "))
	}
	fs := flag.NewFlagSet("herald-key "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	table := fs.String("table", os.Getenv("HERALD_TABLE"), "DynamoDB table (the stack's TableName output; default $HERALD_TABLE)")
	org := fs.String("org", "", "mint: tenant org, as sent in x-gw-ims-org-id (required)")
	sandbox := fs.String("sandbox", "prod", "mint: tenant sandbox, as sent in x-sandbox-name")
	scopes := fs.String("scopes", "trigger,manage,read", "mint: comma-separated scopes: trigger, manage, read")
	id := fs.String("id", "", "rotate, revoke: the key id (hk_…)")
	limits := fs.String("rate-limits", "", `limits: "execution=1000,highthroughput=5000,management=0" (0: none), or "default"`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *table == "" {
		return errors.New("-table is required")
	}
	var sc []auth.Scope
	switch cmd {
	case "mint":
		if *org == "" {
			return errors.New("-org is required")
		}
		var err error
		if sc, err = auth.ParseScopes(*scopes); err != nil {
			return err
		}
	case "rotate", "revoke":
		if *id == "" {
			return errors.New("-id is required")
		}
	case "limits":
		if *org == "" || *limits == "" {
			return errors.New("-org and -rate-limits are required")
		}
	}
	var overrides ratelimit.Overrides
	t := tenant.Tenant{Org: *org, Sandbox: *sandbox}
	if cmd == "limits" {
		if err := t.Validate(); err != nil {
			return err
		}
		if *limits != "default" {
			var err error
			if overrides, err = ratelimit.ParseOverrides(*limits); err != nil {
				return err
			}
			if len(overrides) == 0 {
				return errors.New(`-rate-limits names no group: give <group>=<n>,... or "default"`)
			}
		}
	}
	store, err := open(ctx, *table)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	switch cmd {
	case "mint":
		k, secret, err := auth.Mint(ctx, store, tenant.Tenant{Org: *org, Sandbox: *sandbox}, sc, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "key id:  %s   (send as x-api-key; the OAuth client id)\nsecret:  %s   (send as Authorization: Bearer <secret>, or trade it for a token at POST /ims/token/v3; shown once, store it now)\ntenant:  %s\nscopes:  %s\n",
			k.ID, secret, k.Tenant, *scopes)
	case "list":
		keys, err := store.ListKeys(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "KEY ID\tTENANT\tSCOPES\tCREATED")
		for _, k := range keys {
			names := make([]string, len(k.Scopes))
			for i, s := range k.Scopes {
				names[i] = string(s)
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", k.ID, k.Tenant, strings.Join(names, ","), k.CreatedAt.Format(time.RFC3339))
		}
		return w.Flush()
	case "rotate":
		secret, err := auth.Rotate(ctx, store, *id)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "key id:  %s\nsecret:  %s   (the new secret, shown once; the old one no longer authenticates, within a minute everywhere; access tokens already issued stay valid until they expire)\n", *id, secret)
	case "revoke":
		if err := store.RevokeKey(ctx, *id); err != nil {
			return err
		}
		fmt.Fprintf(out, "revoked %s: its secret and its access tokens stop authenticating within a minute\n", *id)
	case "index":
		n, err := store.IndexKeys(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "indexed %d key(s) stored before access tokens; they can now be listed, rotated, revoked and used as OAuth clients\n", n)
	case "limits":
		if err := store.SetRateLimitOverrides(ctx, t, overrides); err != nil {
			return err
		}
		fmt.Fprintf(out, "tenant:  %s\n", t)
		for _, g := range ratelimit.Groups {
			if n, ok := overrides[g]; ok {
				fmt.Fprintf(out, "%-15s %d requests/s (0: no limit)\n", string(g)+":", n)
			} else {
				fmt.Fprintf(out, "%-15s the deployment's default\n", string(g)+":")
			}
		}
	}
	return nil
}

// open returns the key store of table.
func open(ctx context.Context, table string) (*dynamo.Store, error) {
	cfg, err := config.Load(func(k string) string {
		if k == "HERALD_TABLE" {
			return table
		}
		return ""
	})
	if err != nil {
		return nil, err
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	return app.New(cfg, awsCfg, slog.New(slog.NewJSONHandler(os.Stderr, nil))).Store(), nil
}
