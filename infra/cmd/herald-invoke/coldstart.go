//go:build unix

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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

// coldStarts builds, in this run, a hello-world Lambda and a baseline —
// the SDK clients the function links, built from the environment as the
// function builds them, and an empty handler — and times runs cold
// invokes of each and of the function (a fresh aws-lambda-rie and
// bootstrap each time, interleaved so the machine's load falls on all
// three alike). It prints sizes (linux/arm64, as Lambda runs them) and
// the median first invoke, with their ratios against the targets.
func coldStarts(ctx context.Context, c coldStart) error {
	clients, err := sdkClients(ctx, c.pkg)
	if err != nil {
		return err
	}
	hello, err := generate("hello", helloSource)
	if err != nil {
		return err
	}
	baseline, err := generate("baseline-"+strings.ToLower(strings.TrimSuffix(c.fn, "Function")), baselineSource(clients))
	if err != nil {
		return err
	}
	type subject struct {
		name, pkg, host string
		size            int64
		times           []time.Duration
	}
	subjects := []*subject{{name: "hello world", pkg: hello}, {name: "baseline (" + strings.Join(clients, ", ") + ")", pkg: baseline},
		{name: c.fn, pkg: c.pkg, host: c.bootstrap}}
	for _, s := range subjects {
		if s.host == "" {
			s.host = filepath.Join(c.dir, filepath.Base(s.pkg))
			if err := goBuild(ctx, s.pkg, s.host, nil); err != nil {
				return err
			}
		}
		arm := filepath.Join(c.dir, filepath.Base(s.pkg)+".arm64")
		if err := goBuild(ctx, s.pkg, arm, []string{"GOOS=linux", "GOARCH=arm64"}); err != nil {
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
			inv, err := invoke(ctx, c.rie, s.host, c.dir, c.env, c.payload, c.timeout)
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			s.times = append(s.times, inv.cold)
		}
	}
	median := func(ts []time.Duration) time.Duration {
		ts = slices.Clone(ts)
		slices.Sort(ts)
		return ts[len(ts)/2]
	}
	h, b, f := subjects[0], subjects[1], subjects[2]
	mib := func(n int64) string { return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20)) }
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
	fmt.Printf("\n%s: %d cold invokes each (%s host; sizes linux/arm64, -trimpath -tags %s -ldflags=\"-s -w\")\n",
		c.fn, c.runs, goEnv("GOARCH"), lambdaBuildTags)
	fmt.Printf("| | bootstrap | first invoke (median, min–max) |\n|---|---:|---:|\n")
	for _, s := range subjects {
		fmt.Printf("| %s | %s | %s (%s–%s) |\n", s.name, mib(s.size), ms(median(s.times)), ms(slices.Min(s.times)), ms(slices.Max(s.times)))
	}
	sizeHello, sizeBase := float64(f.size)/float64(h.size), float64(f.size)/float64(b.size)
	inv := float64(median(f.times)) / float64(median(h.times))
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	fmt.Printf("bootstrap %.2f × hello world (target ≤ %.1f: %s), %.2f × baseline (target ≤ %.1f: %s); first invoke %.2f × hello world's (target ≤ %.1f: %s)\n",
		sizeHello, maxSizeOfHello, verdict(sizeHello <= maxSizeOfHello), sizeBase, maxSizeOfBaseline, verdict(sizeBase <= maxSizeOfBaseline),
		inv, maxInvokeOfHelloX, verdict(inv <= maxInvokeOfHelloX))
	return nil
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

func goBuild(ctx context.Context, pkg, out string, env []string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-tags", lambdaBuildTags, "-ldflags=-s -w", "-o", out, pkg)
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
// function does (awsenv's configuration) and does nothing with them.
func baselineSource(clients []string) string {
	var imports, builds strings.Builder
	for i, c := range clients {
		fmt.Fprintf(&imports, "\tsvc%d %q\n", i, sdkServicePrefix+c)
		fmt.Fprintf(&builds, "\tclients = append(clients, svc%d.NewFromConfig(cfg))\n", i)
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

var clients []any

func main() {
	cfg, err := awsenv.Config(os.Getenv)
	if err != nil {
		log.Fatal(err)
	}
` + builds.String() + `	lambda.Start(func(context.Context, json.RawMessage) (int, error) { return len(clients), nil })
}
`
}
