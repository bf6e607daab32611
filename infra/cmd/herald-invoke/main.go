//go:build unix

// Command herald-invoke runs one function's real bootstrap under the AWS
// Lambda Runtime Interface Emulator with an event file: the
// `sam local invoke` experience without Docker. `make invoke` runs it:
//
//	make invoke FN=TriggerFunction EVENT=events/trigger.unitary.json [PORT=3000] [MOTO_PORT=5000]
//
// It builds the function for this machine (-tags lambda.norpc, as for
// Lambda), finds the local cloud to run against, starts
// `go tool aws-lambda-rie` with the function's environment from
// template.yaml pointed at its moto, posts the event and prints the
// function's response, its logs, the init duration and the bootstrap
// size. ${demo.*} placeholders in the event (campaign id, key id...) are
// replaced with the demo's values.
//
// The local cloud is, in this order: the one `make run` runs (its HTTP API
// answers at -api-url and its moto at -moto-url), attached as it is, with
// nothing created or seeded; else a moto answering at -moto-url, where the
// template's resources and the demo are looked up and only what is missing
// is created; else a moto it starts at -moto-url, with the resources and
// the demo, stopped when it ends. It says which.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/heraldhq/herald/infra/localcloud"
	"github.com/heraldhq/herald/infra/motoserver"
)

func main() {
	fn := flag.String("fn", "", "logical ID of the function in the template, e.g. TriggerFunction (required)")
	event := flag.String("event", "", "event JSON file, e.g. events/trigger.unitary.json (required)")
	template := flag.String("template", "template.yaml", "SAM template")
	apiURL := flag.String("api-url", "http://127.0.0.1:3000", "HTTP API of a running local cloud (make run) to attach to")
	motoURL := flag.String("moto-url", "http://127.0.0.1:5000", "moto of the local cloud; started there if nothing answers")
	verbose := flag.Bool("v", false, "show the local cloud's and moto's logs")
	runs := flag.Int("coldstarts", 0, "instead of one invoke: time this many cold invokes of the function, of a hello world and of two baselines with the function's SDK clients and an empty handler (the second also links the clients' operations the function links), and compare (make coldstart)")
	flag.Parse()
	if *fn == "" || *event == "" {
		fmt.Fprintln(os.Stderr, "usage: herald-invoke -fn <LogicalId> -event events/<file>.json [-api-url URL] [-moto-url URL]")
		os.Exit(2)
	}
	if err := run(*fn, *event, *template, *apiURL, *motoURL, *verbose, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "herald-invoke:", err)
		os.Exit(1)
	}
}

func run(fn, eventPath, template, apiURL, motoURL string, verbose bool, runs int) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	binding, ok := localcloud.Bindings[fn]
	if !ok {
		return fmt.Errorf("unknown function %q (want one of %s)", fn, strings.Join(functionIDs(), ", "))
	}
	rawEvent, err := os.ReadFile(eventPath)
	if err != nil {
		return err
	}

	dir, err := os.MkdirTemp("", "herald-invoke-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bootstrap := filepath.Join(dir, "bootstrap")
	step("building %s (%s) for this machine", fn, binding.Package)
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-tags", "lambda.norpc", "-ldflags=-s -w", "-o", bootstrap, binding.Package)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build %s: %w", binding.Package, err)
	}
	st, err := os.Stat(bootstrap)
	if err != nil {
		return err
	}

	logOut := io.Discard
	if verbose {
		logOut = os.Stderr
	}
	log := slog.New(slog.NewJSONHandler(logOut, nil))
	tgt, err := attach(ctx, apiURL, motoURL, template, log, logOut)
	if err != nil {
		return err
	}
	defer tgt.close()
	moto := tgt.moto
	payload, err := expand(tgt.demo, tgt.demoErr, rawEvent)
	if err != nil {
		return fmt.Errorf("%s: %w", eventPath, err)
	}
	f := tgt.stack.Functions[fn]
	if f == nil {
		return fmt.Errorf("function %s is not in %s", fn, template)
	}

	rie, err := riePath(ctx)
	if err != nil {
		return err
	}
	env := append(os.Environ(), moto.Env()...)
	for k, v := range f.Env {
		env = append(env, k+"="+v)
	}
	env = append(env,
		"AWS_LAMBDA_FUNCTION_NAME="+f.Name,
		"AWS_LAMBDA_FUNCTION_TIMEOUT="+strconv.Itoa(int(f.Timeout.Seconds())),
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE="+strconv.Itoa(f.Memory),
		"AWS_LAMBDA_LOG_FORMAT=JSON",
	)
	if runs > 0 {
		return coldStarts(ctx, coldStart{fn: fn, pkg: binding.Package, bootstrap: bootstrap, dir: dir, rie: rie, env: env,
			payload: payload, timeout: f.Timeout + 30*time.Second, runs: runs, motoURL: moto.URL()})
	}
	step("invoking %s with %s under aws-lambda-rie (moto %s)", fn, eventPath, moto.URL())
	inv, err := invoke(ctx, rie, bootstrap, dir, env, payload, f.Timeout+30*time.Second)
	if err != nil {
		return err
	}
	body, logs, cold := inv.body, &inv.logs, inv.cold

	fmt.Println("---- function output (aws-lambda-rie) ----")
	fmt.Print(logs.String())
	fmt.Println("---- response ----")
	var pretty bytes.Buffer
	if json.Indent(&pretty, body, "", "  ") == nil {
		fmt.Println(pretty.String())
	} else {
		fmt.Println(string(body))
	}
	initDur := "n/a"
	if m := initRe.FindStringSubmatch(logs.String()); m != nil {
		initDur = m[1] + " ms"
	}
	// rie's Init Duration covers only its own side of init; the cold
	// invoke time (process start, init and the invoke) is the honest one.
	fmt.Printf("---- %s: init %s (as aws-lambda-rie reports it), cold invoke %d ms, bootstrap %.1f MB (%s/%s build; make build makes Lambda's linux/arm64 one) ----\n",
		fn, initDur, cold.Milliseconds(), float64(st.Size())/(1<<20), goEnv("GOOS"), goEnv("GOARCH"))
	if inv.status != http.StatusOK {
		return fmt.Errorf("invoke: status %d", inv.status)
	}
	return nil
}

// invocation is one cold invoke under aws-lambda-rie.
type invocation struct {
	status int
	body   []byte
	logs   lockedBuffer
	// cold is the first invoke's time: rie starts the bootstrap on it,
	// so it holds the process's start, its init and the invoke.
	cold time.Duration
}

// invoke starts aws-lambda-rie with bootstrap in dir and env, posts
// payload once and stops it.
func invoke(ctx context.Context, rie, bootstrap, dir string, env []string, payload []byte, timeout time.Duration) (*invocation, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	inv := &invocation{}
	cmd := exec.Command(rie, "--log-level", "error", "--runtime-interface-emulator-address", "127.0.0.1:"+strconv.Itoa(port), bootstrap)
	cmd.Env = env
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &inv.logs, &inv.logs
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start aws-lambda-rie: %w", err)
	}
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	}()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	if err := waitListening(ctx, addr, 30*time.Second); err != nil {
		return nil, fmt.Errorf("aws-lambda-rie: %w\n%s", err, inv.logs.String())
	}
	ictx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ictx, http.MethodPost, "http://"+addr+"/2015-03-31/functions/function/invocations", bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	inv.cold = time.Since(start)
	if err != nil {
		return nil, fmt.Errorf("invoke: %w", err)
	}
	inv.status = resp.StatusCode
	inv.body, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	// The REPORT line follows the response; give rie a moment to print it.
	waitFor(func() bool { return strings.Contains(inv.logs.String(), "REPORT RequestId") }, 2*time.Second)
	return inv, nil
}

var initRe = regexp.MustCompile(`Init Duration: ([0-9.]+) ms`)

func step(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "==> "+format+"\n", args...)
}

func functionIDs() []string {
	var ids []string
	for id := range localcloud.Bindings {
		ids = append(ids, id)
	}
	return ids
}

// target is the local cloud a function is invoked against.
type target struct {
	stack *localcloud.Stack
	moto  *motoserver.Server
	// apiURL is the local cloud's HTTP API: the running one's, or the
	// one this command serves while it runs.
	apiURL string
	// demo is the demo tenant and campaign, or demoErr why there is none
	// (an attached local cloud whose demo was removed).
	demo    localcloud.Demo
	demoErr error
	// attached is true for a running local cloud left as it was.
	attached bool
	close    func()
}

// attach finds the local cloud to invoke against (see the command's
// doc): a running one is attached as it is; a moto alone gets what it
// lacks; with neither, a moto is started. Every step is told with step.
func attach(ctx context.Context, apiURL, motoURL, template string, log *slog.Logger, motoOut io.Writer) (*target, error) {
	moto := motoserver.Connect(motoURL)
	pctx, cancel := context.WithTimeout(ctx, time.Second)
	motoErr := moto.Ping(pctx)
	cancel()
	if localCloudAt(ctx, apiURL) {
		if motoErr != nil {
			return nil, fmt.Errorf("a local cloud answers at %s but no moto at %s: pass the moto port it runs with (make invoke MOTO_PORT=…, herald-invoke -moto-url)", apiURL, motoURL)
		}
		stack, err := localcloud.LoadStack(template, localcloud.StackOptions{MotoURL: moto.URL(), Region: motoserver.Region,
			AccountID: motoserver.AccountID, Parameters: localcloud.DefaultParameters})
		if err != nil {
			return nil, err
		}
		for _, f := range stack.Functions {
			if _, ok := f.Env["HERALD_PUBLIC_URL"]; ok {
				f.Env["HERALD_PUBLIC_URL"] = apiURL
			}
		}
		demo, demoErr := localcloud.FindDemo(ctx, apiURL)
		if demoErr != nil && !errors.Is(demoErr, localcloud.ErrNoDemo) {
			return nil, fmt.Errorf("look up the demo at %s: %w", apiURL, demoErr)
		}
		step("attached to the running local cloud (API %s, moto %s); it is left as it is: nothing created, nothing seeded", apiURL, moto.URL())
		return &target{stack: stack, moto: moto, apiURL: apiURL, demo: demo, demoErr: demoErr, attached: true, close: func() {}}, nil
	}

	own := motoErr != nil
	if own {
		host, port, err := hostPort(motoURL)
		if err != nil {
			return nil, err
		}
		step("no local cloud at %s and no moto at %s; starting moto there (stopped when this command ends)", apiURL, motoURL)
		if moto, err = motoserver.Start(ctx, motoserver.Options{Host: host, Port: port, Output: motoOut}); err != nil {
			return nil, err
		}
	}
	cloud, err := localcloud.Start(ctx, localcloud.Options{TemplatePath: template, Addr: "127.0.0.1:0", MotoURL: moto.URL(), Log: log, ManualPolling: true})
	if err != nil {
		if own {
			_ = moto.Close()
		}
		return nil, err
	}
	closeAll := func() {
		_ = cloud.Close()
		if own {
			_ = moto.Close()
		}
	}
	demo, err := cloud.SeedDemo(ctx)
	if err != nil {
		closeAll()
		return nil, err
	}
	if !own {
		found, created := len(cloud.Provisioned.Found), len(cloud.Provisioned.Created)
		demoState := "demo seeded"
		if demo.Found {
			demoState = "demo found"
		}
		step("no local cloud at %s; using the moto at %s: %d resources found, %d created, %s", apiURL, moto.URL(), found, created, demoState)
	}
	return &target{stack: cloud.Stack, moto: moto, apiURL: cloud.URL, demo: demo, close: closeAll}, nil
}

// localCloudAt reports whether a local cloud's HTTP API answers at url:
// GET /im/health says UP.
func localCloudAt(ctx context.Context, url string) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(url, "/")+"/im/health", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var h struct{ Status string }
	return resp.StatusCode == http.StatusOK && json.NewDecoder(io.LimitReader(resp.Body, 1<<10)).Decode(&h) == nil && h.Status == "UP"
}

func hostPort(url string) (string, int, error) {
	host, portStr, err := net.SplitHostPort(strings.TrimPrefix(strings.TrimPrefix(url, "http://"), "https://"))
	if err != nil {
		return "", 0, fmt.Errorf("-moto-url %s: %w", url, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return "", 0, fmt.Errorf("-moto-url %s: bad port", url)
	}
	return host, port, nil
}

// expand replaces the event's ${demo.*} placeholders; without a demo, an
// event that uses them is an error saying why.
func expand(d localcloud.Demo, demoErr error, event []byte) ([]byte, error) {
	if demoErr != nil {
		if bytes.Contains(event, []byte("${demo.")) {
			return nil, fmt.Errorf("the event uses ${demo.*} placeholders: %w", demoErr)
		}
		return event, nil
	}
	return d.Expand(event)
}

// riePath returns the aws-lambda-rie binary pinned in go.mod's tool
// directive, built (or found in the build cache) by `go tool -n`.
func riePath(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "tool", "-n", "aws-lambda-rie").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("go tool -n aws-lambda-rie: %s", ee.Stderr)
		}
		return "", fmt.Errorf("go tool -n aws-lambda-rie: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

func goEnv(k string) string {
	out, err := exec.Command("go", "env", k).Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitListening(ctx context.Context, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("not listening on %s after %s", addr, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func waitFor(cond func() bool, timeout time.Duration) {
	for deadline := time.Now().Add(timeout); !cond() && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
}

// lockedBuffer collects rie's stdout and stderr.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
