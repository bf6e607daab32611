// Package pii_test is Herald's PII scan: Herald runs as `make run` does
// (moto with the template's resources, the gateway,
// every function in process, a fault proxy in front of moto), and one
// test drives every route of template.yaml and every failure path —
// validation errors, 404s, 409s, 500s from a store whose error message
// quotes the value, render errors on personal data, provider refusals,
// throttles and 5xx whose text names the recipient, the dead-letter
// queue, redrive, proofs, previews, EventBridge events, the Scheduler
// function, unsubscribe links — with distinctive personal data seeded in
// addresses, phone numbers, push tokens, profiles, contexts, bodies and
// paths. Every log line Herald writes is captured (the functions' logs,
// the local cloud's, and what the Lambda runtime would print of an error
// a handler returns) and searched for each of them: there must be none.
//
// moto's own request log is not Herald's and is not captured. `go test
// -short` skips the scan; HERALD_TEST_LOG=1 prints every captured line.
package pii_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/infra/contract"
	"github.com/heraldhq/herald/infra/faultproxy"
	"github.com/heraldhq/herald/infra/localcloud"
)

const templatePath = "../../template.yaml"

// eventOrg is the tenant EventBridge events and schedules act for (the
// template's EventOrg/EventSandbox parameters): the scan's tenant.
const (
	eventOrg     = "PII@HeraldOrg"
	eventSandbox = "prod"
)

var (
	cloud *localcloud.Cloud
	logs  = &capture{}
	clock = &localcloud.Clock{}
)

func TestMain(m *testing.M) {
	if localcloud.ShortRun() {
		os.Exit(m.Run())
	}
	var w io.Writer = logs
	if os.Getenv("HERALD_TEST_LOG") != "" {
		w = io.MultiWriter(logs, os.Stderr)
	}
	logger := slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// Whatever logs through the default logger (a service built without
	// one) or the log package (the Lambda runtime reports a handler's
	// error with log.Printf) is captured too.
	slog.SetDefault(logger)
	os.Exit(localcloud.RunSuite(m, &cloud, localcloud.Options{TemplatePath: templatePath, Contract: contract.MustLoad(), Now: clock.Now, Timing: &localcloud.FastTiming,
		FaultPlan: &faultproxy.Plan{}, Log: logger, Parameters: map[string]string{"EventOrg": eventOrg, "EventSandbox": eventSandbox}}))
}

// capture collects every log line.
type capture struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (c *capture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.b.Write(p)
}

// lines returns the captured lines.
func (c *capture) lines() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Split(strings.TrimRight(c.b.String(), "\n"), "\n")
}

// client calls the HTTP API with one key's headers.
type client struct {
	t       *testing.T
	headers map[string]string
}

// call sends a request and fails the test unless the status is want.
func (c *client) call(method, path string, body any, want int) []byte {
	c.t.Helper()
	status, _, out, err := cloud.Call(method, path, c.headers, body)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	if status != want {
		c.t.Errorf("%s %s = %d %s, want %d", method, path, status, out, want)
	}
	return out
}

// decode calls and decodes the answer into out, failing the test unless
// the status is want.
func (c *client) decode(method, path string, body any, want int, out any) {
	c.t.Helper()
	b := c.call(method, path, body, want)
	if err := json.Unmarshal(b, out); err != nil {
		c.t.Fatalf("%s %s: %v in %s", method, path, err, b)
	}
}

// id calls and returns the answer's "id".
func (c *client) id(method, path string, body any, want int) string {
	c.t.Helper()
	var v struct{ ID string }
	c.decode(method, path, body, want, &v)
	if v.ID == "" {
		c.t.Fatalf("%s %s: no id in the answer", method, path)
	}
	return v.ID
}

// drain runs every queue's function until the queues are empty.
func drain(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	if err := cloud.Drain(ctx); err != nil {
		t.Fatal(err)
	}
}

// invoke calls a function as EventBridge or Scheduler would, and reports
// a returned error as the Lambda runtime does: in the function's log.
func invoke(t *testing.T, function string, event any) (any, error) {
	t.Helper()
	raw, err := json.Marshal(event)
	if err != nil {
		t.Fatal(err)
	}
	h := cloud.Handlers.Events[function]
	if h == nil {
		t.Fatalf("no event handler for %s", function)
	}
	out, err := h(context.Background(), raw)
	if err != nil {
		b, _ := json.Marshal(map[string]string{"errorMessage": err.Error(), "errorType": fmt.Sprintf("%T", err)})
		log.Printf("%s", b) // what aws-lambda-go's reportFailure prints
	}
	return out, err
}

// rule adds a fault rule for the rest of the step and, at its end, checks
// that it fired: a failure path the scan means to take and does not is a
// failure of the scan.
func rule(t *testing.T, r faultproxy.Rule) {
	t.Helper()
	r.Name = t.Name() + "/" + r.Operation + "/" + strings.Join(r.Match, ",")
	cloud.Faults.Add(r)
	t.Cleanup(func() {
		if cloud.Faults.Hits(r.Name) == 0 {
			t.Errorf("fault %s never fired: the failure path was not taken", r.Name)
		}
		cloud.Faults.Remove(r.Name)
	})
}
