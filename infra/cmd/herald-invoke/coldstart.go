//go:build unix

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// coldStart is what -coldstarts compares for one function.
type coldStart struct {
	fn, pkg        string
	bootstrap, dir string
	rie            string
	env            []string
	payload        []byte
	timeout        time.Duration
	runs           int
	// motoURL is the moto the function calls; the cold invokes call it
	// through a meter that times the function's wait on it.
	motoURL string
}

// Targets of the performance issue, against the same run's hello world
// and baseline.
const (
	maxSizeOfHello     = 2.0
	maxSizeOfBaseline  = 1.3
	maxInvokeOfHelloX  = 3.0
	sdkServicePrefix   = "github.com/aws/aws-sdk-go-v2/service/"
	lambdaBuildTags    = "lambda.norpc"
	generatedSourceDir = "build/coldstart"
)

// coldStarts builds, in this run, a hello-world Lambda and two
// baselines — the SDK clients the function links, built from the
// environment as the function builds them, and an empty handler; then the
// same with the clients' operations the function links referenced, so
// that the linker keeps them — and times runs cold invokes of each and of
// the function (a fresh aws-lambda-rie and bootstrap each time,
// interleaved so the machine's load falls on all alike). The function
// reaches moto through a meter (awsMeter): its first invoke is reported
// whole and less the time it waited on moto, which hello world does not
// call. It prints sizes (linux/arm64, as Lambda runs them) and the
// median first invoke, with their ratios against the targets.
func coldStarts(ctx context.Context, c coldStart) error {
	clients, err := sdkClients(ctx, c.pkg)
	if err != nil {
		return err
	}
	ops, err := linkedOperations(ctx, c.pkg, c.dir)
	if err != nil {
		return err
	}
	name := strings.ToLower(strings.TrimSuffix(c.fn, "Function"))
	hello, err := generate("hello", helloSource)
	if err != nil {
		return err
	}
	baseline, err := generate("baseline-"+name, baselineSource(clients, nil))
	if err != nil {
		return err
	}
	opsBaseline, err := generate("baseline-ops-"+name, baselineSource(clients, ops))
	if err != nil {
		return err
	}
	meter, err := startAWSMeter(c.motoURL)
	if err != nil {
		return err
	}
	defer meter.close()
	env := append(slices.Clone(c.env), "AWS_ENDPOINT_URL="+meter.url)
	type subject struct {
		name, pkg, host string
		size            int64
		times, waits    []time.Duration
		calls           []int
	}
	subjects := []*subject{{name: "hello world", pkg: hello},
		{name: "baseline: clients (" + strings.Join(clients, ", ") + ")", pkg: baseline},
		{name: fmt.Sprintf("baseline: clients and the %d client methods %s links", countMethods(ops), c.fn), pkg: opsBaseline},
		{name: c.fn, pkg: c.pkg, host: c.bootstrap}}
	for _, s := range subjects {
		if s.host == "" {
			s.host = filepath.Join(c.dir, filepath.Base(s.pkg))
			if err := goBuild(ctx, s.pkg, s.host, nil, true); err != nil {
				return err
			}
		}
		arm := filepath.Join(c.dir, filepath.Base(s.pkg)+".arm64")
		if err := goBuild(ctx, s.pkg, arm, []string{"GOOS=linux", "GOARCH=arm64"}, true); err != nil {
			return err
		}
		st, err := os.Stat(arm)
		if err != nil {
			return err
		}
		s.size = st.Size()
	}
	step("timing %d cold invokes of each", c.runs)
	for range c.runs {
		for _, s := range subjects {
			meter.reset()
			inv, err := invoke(ctx, c.rie, s.host, c.dir, env, c.payload, c.timeout)
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			wait, calls := meter.read()
			s.times, s.waits, s.calls = append(s.times, inv.cold), append(s.waits, wait), append(s.calls, calls)
		}
	}
	h, b, o, f := subjects[0], subjects[1], subjects[2], subjects[3]
	own := make([]time.Duration, len(f.times))
	for i := range f.times {
		own[i] = f.times[i] - f.waits[i]
	}
	mib := func(n int64) string { return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20)) }
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
	fmt.Printf("\n%s: %d cold invokes each (%s host; sizes linux/arm64, -trimpath -tags %s -ldflags=\"-s -w\")\n",
		c.fn, c.runs, goEnv("GOARCH"), lambdaBuildTags)
	fmt.Printf("| | bootstrap | first invoke (median, min–max) | of which waiting on moto (median; calls) |\n|---|---:|---:|---:|\n")
	for _, s := range subjects {
		fmt.Printf("| %s | %s | %s (%s–%s) | %s; %d |\n", s.name, mib(s.size), ms(median(s.times)), ms(slices.Min(s.times)), ms(slices.Max(s.times)),
			ms(median(s.waits)), slices.Max(s.calls))
	}
	fmt.Printf("| %s less its wait on moto | | %s (%s–%s) | |\n", c.fn, ms(median(own)), ms(slices.Min(own)), ms(slices.Max(own)))
	r := ratios{sizeHello: float64(f.size) / float64(h.size), sizeClients: float64(f.size) / float64(b.size),
		sizeOps: float64(f.size) / float64(o.size), invoke: float64(median(f.times)) / float64(median(h.times)),
		invokeOwn: float64(median(own)) / float64(median(h.times))}
	fmt.Println(r)
	return nil
}

// ratios are a function's measures against its yardsticks.
type ratios struct {
	sizeHello, sizeClients, sizeOps float64
	invoke, invokeOwn               float64
}

func (r ratios) String() string {
	verdict := func(x, target float64) string {
		if x <= target {
			return fmt.Sprintf("%.2f (≤ %.1f: met)", x, target)
		}
		return fmt.Sprintf("%.2f (≤ %.1f: NOT met)", x, target)
	}
	return fmt.Sprintf("bootstrap × hello world %s; × baseline: clients only %s, clients and operations %s; "+
		"first invoke × hello world's %s, less its wait on moto %s",
		verdict(r.sizeHello, maxSizeOfHello), verdict(r.sizeClients, maxSizeOfBaseline), verdict(r.sizeOps, maxSizeOfBaseline),
		verdict(r.invoke, maxInvokeOfHelloX), verdict(r.invokeOwn, maxInvokeOfHelloX))
}

func countMethods(ops map[string][]string) int {
	n := 0
	for _, ms := range ops {
		n += len(ms)
	}
	return n
}

func median(ts []time.Duration) time.Duration {
	ts = slices.Clone(ts)
	slices.Sort(ts)
	return ts[len(ts)/2]
}

// sdkClients lists the SDK service packages pkg links, as Lambda builds
// it.
func sdkClients(ctx context.Context, pkg string) ([]string, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-tags", lambdaBuildTags, "-deps", pkg)
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list %s: %w", pkg, err)
	}
	var names []string
	for dep := range strings.FieldsSeq(string(out)) {
		if name, ok := strings.CutPrefix(dep, sdkServicePrefix); ok && !strings.Contains(name, "/") {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names, nil
}

// generate writes a main package's source under build/coldstart (inside
// the module, so it builds with the module's versions; build/ is not
// committed) and returns its package path.
func generate(name, src string) (string, error) {
	dir := filepath.Join(generatedSourceDir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		return "", err
	}
	return "./" + dir, nil
}

// goBuild builds pkg as Lambda does (strip: with -ldflags="-s -w").
func goBuild(ctx context.Context, pkg, out string, env []string, strip bool) error {
	args := []string{"build", "-trimpath", "-tags", lambdaBuildTags}
	if strip {
		args = append(args, "-ldflags=-s -w")
	}
	cmd := exec.CommandContext(ctx, "go", append(args, "-o", out, pkg)...)
	cmd.Env = append(append(os.Environ(), "CGO_ENABLED=0"), env...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build %s: %w", pkg, err)
	}
	return nil
}

const helloSource = `// Command hello is the smallest Go Lambda: the yardstick of herald-invoke -coldstarts.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, json.RawMessage) (string, error) { return "hello", nil })
}
`

// baselineSource is a Lambda that builds the named SDK clients as a
// function does (awsenv's configuration) and does nothing with them. With
// ops (service → the client's methods), it also refers to those methods,
// so the linker keeps them as it keeps the ones the function calls: an
// empty handler that only builds the clients links none of their
// operations.
func baselineSource(clients []string, ops map[string][]string) string {
	var imports, builds strings.Builder
	for i, c := range clients {
		fmt.Fprintf(&imports, "\tsvc%d %q\n", i, sdkServicePrefix+c)
		fmt.Fprintf(&builds, "\tc%d := svc%d.NewFromConfig(cfg)\n\tkept = append(kept, c%d", i, i, i)
		for _, m := range ops[c] {
			fmt.Fprintf(&builds, ", c%d.%s", i, m)
		}
		builds.WriteString(")\n")
	}
	return `// Command baseline links the SDK clients of a function and an empty handler:
// the yardstick of herald-invoke -coldstarts.
package main

import (
	"context"
	"encoding/json"
	"log"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
` + imports.String() + `
	"github.com/heraldhq/herald/internal/awsenv"
)

var kept []any

func main() {
	cfg, err := awsenv.Config(os.Getenv)
	if err != nil {
		log.Fatal(err)
	}
` + builds.String() + `	lambda.Start(func(context.Context, json.RawMessage) (int, error) { return len(kept), nil })
}
`
}

// linkedOperations builds pkg for Lambda with its symbol table and lists,
// per SDK service, the client methods it links (the operations it calls,
// and what they call).
func linkedOperations(ctx context.Context, pkg, dir string) (map[string][]string, error) {
	bin := filepath.Join(dir, "symbols")
	if err := goBuild(ctx, pkg, bin, []string{"GOOS=linux", "GOARCH=arm64"}, false); err != nil {
		return nil, err
	}
	out, err := exec.CommandContext(ctx, "go", "tool", "nm", bin).Output()
	if err != nil {
		return nil, fmt.Errorf("go tool nm: %w", err)
	}
	return clientMethods(string(out)), nil
}

var clientMethodRe = regexp.MustCompile(`(?m) T ` + regexp.QuoteMeta(sdkServicePrefix) + `([a-z0-9]+)\.\(\*Client\)\.([A-Z][A-Za-z0-9]*)$`)

// clientMethods reads go tool nm's output: the exported methods of each
// SDK service's *Client, sorted.
func clientMethods(nm string) map[string][]string {
	ops := map[string][]string{}
	for _, m := range clientMethodRe.FindAllStringSubmatch(nm, -1) {
		if !slices.Contains(ops[m[1]], m[2]) {
			ops[m[1]] = append(ops[m[1]], m[2])
		}
	}
	for _, ms := range ops {
		slices.Sort(ms)
	}
	return ops
}
