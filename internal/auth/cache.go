package auth

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/derrors"
)

// CacheTTL is how long a container trusts what it read about a key: a
// revoked or rotated key stops authenticating within it, and a warm
// container checks a busy key's credential against the table once per
// TTL instead of on every request.
const CacheTTL = 60 * time.Second

// maxCached bounds a cache's entries: a caller sending many unknown
// secrets empties it rather than growing it.
const maxCached = 4096

// CachedKeys is a KeyReader that remembers answers (a key, or that there
// is none) for CacheTTL. Errors that are not answers (a store that did not
// respond) are not remembered.
type CachedKeys struct {
	Keys KeyReader
	// Now is the clock (nil: the wall clock).
	Now func() time.Time

	mu      sync.Mutex
	entries map[string]cachedKey
}

type cachedKey struct {
	key     Key
	missing bool
	until   time.Time
}

// GetKey implements KeyReader.
func (c *CachedKeys) GetKey(ctx context.Context, hash string) (Key, error) {
	return c.lookup(ctx, "h:"+hash, func() (Key, error) { return c.Keys.GetKey(ctx, hash) })
}

// GetKeyByID implements KeyReader.
func (c *CachedKeys) GetKeyByID(ctx context.Context, id string) (Key, error) {
	return c.lookup(ctx, "i:"+id, func() (Key, error) { return c.Keys.GetKeyByID(ctx, id) })
}

func (c *CachedKeys) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *CachedKeys) lookup(_ context.Context, name string, read func() (Key, error)) (Key, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[name]
	c.mu.Unlock()
	if ok && now.Before(e.until) {
		if e.missing {
			return Key{}, derrors.New(derrors.NotFound, "api key not found")
		}
		return cloneKey(e.key), nil
	}
	k, err := read()
	missing := derrors.Is(err, derrors.NotFound)
	if err != nil && !missing {
		return Key{}, err
	}
	c.mu.Lock()
	if c.entries == nil || len(c.entries) >= maxCached {
		c.entries = map[string]cachedKey{}
	}
	c.entries[name] = cachedKey{key: cloneKey(k), missing: missing, until: now.Add(CacheTTL)}
	c.mu.Unlock()
	return k, err
}

func cloneKey(k Key) Key {
	k.Scopes = slices.Clone(k.Scopes)
	return k
}
