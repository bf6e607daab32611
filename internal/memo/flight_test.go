package memo

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// waitFor polls until key's load under way has n waiters.
func waitFor[K comparable, V any](t *testing.T, f *Flight[K, V], key K, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		f.mu.Lock()
		c := f.calls[key]
		got := 0
		if c != nil {
			got = c.waiters
		}
		f.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d waiters, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// Callers that come while a key's load is under way share its answer:
// one load for eight callers; the next call after it loads again.
func TestConcurrentLoadsOfOneKeyAreOne(t *testing.T) {
	var f Flight[string, int]
	var loads atomic.Int32
	release := make(chan struct{})
	load := func() (int, error) { loads.Add(1); <-release; return 42, nil }
	got := make([]int, 8)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); got[0], _ = f.Do("k", load) }()
	for loads.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	for i := 1; i < len(got); i++ {
		wg.Add(1)
		go func() { defer wg.Done(); got[i], _ = f.Do("k", load) }()
	}
	waitFor(t, &f, "k", len(got)-1)
	close(release)
	wg.Wait()
	if n := loads.Load(); n != 1 {
		t.Errorf("%d loads for %d concurrent callers, want 1", n, len(got))
	}
	for i, v := range got {
		if v != 42 {
			t.Errorf("caller %d got %d, want the load's 42", i, v)
		}
	}
	if v, err := f.Do("k", func() (int, error) { return 7, nil }); v != 7 || err != nil {
		t.Errorf("a call after the load = %d, %v; want its own 7", v, err)
	}
}

// Waiters get the load's error too; a failed load is not kept.
func TestALoadsErrorReachesItsWaiters(t *testing.T) {
	var f Flight[int, string]
	boom := errors.New("boom")
	release := make(chan struct{})
	started := make(chan struct{})
	errs := make(chan error, 2)
	go func() {
		_, err := f.Do(1, func() (string, error) { close(started); <-release; return "", boom })
		errs <- err
	}()
	<-started
	go func() {
		_, err := f.Do(1, func() (string, error) { return "", nil })
		errs <- err
	}()
	waitFor(t, &f, 1, 1)
	close(release)
	for range 2 {
		if err := <-errs; !errors.Is(err, boom) {
			t.Errorf("a caller's error = %v, want the load's", err)
		}
	}
	if v, err := f.Do(1, func() (string, error) { return "ok", nil }); v != "ok" || err != nil {
		t.Errorf("after the failed load = %q, %v; want a load of its own", v, err)
	}
}
