// Command herald-local runs Herald on this machine with no AWS account and
// no Docker: moto stands in for AWS, the HTTP API listens on
// http://127.0.0.1:3000 and the dispatch queue is polled in process. It
// creates the resources template.yaml declares, seeds a demo tenant and
// campaign, prints a ready-to-paste curl and runs until interrupted.
// On a moto that already holds them (-moto-url), the resources and the
// demo are found and kept, pending schedules included.
//
//	go run ./infra/cmd/herald-local [-addr 127.0.0.1:3000] [-moto-port 5000] [-moto-url URL]
//	    [-template template.yaml] [-fault-plan plan.json] [-log-level info]
//
// `make run PORT=3100 MOTO_PORT=5100` sets -addr and -moto-port.
//
// -fault-plan puts a fault proxy between Herald and moto that fails the
// calls the plan names (see infra/faultproxy and docs/delivery.md), so
// anyone can watch Herald under faults.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/heraldhq/herald/infra/faultproxy"
	"github.com/heraldhq/herald/infra/localcloud"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "address of the HTTP API")
	motoPort := flag.Int("moto-port", 5000, "port of the moto server started on 127.0.0.1")
	motoURL := flag.String("moto-url", "", "use this running moto instead of starting one")
	template := flag.String("template", "template.yaml", "SAM template to run")
	level := flag.String("log-level", "info", "log level: debug, info, warn, error")
	faultPlan := flag.String("fault-plan", "", "JSON fault plan for a fault proxy in front of moto (see docs/delivery.md)")
	flag.Parse()

	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintln(os.Stderr, "herald-local: -log-level:", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: lv}))
	var plan *faultproxy.Plan
	if *faultPlan != "" {
		p, err := faultproxy.LoadPlan(*faultPlan)
		if err != nil {
			fmt.Fprintln(os.Stderr, "herald-local: -fault-plan:", err)
			os.Exit(2)
		}
		plan = &p
	}
	if err := run(*addr, *motoPort, *motoURL, *template, plan, log, os.Stdout); err != nil {
		log.Error("herald-local failed", "error", err)
		os.Exit(1)
	}
}

func run(addr string, motoPort int, motoURL, template string, plan *faultproxy.Plan, log *slog.Logger, out io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	startCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cloud, err := localcloud.Start(startCtx, localcloud.Options{
		TemplatePath: template, Addr: addr, MotoURL: motoURL, MotoPort: motoPort, Log: log, FaultPlan: plan,
	})
	if err != nil {
		return err
	}
	defer func() {
		log.Info("stopping")
		if err := cloud.Close(); err != nil {
			log.Error("stop", "error", err)
		}
	}()
	demo, err := cloud.SeedDemo(startCtx)
	if err != nil {
		return err
	}
	printBanner(out, cloud, demo)
	<-ctx.Done()
	return nil
}

func printBanner(w io.Writer, c *localcloud.Cloud, d localcloud.Demo) {
	requestID := fmt.Sprintf("demo-%d", time.Now().Unix())
	found := ""
	if d.Found {
		found = "; found in moto from an earlier run and kept as it was"
	}
	fmt.Fprintf(w, `
Herald is running locally.
  HTTP API   %[1]s
  moto       %[2]s   (stands in for DynamoDB, SQS, SES, SNS)
  demo key   %[3]s for %[4]s / %[5]s  (WELL-KNOWN SECRET: local use only)
  campaign   %[6]s  "Order shipped" (live%[9]s)
  console    %[1]s/console/  sign in with client id %[3]s and the secret
             %[7]s (or the secret alone); the local outbox shows what was sent

Trigger it (re-sending the same requestId is an idempotent replay: 202 again, nothing new is sent;
change requestId to send again):

curl -sS -X POST %[1]s/im/executions/unitary \
  -H 'Authorization: Bearer %[7]s' \
  -H 'x-api-key: %[3]s' \
  -H 'x-gw-ims-org-id: %[4]s' \
  -H 'x-sandbox-name: %[5]s' \
  -H 'Content-Type: application/json' \
  -d '{"requestId":"%[8]s","campaignId":"%[6]s","recipients":[{"type":"aep","namespace":"email","userId":"jane@example.com","context":{"orderId":"A-1001","carrier":"UPS","items":[{"name":"Trail shoes","qty":1}]}}]}'

See what was sent:
  curl -s %[2]s/moto-api/data.json | python3 -m json.tool
  curl -s %[2]s/moto-api/data.json | python3 -c 'import json,sys; [print(m["source"], "->", m["destinations"], "|", m["subject"], "\n", m["body"], "\n") for m in json.load(sys.stdin).get("ses",{}).get("Message",[])]'

Hear back: SES events come back as SES's mailbox simulator would send them. Send to an external
recipient such as bounce@simulator.amazonses.com (also success@, ooto@, complaint@, suppressionlist@;
+labels make many; success+click@ opens and clicks where the configuration tracks them), then read
the execution's report and the suppression list:
  curl -s %[1]s/executions/<executionId>/report -H 'Authorization: Bearer %[7]s'
  curl -s %[1]s/suppressions -H 'Authorization: Bearer %[7]s'

Or as an AJO client does, with an IMS-style access token (client id = key id, client secret =
key secret; the token lives 24 h and goes where the secret went above):
  curl -s -X POST %[1]s/ims/token/v3 -d grant_type=client_credentials -d client_id=%[3]s -d client_secret=%[7]s

Ctrl-C stops the API, the poller and moto.
`, c.URL, c.Moto.URL(), d.KeyID, d.Org, d.Sandbox, d.CampaignID, d.Secret, requestID, found)
}
