package feedback_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/feedback"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/metrics"
)

// countMetrics counts what was recorded by metric, channel, type and
// result.
type countMetrics map[string]float64

func (m countMetrics) Add(metric metrics.Metric, v float64, d metrics.Dims) {
	m[metric.Name+" "+d.Channel+" "+d.Type+" "+d.Result] += v
}

func TestEveryAppliedEventIsCountedByKindAndResult(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	svc := service(s)
	m := countMetrics{}
	svc.Metrics = m
	e := sent(t, s, "u1", campaign.Email, delivery.Sent, "m-1")
	for _, k := range []feedback.Kind{feedback.Delivery, feedback.Delivery, feedback.Open} {
		if _, err := svc.Apply(ctx, emailEvent(e, k)); err != nil {
			t.Fatal(err)
		}
	}
	ev := emailEvent(e, feedback.Send)
	ev.Kind = "nonsense"
	if _, err := svc.Apply(ctx, ev); err == nil {
		t.Fatal("an unknown kind was applied")
	}
	want := countMetrics{
		"FeedbackEvents email delivery recorded": 1,
		"FeedbackEvents email delivery repeated": 1,
		"FeedbackEvents email open recorded":     1,
	}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
}
