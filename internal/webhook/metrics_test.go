package webhook_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/metrics"
	"github.com/heraldhq/herald/internal/webhook"
)

// resultMetrics counts what was recorded by result and code.
type resultMetrics map[string]float64

func (m resultMetrics) Add(metric metrics.Metric, v float64, d metrics.Dims) {
	m[metric.Name+" "+d.Result+" "+d.Code] += v
}

func TestEachAttemptsResultIsCountedOnce(t *testing.T) {
	f := newFixture(t, func(n int) int {
		if n <= 2 {
			return http.StatusServiceUnavailable
		}
		return http.StatusNoContent
	})
	m := resultMetrics{}
	f.d.Metrics = m
	ctx := context.Background()
	for attempt := 1; ; attempt++ {
		err := f.d.Deliver(ctx, message("ev-1"))
		if err == nil {
			break
		}
		var re *webhook.RetryError
		if !errors.As(err, &re) || attempt > 5 {
			t.Fatalf("attempt %d: %v, want a retry", attempt, err)
		}
		f.clock.Add(re.After)
	}
	// A copy delivered already is not counted again.
	if err := f.d.Deliver(ctx, message("ev-1")); err != nil {
		t.Fatal(err)
	}
	want := resultMetrics{"WebhookDeliveries retrying http_status": 2, "WebhookDeliveries delivered ": 1}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
}
