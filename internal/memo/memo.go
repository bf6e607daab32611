// Package memo keeps answers that never change once read — a campaign
// version, an execution's requestId — for the life of a warm function,
// bounded: at its limit it starts again empty.
package memo

import "sync"

// Map memoizes loads by key; the zero Map is ready. It is safe for
// concurrent use.
type Map[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]V
}

// Get returns key's answer, loading it on a miss; a map already holding
// limit answers starts afresh before it keeps a new one. A failed load is
// not kept; two concurrent misses may both load.
func (c *Map[K, V]) Get(key K, limit int, load func() (V, error)) (V, error) {
	c.mu.Lock()
	v, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := load()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= limit {
		c.m = make(map[K]V)
	}
	c.m[key] = v
	c.mu.Unlock()
	return v, nil
}
