package localcloud

import (
	"os"
	"sync"
	"time"
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
