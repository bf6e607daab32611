// Package ratelimit holds each tenant to a number of requests per second
// per route group, across every warm function container, at the cost of
// one DynamoDB write per lease of tokens rather than one per request.
//
// Design. Time is cut into one-second windows (Unix seconds). The shared
// budget of a (tenant, group, window) is one counter in the Store: the
// tokens taken from it, which can never pass the limit (a conditional
// ADD). Each container keeps a local bucket per (tenant, group) that it
// fills by leasing tokens from that counter and spends one per request
// without calling the store. A lease asks for half a second of the
// container's recent demand (the larger of the requests it saw in the
// last window and in this one so far, halved), at least 1 and at most
// limit/20: a container that sees a request now and then leases one token
// at a time, a busy one a twentieth of the limit, so the cost of a
// request is one write per lease, shared by the requests the lease
// serves, and a quiet container never sits on tokens a busy one needs.
// When the store has fewer tokens left than asked, the container takes
// what is left; once it has none, the window is spent for that container
// and every further request of the window is refused locally, with no
// store call, until the next window (Retry-After: 1).
//
// Guarantees. Across all containers the requests admitted in a window
// never exceed the limit (tokens are only spent after the store granted
// them). Tokens leased and not spent by the end of their window are lost,
// so under overload a tenant is admitted up to one lease per busy
// container less than its limit. Fixed windows let up to twice the limit
// through in a second that straddles two windows; API Gateway's stage
// throttling is the outer, hard bound.
//
// When the store fails (DynamoDB unreachable, throttled, a timeout), the
// limiter fails open: it admits the request, logs the tenant and group
// once, and admits the rest of that window without asking again. A limiter
// protects capacity and fairness, not correctness, and the request it
// would refuse needs the same table right after (its idempotency record,
// its execution), so failing closed would turn a limiter hiccup into an
// outage while adding nothing when DynamoDB is really down.
//
// Limits come from the deployment's defaults per group (Limits, from the
// environment) and, per tenant, from overrides in the store, read once a
// minute per container. A limit of 0 turns a group's limit off.
package ratelimit

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/tenant"
)

// Group is a set of routes that share a tenant's budget.
type Group string

// The route groups.
const (
	// Execution is the execution API: POST /im/executions/unitary and
	// /audience, audience execution status and schedules.
	Execution Group = "execution"
	// HighThroughput is POST /im/executions/highthroughput.
	HighThroughput Group = "highthroughput"
	// Management is every other authenticated route.
	Management Group = "management"
)

// Groups lists every group.
var Groups = []Group{Execution, HighThroughput, Management}

// ParseGroup returns the group named s.
func ParseGroup(s string) (Group, error) {
	for _, g := range Groups {
		if string(g) == s {
			return g, nil
		}
	}
	return "", fmt.Errorf("unknown rate limit group %q: want execution, highthroughput or management", s)
}

// AJO's documented rates, Herald's defaults: 500 requests per second for
// the execution API, 5,000 for high throughput. AJO documents none for
// management; 100 a second is far above what authoring needs.
const (
	DefaultExecution      = 500
	DefaultHighThroughput = 5000
	DefaultManagement     = 100
)

// Limits are requests per second per group; 0 means no limit.
type Limits struct {
	Execution, HighThroughput, Management int
}

// Of returns g's limit.
func (l Limits) Of(g Group) int {
	switch g {
	case Execution:
		return l.Execution
	case HighThroughput:
		return l.HighThroughput
	default:
		return l.Management
	}
}

// Overrides are one tenant's limits where they differ from the
// deployment's: a group absent keeps the default, 0 turns its limit off.
type Overrides map[Group]int

// Validate reports a group that is not one of Groups or a negative
// limit.
func (o Overrides) Validate() error {
	for g, n := range o {
		if _, err := ParseGroup(string(g)); err != nil {
			return err
		}
		if n < 0 {
			return fmt.Errorf("rate limit of %s is %d: want requests per second, 0 for none", g, n)
		}
	}
	return nil
}

// ParseOverrides reads "execution=1000,management=0" (the herald-key
// command's form); "" is no overrides.
func ParseOverrides(s string) (Overrides, error) {
	o := Overrides{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, v, ok := strings.Cut(part, "=")
		g, err := ParseGroup(strings.TrimSpace(name))
		if err != nil {
			return nil, err
		}
		n, nerr := strconv.Atoi(strings.TrimSpace(v))
		if !ok || nerr != nil || n < 0 {
			return nil, fmt.Errorf("rate limit %q: want <group>=<requests per second, 0 for none>", part)
		}
		o[g] = n
	}
	return o, nil
}

// Store is the shared budget and the tenants' overrides.
type Store interface {
	// TakeTokens takes up to n tokens from the budget of (t, g) in the
	// one-second window starting at window, of which limit may be taken
	// in all, and returns how many it took: n, or fewer (what was left),
	// or 0 when the window is spent. An error means nothing is known.
	TakeTokens(ctx context.Context, t tenant.Tenant, g Group, window time.Time, n, limit int) (int, error)
	// RateLimitOverrides returns t's overrides; none (a nil map, no
	// error) when it has none.
	RateLimitOverrides(ctx context.Context, t tenant.Tenant) (Overrides, error)
	// SetRateLimitOverrides replaces t's overrides; empty removes them.
	// It refuses overrides that do not Validate.
	SetRateLimitOverrides(ctx context.Context, t tenant.Tenant, o Overrides) error
}

// OverridesTTL is how long a container trusts a tenant's overrides.
const OverridesTTL = time.Minute

// DefaultStoreTimeout bounds one store call of the limiter: past it the request
// is admitted (fail open) rather than kept waiting.
const DefaultStoreTimeout = 300 * time.Millisecond

// Limiter is one container's view of the limits. Its zero value is not
// usable; build it with New. It is safe for concurrent use.
type Limiter struct {
	store    Store
	defaults Limits
	log      *slog.Logger
	// Now is the clock (nil: the wall clock). Rate limits are measured in
	// real time: the local cloud's simulated clock is not given here.
	Now func() time.Time
	// StoreTimeout bounds one store call (0: DefaultStoreTimeout).
	StoreTimeout time.Duration

	mu        sync.Mutex
	buckets   map[bucketKey]*bucket
	overrides map[tenant.Tenant]*cachedOverrides
}

type bucketKey struct {
	t tenant.Tenant
	g Group
}

// bucket is one (tenant, group)'s tokens in this container.
type bucket struct {
	mu sync.Mutex
	// limit is the group's limit for the tenant, resolved from src.
	limit int
	src   *cachedOverrides
	// window is the Unix second the tokens belong to.
	window int64
	// tokens are leased and not yet spent; used is how many requests of
	// the window this container admitted, prevUsed of the window before.
	tokens, used, prevUsed int
	// spent: the store has no more tokens this window. open: the store
	// failed this window, admit without asking.
	spent, open bool
}

// cachedOverrides are a tenant's overrides as read at at.
type cachedOverrides struct {
	o  Overrides
	at time.Time
}

func (c *cachedOverrides) fresh(now time.Time) bool {
	return c != nil && now.Sub(c.at) < OverridesTTL && !now.Before(c.at)
}

// New returns a limiter drawing on store with the deployment's default
// limits.
func New(store Store, defaults Limits, log *slog.Logger) *Limiter {
	return &Limiter{store: store, defaults: defaults, log: log,
		buckets: map[bucketKey]*bucket{}, overrides: map[tenant.Tenant]*cachedOverrides{}}
}

func (l *Limiter) storeTimeout() time.Duration {
	if l.StoreTimeout > 0 {
		return l.StoreTimeout
	}
	return DefaultStoreTimeout
}

func (l *Limiter) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Allow admits one request of t in group g, or refuses it with a
// derrors.TooManyRequests error whose RetryAfter is the time left until
// the next window. It returns no other error: a failing store admits.
func (l *Limiter) Allow(ctx context.Context, t tenant.Tenant, g Group) error {
	now := l.now()
	b := l.bucket(t, g)
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.src.fresh(now) {
		b.src = l.overridesOf(ctx, t, g, now)
		b.limit = l.defaults.Of(g)
		if n, ok := b.src.o[g]; ok {
			b.limit = n
		}
	}
	if b.limit <= 0 {
		return nil
	}
	sec := now.Unix()
	if sec != b.window {
		prev := 0
		if sec == b.window+1 {
			prev = b.used
		}
		b.window, b.prevUsed, b.tokens, b.used, b.spent, b.open = sec, prev, 0, 0, false, false
	}
	switch {
	case b.tokens > 0:
		b.tokens--
	case b.open:
	case b.spent:
		return tooMany(now)
	default:
		n := leaseSize(b.limit, max(b.prevUsed, b.used+1))
		sctx, cancel := context.WithTimeout(ctx, l.storeTimeout())
		got, err := l.store.TakeTokens(sctx, t, g, time.Unix(sec, 0), n, b.limit)
		cancel()
		if err != nil {
			l.log.WarnContext(ctx, "rate limiter store failed; admitting this window", "tenant", t.String(), "group", string(g))
			b.open = true
			break
		}
		if got < n {
			b.spent = true // what was left; asking again would find nothing
		}
		if got <= 0 {
			return tooMany(now)
		}
		b.tokens = got - 1
	}
	b.used++
	return nil
}

// leaseSize is half of demand requests, at least 1 and at most a
// twentieth of limit.
func leaseSize(limit, demand int) int {
	return min(max(1, limit/20), max(1, (demand+1)/2))
}

func tooMany(now time.Time) error {
	next := now.Truncate(time.Second).Add(time.Second)
	return &derrors.Error{Kind: derrors.TooManyRequests, RetryAfter: next.Sub(now),
		Detail: "the tenant's request rate for these routes is over its limit; retry after the Retry-After delay"}
}

func (l *Limiter) bucket(t tenant.Tenant, g Group) *bucket {
	k := bucketKey{t, g}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[k]
	if !ok {
		b = &bucket{}
		l.buckets[k] = b
	}
	return b
}

// overridesOf returns t's overrides, read again once those cached are
// OverridesTTL old (so a change reaches every group within that); a failed
// read keeps the last known (or none: the defaults) and is tried again
// after the TTL.
func (l *Limiter) overridesOf(ctx context.Context, t tenant.Tenant, g Group, now time.Time) *cachedOverrides {
	l.mu.Lock()
	c := l.overrides[t]
	l.mu.Unlock()
	if c.fresh(now) {
		return c
	}
	sctx, cancel := context.WithTimeout(ctx, l.storeTimeout())
	o, err := l.store.RateLimitOverrides(sctx, t)
	cancel()
	if err != nil {
		l.log.WarnContext(ctx, "rate limit overrides unreadable; using the last known", "tenant", t.String(), "group", string(g))
		if c != nil {
			o = c.o
		}
	}
	c = &cachedOverrides{o: o, at: now}
	l.mu.Lock()
	l.overrides[t] = c
	l.mu.Unlock()
	return c
}
