package httpapi_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/httpapi"
	"github.com/heraldhq/herald/internal/profile"
)

// BenchmarkTriggerUnitary20 runs the Trigger handler in process on the
// memory fakes: a 20-recipient unitary call of stored profiles, each with
// a small profile override and context, under a fresh requestId each time.
func BenchmarkTriggerUnitary20(b *testing.B) {
	f := newTriggerFixture(b)
	recipients := make([]obj, 20)
	for i := range recipients {
		id := fmt.Sprintf("user%d@example.com", i)
		f.putProfile(b, acme, profile.Profile{Namespace: "email", ID: id, Attributes: map[string]any{"firstName": "User"}})
		recipients[i] = obj{"type": "aep", "userId": id, "namespace": "email",
			"profile": obj{"firstName": fmt.Sprintf("User %d", i), "loyalty": obj{"tier": "gold", "points": 1200 + i}},
			"context": obj{"orderId": fmt.Sprintf("A-%05d", i), "total": 42.5, "items": []obj{{"sku": "SKU-1", "qty": 2}}}}
	}
	benchTrigger(b, f, unitaryRoute, unitary(benchMarker, f.live, recipients...))
}

// benchMarker stands for the requestId in a benchmark's body: the body is
// split around it, so an iteration only formats the id and joins three
// strings.
const benchMarker = "@@requestId@@"

// benchTrigger calls the Trigger handler on route with body, under a fresh
// requestId each time, and checks that every call stored its execution.
func benchTrigger(b *testing.B, f *triggerFixture, route string, body obj) {
	b.Helper()
	prefix, suffix, ok := strings.Cut(mustJSON(b, body), benchMarker)
	if !ok {
		b.Fatal("requestId marker not found in the body")
	}
	// The real authentication, warm: a key secret whose key the
	// container's cache holds, as on every call but one a minute.
	_, secret, err := auth.Mint(context.Background(), f.store, acme, []auth.Scope{auth.ScopeTrigger}, now)
	if err != nil {
		b.Fatal(err)
	}
	trigger := httpapi.Trigger(f.svc, realAccess(&auth.CachedKeys{Keys: f.store}), slog.New(slog.DiscardHandler))
	ev := withHeaders(event(route, "", nil, nil), map[string]string{"authorization": "Bearer " + secret})
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(prefix) + len(suffix)))
	i := 0
	for b.Loop() {
		ev.Body = prefix + "bench-" + strconv.Itoa(i) + suffix
		i++
		resp, err := trigger(ctx, ev)
		if err != nil || resp.StatusCode != http.StatusAccepted {
			b.Fatalf("trigger = %d %s, %v", resp.StatusCode, resp.Body, err)
		}
		f.queue.Reset()
	}
	if n := f.store.Executions(); n != i {
		b.Fatalf("stored %d executions for %d calls", n, i)
	}
}

// BenchmarkTriggerHighThroughput20 is BenchmarkTriggerUnitary20 on the
// high-throughput route: 20 external recipients of a high-throughput
// campaign, each with its context and address, nothing read of profiles.
func BenchmarkTriggerHighThroughput20(b *testing.B) {
	f := newTriggerFixture(b)
	ht := f.campaign(b, acme, campaignOpts{highThroughput: true, activate: true})
	recipients := make([]obj, 20)
	for i := range recipients {
		id := fmt.Sprintf("user%d@example.com", i)
		recipients[i] = obj{"type": "external", "userId": id, "namespace": "email", "channelData": obj{"emailAddress": id},
			"context": obj{"orderId": fmt.Sprintf("A-%05d", i), "firstName": fmt.Sprintf("User %d", i), "total": 42.5,
				"items": []obj{{"sku": "SKU-1", "qty": 2}}}}
	}
	benchTrigger(b, f, highThroughputRoute, unitary(benchMarker, ht, recipients...))
}
