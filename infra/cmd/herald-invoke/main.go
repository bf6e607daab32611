// Command herald-invoke runs one function's real bootstrap under the AWS
// Lambda Runtime Interface Emulator with an event file: the
// `sam local invoke` experience without Docker. `make invoke` runs it:
//
//	make invoke FN=TriggerFunction EVENT=events/trigger.unitary.json
//
// It builds the function for this machine (-tags lambda.norpc, as for
// Lambda), makes sure a local cloud exists (moto at -moto-url; if none
// answers it starts one there, creates the template's resources and seeds
// the demo), starts `go tool aws-lambda-rie` with the function's
// environment from template.yaml pointed at moto, posts the event and
// prints the function's response, its logs, the init duration and the
// bootstrap size. ${demo.*} placeholders in the event (campaign id, key
// id...) are replaced with the seeded demo's values.
//go:build unix

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
	motoURL := flag.String("moto-url", "http://127.0.0.1:5000", "moto to use; started there if nothing answers")
	verbose := flag.Bool("v", false, "show the local cloud's and moto's logs")
	flag.Parse()
	if *fn == "" || *event == "" {
		fmt.Fprintln(os.Stderr, "usage: herald-invoke -fn <LogicalId> -event events/<file>.json")
		os.Exit(2)
	}
	if err := run(*fn, *event, *template, *motoURL, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "herald-invoke:", err)
		os.Exit(1)
	}
}

func run(fn, eventPath, template, motoURL string, verbose bool) error {
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
	moto, ownMoto, err := ensureMoto(ctx, motoURL, logOut)
	if err != nil {
		return err
	}
	if ownMoto {
		defer moto.Close()
	}
	cloud, err := localcloud.Start(ctx, localcloud.Options{TemplatePath: template, Addr: "127.0.0.1:0", MotoURL: moto.URL(), Log: log, ManualPolling: true})
	if err != nil {
		return err
	}
	defer cloud.Close()
	demo, err := cloud.SeedDemo(ctx)
	if err != nil {
		return err
	}
	payload, err := demo.Expand(rawEvent)
	if err != nil {
		return fmt.Errorf("%s: %w", eventPath, err)
	}
	f := cloud.Stack.Functions[fn]
	if f == nil {
		return fmt.Errorf("function %s is not in %s", fn, template)
	}

	rie, err := riePath(ctx)
	if err != nil {
		return err
	}
	port, err := freePort()
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
	var logs lockedBuffer
	cmd := exec.Command(rie, "--log-level", "error", "--runtime-interface-emulator-address", "127.0.0.1:"+strconv.Itoa(port), bootstrap)
	cmd.Env = env
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = sysProcAttr()
	step("starting aws-lambda-rie on 127.0.0.1:%d (moto %s)", port, moto.URL())
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start aws-lambda-rie: %w", err)
	}
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	}()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	if err := waitListening(ctx, addr, 30*time.Second); err != nil {
		return fmt.Errorf("aws-lambda-rie: %w\n%s", err, logs.String())
	}

	step("invoking %s with %s", fn, eventPath)
	ictx, cancel := context.WithTimeout(ctx, f.Timeout+30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ictx, http.MethodPost, "http://"+addr+"/2015-03-31/functions/function/invocations", bytes.NewReader(payload))
	if err != nil {
		return err
	}
	invokeStart := time.Now()
	resp, err := http.DefaultClient.Do(req)
	cold := time.Since(invokeStart)
	if err != nil {
		return fmt.Errorf("invoke: %w", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	// The REPORT line follows the response; give rie a moment to print it.
	waitFor(func() bool { return strings.Contains(logs.String(), "REPORT RequestId") }, 2*time.Second)

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
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("invoke: status %s", resp.Status)
	}
	return nil
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

// ensureMoto connects to moto at url, or starts one there if nothing
// answers. It reports whether it started it.
func ensureMoto(ctx context.Context, url string, out io.Writer) (*motoserver.Server, bool, error) {
	m := motoserver.Connect(url)
	pctx, cancel := context.WithTimeout(ctx, time.Second)
	err := m.Ping(pctx)
	cancel()
	if err == nil {
		step("using moto at %s", url)
		return m, false, nil
	}
	host, portStr, err := net.SplitHostPort(strings.TrimPrefix(strings.TrimPrefix(url, "http://"), "https://"))
	if err != nil {
		return nil, false, fmt.Errorf("-moto-url %s: %w", url, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, false, fmt.Errorf("-moto-url %s: bad port", url)
	}
	step("no moto at %s; starting one (stopped when this command ends)", url)
	s, err := motoserver.Start(ctx, motoserver.Options{Host: host, Port: port, Output: out})
	if err != nil {
		return nil, false, err
	}
	return s, true, nil
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
