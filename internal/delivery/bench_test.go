package delivery_test

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"testing"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/metrics"
	"github.com/heraldhq/herald/internal/profile"
)

// BenchmarkDispatch measures one job end to end on the memory fakes:
// profile lookup, ledger claim and finish, rendering and the (recording)
// mailer, and the metrics recorded and flushed as an invocation does.
// Each iteration is a new execution, so nothing is deduplicated.
func BenchmarkDispatch(b *testing.B) {
	for _, n := range []int{1, 20} {
		b.Run(fmt.Sprintf("recipients=%d", n), func(b *testing.B) {
			f := newFixture(b, defaultContent, defaultSettings)
			rs := make([]delivery.Recipient, n)
			for i := range rs {
				id := fmt.Sprintf("crm-%d", i)
				f.putProfile(b, profile.Profile{Namespace: "crmId", ID: id, Attributes: map[string]any{
					"email":  fmt.Sprintf("user%d@example.com", i),
					"person": map[string]any{"name": map[string]any{"firstName": "Jane", "lastName": "Doe"}},
				}})
				rs[i] = delivery.Recipient{Type: "aep", UserID: id, Namespace: "crmId",
					Profile: toObject(map[string]any{"person": map[string]any{"name": map[string]any{"firstName": "J"}}}),
					Context: toObject(map[string]any{"orderId": "A-1001", "note": "<b>2 items</b> & a gift"})}
			}
			j := job(rs...)
			rec := metrics.New(io.Discard, "dispatch", false)
			f.d.Metrics = rec
			ctx := context.Background()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				j.ExecutionID = "ex-" + strconv.Itoa(i)
				i++
				if err := f.d.Dispatch(ctx, j); err != nil {
					b.Fatal(err)
				}
				_ = rec.Flush()
			}
			if got, want := len(f.mailer.Sent()), i*n; got != want {
				b.Fatalf("sent %d emails, want %d", got, want)
			}
		})
	}
}
