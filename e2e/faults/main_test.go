// Package faults_test is Herald's fault-injection suite: Herald runs as
// `make run` does, with a fault proxy between it and moto, and every
// assertion reads what moto really received and what the execution status
// API reports. It proves, for every recipient: at most one message (none
// re-sent outside outcomes marked ambiguous) and exactly one recorded
// outcome, whatever fails and whenever Dispatch dies.
//
//   - the matrix fails each send path operation each way (faults_test.go);
//   - the crash tests kill a Dispatch process at each checkpoint and resume
//     (crash_test.go);
//   - the soak runs two thousand recipients through mixed faults,
//     duplicated deliveries and killed processes (soak_test.go).
//
// Dispatch runs in process for the matrix and as separate processes (this
// test binary, re-executed as a worker) for the crash tests and the soak,
// so a kill is a real SIGKILL. `go test -short` skips the suite.
package faults_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/heraldhq/herald/infra/contract"
	"github.com/heraldhq/herald/infra/faultproxy"
	"github.com/heraldhq/herald/infra/localcloud"
	"github.com/heraldhq/herald/infra/motoserver"
	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/status"
	"github.com/heraldhq/herald/internal/tenant"
	"github.com/heraldhq/herald/internal/wiring/dispatch"
)

const templatePath = "../../template.yaml"

var cloud *localcloud.Cloud

// faultTiming is FastTiming with a 20 s retry deadline (and the receives
// it needs): on a loaded machine a retry can come back late (a failed
// invocation's message returns only after the 14 s visibility timeout), and
// a fault the suite expects one retry to absorb must not meet the deadline
// first.
var faultTiming = func() localcloud.Timing {
	t := localcloud.FastTiming
	t.RetryDeadline, t.MaxReceiveCount = 20*time.Second, 40
	return t
}()

func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) == "1" {
		os.Exit(runWorker())
	}
	if localcloud.ShortRun() {
		os.Exit(m.Run())
	}
	os.Exit(localcloud.RunSuite(m, &cloud, localcloud.Options{TemplatePath: templatePath, Contract: contract.MustLoad(),
		Timing: &faultTiming, FaultPlan: &faultproxy.Plan{}, NoSESEvents: true, NoStreams: true}))
}

func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() || cloud == nil {
		t.Skip("the fault-injection suite runs without -short")
	}
}

// tb is what fixtures report to: a *testing.T, or a collectingT in a
// matrix cell's goroutine.
type tb interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Fatal(args ...any)
}

// collectingT collects a cell's failures; Fatal ends the cell (runCell
// recovers errCellFailed).
type collectingT struct {
	mu   sync.Mutex
	errs []string
}

var errCellFailed = errors.New("cell failed")

func (c *collectingT) Helper() {}

func (c *collectingT) Errorf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errs = append(c.errs, fmt.Sprintf(format, args...))
}

func (c *collectingT) Fatalf(format string, args ...any) {
	c.Errorf(format, args...)
	panic(errCellFailed)
}

func (c *collectingT) Fatal(args ...any) {
	c.Errorf("%s", fmt.Sprint(args...))
	panic(errCellFailed)
}

func (c *collectingT) msgs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.errs...)
}

// fixture is one tenant with a live transactional campaign per channel.
type fixture struct {
	t tb
	localcloud.Account
	// campaigns by channel
	campaigns map[string]string
}

var fixtureSeq atomic.Int64

func newFixture(t *testing.T) *fixture {
	t.Helper()
	n := fixtureSeq.Add(1)
	ctx := context.Background()
	acct, err := cloud.NewAccount(ctx, tenant.Tenant{Org: fmt.Sprintf("FAULT%d@AdobeOrg", n), Sandbox: "prod"}, fmt.Sprintf("fault%d.%s", n, localcloud.DemoSenderDomain))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, Account: acct, campaigns: map[string]string{}}
	out, err := awssns.NewFromConfig(cloud.Moto.AWSConfig()).CreatePlatformApplication(ctx, &awssns.CreatePlatformApplicationInput{
		Name: aws.String(fmt.Sprintf("fault%d-ios", n)), Platform: aws.String("APNS"), Attributes: map[string]string{"PlatformCredential": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	f.campaigns["email"] = f.campaign("email", map[string]any{"fromName": "Shop", "fromAddress": "orders@" + f.Domain},
		map[string]any{"subject": "Order {{context.cell}}", "text": "Hi, order {{context.cell}} shipped."})
	f.campaigns["sms"] = f.campaign("sms", map[string]any{}, map[string]any{"body": "Code {{context.cell}}"})
	f.campaigns["push"] = f.campaign("push", map[string]any{"apps": []any{map[string]any{"appId": "shop-ios", "platform": "APNS",
		"platformApplicationArn": aws.ToString(out.PlatformApplicationArn)}}}, map[string]any{"title": "Order {{context.cell}}", "body": "Shipped"})
	return f
}

func (f *fixture) campaign(channel string, settings, content map[string]any) string {
	f.t.Helper()
	var cfg struct{ ID string }
	f.mustDo("POST", "/channel-configurations", map[string]any{"name": channel, "channel": channel, "category": "transactional", channel: settings}, 201, &cfg)
	var c struct{ ID string }
	f.mustDo("POST", "/campaigns", map[string]any{"name": channel, "type": "transactional", "channel": channel, "channelConfigurationId": cfg.ID,
		"content": map[string]any{channel: content}, "audience": map[string]any{"namespace": "crmId"}}, 201, &c)
	f.mustDo("POST", "/campaigns/"+c.ID+"/activate", nil, 200, nil)
	return c.ID
}

func (f *fixture) do(method, path string, body any) (int, []byte, error) {
	status, _, out, err := cloud.Call(method, path, f.Headers(), body)
	return status, out, err
}

func (f *fixture) mustDo(method, path string, body any, want int, out any) {
	f.t.Helper()
	cloud.MustExpect(f.t, f.Account, method, path, body, want, out)
}

// recipient is one person of a test, with the address it is sent to.
type recipient struct {
	UserID string
	// Address is the email address, phone number or push token.
	Address string
}

// recipients makes n recipients of channel named after cell.
func recipients(channel, cell string, n int, seq int64) []recipient {
	out := make([]recipient, n)
	for i := range out {
		id := fmt.Sprintf("%s-r%d", cell, i)
		addr := id
		switch channel {
		case "email":
			addr = id + "@inbox.example"
		case "sms":
			addr = fmt.Sprintf("+1650%04d%03d", seq%10000, i)
		case "push":
			addr = id + "-token"
		}
		out[i] = recipient{UserID: id, Address: addr}
	}
	return out
}

func (r recipient) body(channel, cell string) map[string]any {
	m := map[string]any{"type": "external", "namespace": "crmId", "userId": r.UserID, "context": map[string]any{"cell": cell}}
	switch channel {
	case "email":
		m["channelData"] = map[string]any{"emailAddress": r.Address}
	case "sms":
		m["channelData"] = map[string]any{"mobilePhoneNumber": r.Address}
	case "push":
		m["channelData"] = map[string]any{"pushInfo": map[string]any{"appID": "shop-ios", "platform": "APNS", "token": r.Address}}
	}
	return m
}

// trigger calls the unitary API as a client would: a 5xx or a lost
// answer is retried with the same requestId until a 202 (or a minute).
func (f *fixture) trigger(channel, requestID, cell string, rs []recipient) string {
	f.t.Helper()
	var list []any
	for _, r := range rs {
		list = append(list, r.body(channel, cell))
	}
	body := map[string]any{"requestId": requestID, "campaignId": f.campaigns[channel], "recipients": list}
	deadline := time.Now().Add(time.Minute)
	for {
		status, out, err := f.do("POST", "/im/executions/unitary", body)
		if err == nil && status == http.StatusAccepted {
			var resp struct{ ExecutionID string }
			if err := json.Unmarshal(out, &resp); err != nil {
				f.t.Fatal(err)
			}
			return resp.ExecutionID
		}
		if err == nil && status < 500 {
			f.t.Fatalf("trigger %s = %d %s, want 202 (or a 5xx to retry)", requestID, status, out)
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("trigger %s: no 202 within a minute: last %d %s %v", requestID, status, out, err)
		}
		time.Sleep(time.Second)
	}
}

// waitCompleted polls the execution's status until it is Completed.
func (f *fixture) waitCompleted(executionID string, within time.Duration) status.Status {
	f.t.Helper()
	deadline := time.Now().Add(within)
	var st status.Status
	for {
		code, out, err := f.do("GET", "/executions/"+executionID, nil)
		if err == nil && code == 200 {
			if err := json.Unmarshal(out, &st); err != nil {
				f.t.Fatal(err)
			}
			if st.Status == status.Completed {
				return st
			}
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("execution %s not completed within %s: %d %s", executionID, within, code, out)
		}
		time.Sleep(time.Second)
	}
}

// listed returns every recipient of the execution, from every page.
func (f *fixture) listed(executionID string) []status.Recipient {
	f.t.Helper()
	var all []status.Recipient
	cursor := ""
	for range 1000 {
		path := "/executions/" + executionID + "/recipients?limit=100"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		var p status.Page
		f.mustDo("GET", path, nil, 200, &p)
		all = append(all, p.Recipients...)
		if cursor = p.Cursor; cursor == "" {
			break
		}
	}
	return all
}

// received counts what moto received per address of channel.
func received(t tb, channel string) map[string]int {
	t.Helper()
	return receivedAll(t)[channel]
}

// receivedAll counts what moto received per address, for every channel,
// from one read of moto's state.
func receivedAll(t tb) map[string]map[string]int {
	t.Helper()
	d, err := cloud.Moto.Data(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]int{"email": {}, "sms": {}, "push": {}}
	var emails []motoserver.Email
	if err := d.Records("ses", "Message", &emails); err != nil {
		t.Fatal(err)
	}
	for _, r := range emails {
		for _, to := range r.Destinations.To {
			out["email"][to]++
		}
	}
	var sms []motoserver.SMS
	if err := d.Records("sns", "SMS", &sms); err != nil {
		t.Fatal(err)
	}
	for _, r := range sms {
		out["sms"][r.PhoneNumber]++
	}
	var endpoints []struct {
		Token    string            `json:"token"`
		Messages map[string]string `json:"messages"`
	}
	if err := d.Records("sns", "PlatformEndpoint", &endpoints); err != nil {
		t.Fatal(err)
	}
	for _, r := range endpoints {
		out["push"][r.Token] += len(r.Messages)
	}
	return out
}

// tally is what a check found, for the one line the suite prints.
type tally struct {
	recipients, sent, ambiguous, failed, excluded, lost, duplicated int
}

func (a *tally) add(b tally) {
	a.recipients += b.recipients
	a.sent += b.sent
	a.ambiguous += b.ambiguous
	a.failed += b.failed
	a.excluded += b.excluded
	a.lost += b.lost
	a.duplicated += b.duplicated
}

func (a tally) String() string {
	return fmt.Sprintf("recipients %d, sent %d, ambiguous %d, failed %d, excluded %d, lost %d, duplicated %d",
		a.recipients, a.sent, a.ambiguous, a.failed, a.excluded, a.lost, a.duplicated)
}

// check asserts the promises for one execution and returns its tally and
// each recipient's outcome by userId:
//   - the status is Completed and its counts add up to the recipients;
//   - every recipient is listed exactly once, done, with one outcome;
//   - moto received at most one message per recipient; exactly one when
//     the outcome is sent, none when it is failed or excluded.
func (f *fixture) check(channel, executionID string, rs []recipient, got map[string]int, within time.Duration) (tally, map[string]string) {
	f.t.Helper()
	st := f.waitCompleted(executionID, within)
	var tl tally
	tl.recipients = len(rs)
	if sum := st.Counts.Sent + st.Counts.Excluded + st.Counts.Failed + st.Counts.Ambiguous; sum != int64(len(rs)) || st.Recipients != int64(len(rs)) || st.Pending != 0 {
		f.t.Errorf("execution %s: status counts %+v (recipients %d, pending %d) do not add up to %d", executionID, st.Counts, st.Recipients, st.Pending, len(rs))
	}
	outcomes := map[string]string{}
	seen := map[string]int{}
	for _, r := range f.listed(executionID) {
		seen[r.UserID]++
		outcomes[r.UserID] = r.Outcome
		if r.State != string(delivery.Done) || r.Outcome == "" {
			f.t.Errorf("execution %s: recipient %s is %s %q, want done with an outcome", executionID, r.UserID, r.State, r.Outcome)
		}
	}
	for _, r := range rs {
		n := got[r.Address]
		o := delivery.Outcome(outcomes[r.UserID])
		switch {
		case seen[r.UserID] == 0:
			tl.lost++
			f.t.Errorf("execution %s: recipient %s has no outcome (lost)", executionID, r.UserID)
		case seen[r.UserID] > 1:
			f.t.Errorf("execution %s: recipient %s is listed %d times", executionID, r.UserID, seen[r.UserID])
		}
		if n > 1 {
			tl.duplicated++
			f.t.Errorf("execution %s: recipient %s (%s) got %d messages", executionID, r.UserID, o, n)
		}
		switch o.Kind() {
		case "sent":
			tl.sent++
			if n != 1 {
				f.t.Errorf("execution %s: recipient %s is sent but moto received %d messages", executionID, r.UserID, n)
			}
		case "ambiguous":
			tl.ambiguous++
		case "failed":
			tl.failed++
			if n != 0 {
				f.t.Errorf("execution %s: recipient %s is %s but moto received %d messages", executionID, r.UserID, o, n)
			}
		case "excluded":
			tl.excluded++
			if n != 0 {
				f.t.Errorf("execution %s: recipient %s is %s but moto received %d messages", executionID, r.UserID, o, n)
			}
		}
	}
	return tl, outcomes
}

// runPollers runs the cloud's pollers in process, two invocations at a
// time each (Lambda runs several at once), until the returned stop is
// called (the matrix's Dispatch).
func runPollers() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, p := range cloud.Pollers {
		for range 2 {
			wg.Add(1)
			go func() { defer wg.Done(); p.Run(ctx) }()
		}
	}
	return func() { cancel(); wg.Wait() }
}

// deadLetterPoller runs only the dead-letter queue's poller in process.
func deadLetterPoller() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, p := range cloud.Pollers {
		if p.Function == "DeadLetterFunction" {
			wg.Add(1)
			go func() { defer wg.Done(); p.Run(ctx) }()
		}
	}
	return func() { cancel(); wg.Wait() }
}

// The worker: this test binary, re-executed, runs Dispatch on the
// dispatch queue as a Lambda would, and kills itself (SIGKILL) at a
// checkpoint when told to.
const (
	workerEnv      = "HERALD_FAULTS_WORKER"
	workerMotoURL  = "HERALD_FAULTS_MOTO_URL"
	workerEndpoint = "HERALD_FAULTS_ENDPOINT"
	workerCrashAt  = "HERALD_FAULTS_CRASH_AT"    // checkpoint name
	workerCrashN   = "HERALD_FAULTS_CRASH_AFTER" // the n-th time it is reached
	workerReport   = "HERALD_FAULTS_REPORT"      // file the worker notes its kill in
	workerBatch    = "HERALD_FAULTS_BATCH"       // messages per receive
	workerLoops    = "HERALD_FAULTS_LOOPS"       // invocations at a time
)

// worker is a running Dispatch process.
type worker struct {
	cmd    *exec.Cmd
	report string
	log    *bytes.Buffer
	done   chan struct{}
	err    error
}

// startWorker starts a Dispatch process running one invocation at a time;
// crashAt "" never kills it.
func startWorker(t *testing.T, crashAt string, after, batch int) *worker {
	return startWorkerLoops(t, crashAt, after, batch, 1)
}

// startWorkerLoops starts a Dispatch process running loops invocations at
// a time (Lambda runs several).
func startWorkerLoops(t *testing.T, crashAt string, after, batch, loops int) *worker {
	t.Helper()
	f := cloud.Stack.Functions[localcloud.DispatchFunctionID]
	report := filepath.Join(t.TempDir(), "crash")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = os.Environ()
	for k, v := range f.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, workerEnv+"=1", workerMotoURL+"="+cloud.Moto.URL(), workerEndpoint+"="+cloud.FaultsURL,
		workerCrashAt+"="+crashAt, fmt.Sprintf("%s=%d", workerCrashN, after), workerReport+"="+report, fmt.Sprintf("%s=%d", workerBatch, batch),
		fmt.Sprintf("%s=%d", workerLoops, loops))
	w := &worker{cmd: cmd, report: report, log: &bytes.Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = w.log, w.log
	if os.Getenv("HERALD_TEST_LOG") != "" {
		cmd.Stdout, cmd.Stderr = io.MultiWriter(w.log, os.Stderr), io.MultiWriter(w.log, os.Stderr)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { w.err = cmd.Wait(); close(w.done) }()
	return w
}

// killed reports whether the worker died of SIGKILL, waiting up to within.
func (w *worker) killed(within time.Duration) bool {
	select {
	case <-w.done:
	default:
		select {
		case <-w.done:
		case <-time.After(within):
			return false
		}
	}
	if ee, ok := w.err.(*exec.ExitError); ok {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok {
			return ws.Signaled() && ws.Signal() == syscall.SIGKILL
		}
	}
	return false
}

// stop ends a worker politely (SIGTERM) and waits for it.
func (w *worker) stop() {
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.done:
	case <-time.After(10 * time.Second):
		_ = w.cmd.Process.Kill()
		<-w.done
	}
}

// crash reads what the worker was doing when it killed itself.
func (w *worker) crash() (checkpoint string, key delivery.Key, ok bool) {
	b, err := os.ReadFile(w.report)
	if err != nil {
		return "", key, false
	}
	var r struct {
		Checkpoint string
		Key        delivery.Key
	}
	if json.Unmarshal(b, &r) != nil {
		return "", key, false
	}
	return r.Checkpoint, r.Key, true
}

// runWorker is the worker process's main.
func runWorker() int {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker config:", err)
		return 2
	}
	awsCfg := motoserver.Connect(os.Getenv(workerEndpoint)).AWSConfig()
	level := slog.LevelWarn
	if os.Getenv("HERALD_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	a := app.New(cfg, awsCfg, log)
	crashAt := os.Getenv(workerCrashAt)
	var after int64
	fmt.Sscan(os.Getenv(workerCrashN), &after)
	var reached atomic.Int64
	a.SetCheckpoint(func(name string, key delivery.Key) {
		if crashAt == "" || name != crashAt || reached.Add(1) != after {
			return
		}
		b, _ := json.Marshal(map[string]any{"Checkpoint": name, "Key": key})
		_ = os.WriteFile(os.Getenv(workerReport), b, 0o600)
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // never returns: the process is gone
	})
	dispatch.Use(a) // as functions/dispatch does
	h, err := a.DispatchHandler()
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		return 2
	}
	stack, err := localcloud.LoadStack(templatePath, localcloud.StackOptions{MotoURL: os.Getenv(workerMotoURL), Parameters: localcloud.DefaultParameters})
	if err == nil {
		err = faultTiming.Apply(stack)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker stack:", err)
		return 2
	}
	f := stack.Functions[localcloud.DispatchFunctionID]
	src := f.SQS[0]
	fmt.Sscan(os.Getenv(workerBatch), &src.BatchSize)
	p, err := localcloud.NewPoller(sqs.NewFromConfig(awsCfg), stack, f, src, h, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker poller:", err)
		return 2
	}
	ctx, stop := signalContext()
	defer stop()
	loops := 1
	fmt.Sscan(os.Getenv(workerLoops), &loops)
	var wg sync.WaitGroup
	for range max(loops, 1) {
		wg.Go(func() { p.Run(ctx) })
	}
	wg.Wait()
	return 0
}

func signalContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM, os.Interrupt)
	go func() {
		select {
		case <-ch:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}
