package localcloud

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"sync"
	"time"

	"github.com/heraldhq/herald/infra/motoserver"
)

// Clock is a clock for Options.Now in tests: the wall clock plus an
// offset the test moves forward (Advance) instead of sleeping, to make
// schedules due. The zero Clock is the wall clock.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now is the wall clock plus the offset.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// ShortRun reports whether the test binary was given -test.short, before
// flag.Parse has run: a TestMain uses it to skip starting a local cloud
// that a short run would not use.
func ShortRun() bool {
	for _, a := range os.Args[1:] {
		if a == "-test.short" || a == "-test.short=true" || a == "-short" {
			return true
		}
	}
	return false
}

// TestLog is where an end-to-end suite's cloud logs unless it keeps its
// own: nowhere, or stderr when HERALD_TEST_LOG is set.
func TestLog() *slog.Logger {
	var w io.Writer = io.Discard
	if os.Getenv("HERALD_TEST_LOG") != "" {
		w = os.Stderr
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Buffer collects what a suite's cloud writes (its log, the functions'
// EMF lines) from every handler at once, for the suite to read.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p, whichever goroutine writes.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// RateLimitsOff are the template parameters that turn the per-tenant rate
// limiter off.
var RateLimitsOff = map[string]string{"ExecutionRateLimit": "0", "HighThroughputRateLimit": "0", "ManagementRateLimit": "0"}

// RunSuite is an end-to-end suite's TestMain (m is its *testing.M): it starts a local cloud with
// opts (a free port, manual polling, TestLog, template ../../template.yaml
// unless set), stores it in *cloud, runs the tests and stops the cloud and
// the shared moto. It returns the exit code for os.Exit; a cloud that
// does not start within a minute is exit code 1, and so is a suite whose
// opts.Contract finds violations, even when every test passed.
//
// Under -short (the quick loop) it starts nothing and runs no test: the
// suite is skipped whole. A suite with tests that need no cloud runs them
// itself before calling RunSuite (if ShortRun() { os.Exit(m.Run()) }).
func RunSuite(m interface{ Run() int }, cloud **Cloud, opts Options) int {
	if ShortRun() {
		fmt.Println("end-to-end suite skipped under -short")
		return 0
	}
	if opts.TemplatePath == "" {
		opts.TemplatePath = "../../template.yaml"
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Log == nil {
		opts.Log = TestLog()
	}
	// The suites send at volume and count the calls their fault plans
	// fail: the rate limiter, tested on its own (internal/ratelimit,
	// TestATenantOverItsRateLimitIsAnswered429), is off unless a suite
	// sets its parameters.
	params := maps.Clone(RateLimitsOff)
	maps.Copy(params, opts.Parameters)
	opts.Parameters = params
	opts.ManualPolling = true
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	c, err := Start(ctx, opts)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "start local cloud:", err)
		return 1
	}
	*cloud = c
	code := m.Run()
	c.Close()
	motoserver.StopShared()
	if opts.Contract != nil {
		if err := opts.Contract.Verdict(); err != nil {
			fmt.Fprintln(os.Stderr, "FAIL: the API broke its contract:", err)
			return 1
		}
	}
	return code
}
