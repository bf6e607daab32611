package memo

import "sync"

// Flight makes concurrent loads of one key one load: a caller that comes
// while a load of its key is under way waits for that load's answer
// instead of making its own. It keeps nothing once the load is done (the
// caller's cache does). The zero Flight is ready; it is safe for
// concurrent use.
//
// The jobs of one SQS batch start at once, so a cold cache of a campaign
// version or a configuration would otherwise be read once per job.
type Flight[K comparable, V any] struct {
	mu    sync.Mutex
	calls map[K]*flightCall[V]
}

type flightCall[V any] struct {
	done chan struct{}
	v    V
	err  error
	// waiters counts the callers waiting on the load (for the tests).
	waiters int
}

// Do returns load's answer for key: its own, or that of the load of key
// under way when it was called.
func (f *Flight[K, V]) Do(key K, load func() (V, error)) (V, error) {
	f.mu.Lock()
	if c, ok := f.calls[key]; ok {
		c.waiters++
		f.mu.Unlock()
		<-c.done
		return c.v, c.err
	}
	c := &flightCall[V]{done: make(chan struct{})}
	if f.calls == nil {
		f.calls = make(map[K]*flightCall[V])
	}
	f.calls[key] = c
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.calls, key)
		f.mu.Unlock()
		close(c.done)
	}()
	c.v, c.err = load()
	return c.v, c.err
}
