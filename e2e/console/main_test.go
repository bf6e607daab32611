// Package console_test drives the Herald Console in headless Chromium
// against the local cloud, as a person would: sign in, the seven steps of
// a campaign with its live preview, review and activation, a trigger with
// the copied request, the outbox and the execution's counts; XSS attempts
// stay inert, an expired token goes back to sign in, axe-core finds no
// serious or critical accessibility violation on any page, and each page
// is photographed at 1280×800 and 390×844.
//
// One browser and one local cloud serve every test (each test opens its
// own tab, whose sessionStorage is its own). Chromium is Debian's
// `chromium` package (.ci/run installs it when missing); without it the
// suite fails, except under -short, which skips every end-to-end suite.
package console_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/heraldhq/herald/infra/contract"
	"github.com/heraldhq/herald/infra/localcloud"
)

var (
	cloud *localcloud.Cloud
	demo  localcloud.Demo
	// shared is the Chromium every test shares; each test opens a tab of it.
	shared context.Context
	// shots is where the screenshots go: $HERALD_CONSOLE_SHOTS (docs/console
	// to refresh the committed set) or a temporary directory.
	shots string
)

func TestMain(m *testing.M) {
	if !localcloud.ShortRun() && chromium() == "" {
		// Before the cloud starts: a missing browser is a failure, named.
		fmt.Fprintln(os.Stderr, "FAIL: the console's browser tests need Chromium (apt-get install -y chromium); go test -short skips them")
		os.Exit(1)
	}
	os.Exit(localcloud.RunSuite(suite{m}, &cloud, localcloud.Options{Timing: &localcloud.FastTiming, Contract: contract.MustLoad()}))
}

// suite wraps the tests with what they share: the demo tenant and the browser.
type suite struct{ m *testing.M }

func (s suite) Run() int {
	bin := chromium()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	d, err := cloud.SeedDemo(ctx)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "seed the demo:", err)
		return 1
	}
	demo = d
	if shots = os.Getenv("HERALD_CONSOLE_SHOTS"); shots == "" {
		if shots, err = os.MkdirTemp("", "herald-console-shots-"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	if shots, err = filepath.Abs(shots); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1280, 800))
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		fmt.Fprintln(os.Stderr, "start chromium:", err)
		bcancel()
		acancel()
		return 1
	}
	shared = bctx
	start := time.Now()
	code := s.m.Run()
	fmt.Fprintf(os.Stderr, "console: browser tests took %s; screenshots in %s\n", time.Since(start).Round(time.Millisecond), shots)
	bcancel()
	acancel()
	return code
}

// chromium finds the browser: Debian's chromium first.
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}
