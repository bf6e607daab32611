package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/httpapi"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/ratelimit"
	"github.com/heraldhq/herald/internal/tenant"
)

// recordingLimiter admits every request, recording who asked.
type recordingLimiter struct {
	mu    sync.Mutex
	asked []string
}

func (l *recordingLimiter) Allow(_ context.Context, t tenant.Tenant, g ratelimit.Group) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.asked = append(l.asked, t.String()+" "+string(g))
	return nil
}

func TestARateLimitedRequestIs429WithRetryAfterAndStoresAndSendsNothing(t *testing.T) {
	clock := now.Add(250 * time.Millisecond)
	lim := ratelimit.New(memory.New(), ratelimit.Limits{Execution: 1, Management: 1}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	lim.Now = func() time.Time { return clock }
	h := newHarness(t, httpapi.WithLimiter(lim))
	live := h.campaign(t, acme, campaignOpts{activate: true})
	send := func(requestID string) (status int, retryAfter, body string) {
		t.Helper()
		resp, err := h.trigger(context.Background(), event(unitaryRoute, mustJSON(t, unitary(requestID, live, external("a@example.com"))), acmeKey, nil))
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, resp.Headers["Retry-After"], resp.Body
	}

	if status, _, body := send("req-1"); status != http.StatusAccepted {
		t.Fatalf("the first request: %d %s, want 202", status, body)
	}
	status, retry, body := send("req-2")
	if status != http.StatusTooManyRequests || retry != "1" {
		t.Fatalf("the second request in the window: %d, Retry-After %q; want 429, 1 (%s)", status, retry, body)
	}
	e := errorBody(t, status, body)
	if e.Type != httpapi.ErrorTypeBase+"too-many-requests" || e.Title != "Too many requests" {
		t.Errorf("type %q, title %q; want %stoo-many-requests, Too many requests", e.Type, e.Title, httpapi.ErrorTypeBase)
	}
	if diff := cmp.Diff(map[string]string{"requestId": "req-2", "campaignId": live}, e.Report.AdditionalContext); diff != "" {
		t.Errorf("report.additionalContext (-want +got):\n%s", diff)
	}
	if jobs, execs := len(h.queue.Jobs()), h.store.Executions(); jobs != 1 || execs != 1 {
		t.Errorf("%d jobs queued, %d executions stored; want the first request's 1 and 1", jobs, execs)
	}

	// Management has a budget of its own; public routes and callers
	// without a credential are not counted.
	if st, _ := call(t, h.manage, event("GET /campaigns", "", acmeKey, nil)); st != http.StatusOK {
		t.Errorf("the first management request: %d, want 200", st)
	}
	if st, b := call(t, h.trigger, event(unitaryRoute, "{}", nil, nil)); st != http.StatusUnauthorized {
		t.Errorf("without a credential: %d %s, want 401", st, b)
	}
	if st, _ := call(t, h.trigger, event("GET /im/health", "", nil, nil)); st != http.StatusOK {
		t.Errorf("health: %d, want 200", st)
	}
	if st, _ := call(t, h.manage, event("GET /campaigns", "", acmeKey, nil)); st != http.StatusTooManyRequests {
		t.Errorf("the second management request: %d, want 429", st)
	}
	if st, _ := call(t, h.trigger, event(unitaryRoute, mustJSON(t, unitary("req-g", live, external("a@example.com"))), authorized(globex, "hk_globex", "trigger"), nil)); st == http.StatusTooManyRequests {
		t.Errorf("another tenant's request was refused: the budget is per tenant")
	}

	clock = clock.Add(time.Second)
	if status, _, body := send("req-3"); status != http.StatusAccepted {
		t.Errorf("the next window's request: %d %s, want 202", status, body)
	}
}

func TestTheLimiterIsAskedWithTheCredentialsTenantAndTheRoutesGroup(t *testing.T) {
	rec := &recordingLimiter{}
	h := newHarness(t, httpapi.WithLimiter(rec))
	call(t, h.trigger, event(unitaryRoute, "{}", acmeKey, nil))
	call(t, h.trigger, event("POST /im/executions/highthroughput", "{}", acmeKey, nil))
	call(t, h.manage, event("GET /campaigns", "", authorized(globex, "hk_globex", "read"), nil))
	call(t, h.trigger, event("GET /im/health", "", nil, nil))
	call(t, h.trigger, event(unitaryRoute, "{}", authorized(acme, "hk_read", "read"), nil)) // 403 first
	want := []string{"acme/prod execution", "acme/prod highthroughput", "globex/prod management"}
	if diff := cmp.Diff(want, rec.asked); diff != "" {
		t.Errorf("the limiter was asked (-want +got):\n%s", diff)
	}
}

// BenchmarkRateLimitedRequest is a refused request through the Trigger
// handler: the limiter's local refusal, the report's names scanned from
// the body, the 429 body encoded.
func BenchmarkRateLimitedRequest(b *testing.B) {
	lim := ratelimit.New(memory.New(), ratelimit.Limits{Execution: 1}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	lim.Now = func() time.Time { return now }
	h := newHarness(b, httpapi.WithLimiter(lim))
	ev := event(unitaryRoute, mustJSON(b, unitary("req-1", "c-1", external("a@example.com"))), acmeKey, nil)
	ctx := context.Background()
	_, _ = h.trigger(ctx, ev)
	b.ReportAllocs()
	for b.Loop() {
		if resp, _ := h.trigger(ctx, ev); resp.StatusCode != http.StatusTooManyRequests {
			b.Fatalf("status %d, want 429", resp.StatusCode)
		}
	}
}
