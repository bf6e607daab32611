package delivery_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/metrics"
	"github.com/heraldhq/herald/internal/tenant"
)

// fakeMetrics keeps what was recorded: counts summed by metric and
// dimensions, distributions by metric.
type fakeMetrics struct {
	mu     sync.Mutex
	counts map[string]float64
	values map[string][]float64
}

func (m *fakeMetrics) Add(metric metrics.Metric, v float64, d metrics.Dims) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.counts == nil {
		m.counts, m.values = map[string]float64{}, map[string][]float64{}
	}
	if metric.Distribution {
		m.values[metric.Name] = append(m.values[metric.Name], v)
		return
	}
	k := metric.Name + " " + d.Channel + " " + d.Outcome + d.Code + " " + d.Type
	if d.Tenant != (tenant.Tenant{}) {
		k += " " + d.Tenant.String() + " " + d.Campaign
	}
	m.counts[k] += v
}

func TestDispatchRecordsOutcomesOncePerKindAndEachProviderCall(t *testing.T) {
	f := newFixture(t, defaultContent, defaultSettings)
	m := &fakeMetrics{}
	f.d.Metrics = m
	f.mailer.Fail = func(e delivery.Email) error {
		switch e.To {
		case "refused@example.com":
			return &delivery.SendError{Failure: delivery.Refused, Code: "MessageRejected", Err: errors.New("refused@example.com")}
		case "unsure@example.com":
			return &delivery.SendError{Failure: delivery.Uncertain, Code: "5xx"}
		}
		return nil
	}
	j := job(delivery.Recipient{Type: "external", UserID: "a@example.com", Namespace: "email"},
		delivery.Recipient{Type: "external", UserID: "b@example.com", Namespace: "email"},
		delivery.Recipient{Type: "external", UserID: "refused@example.com", Namespace: "email"},
		delivery.Recipient{Type: "external", UserID: "unsure@example.com", Namespace: "email"})
	sent := time.Now().Add(-3 * time.Second)
	j.Receipt = delivery.Receipt{Count: 1, First: sent, Sent: sent.Add(-2 * time.Second), Delay: 2 * time.Second}
	if err := f.d.Dispatch(context.Background(), j); err != nil {
		t.Fatalf("Dispatch: %v", err)
	}
	want := map[string]float64{
		"Recipients email sent  acme/prod camp-1":      2,
		"Recipients email failed  acme/prod camp-1":    1,
		"Recipients email ambiguous  acme/prod camp-1": 1,
		"ProviderErrors email MessageRejected refused": 1,
		"ProviderErrors email 5xx uncertain":           1,
		"AmbiguousSends email  ":                       1,
	}
	if diff := cmp.Diff(want, m.counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	if n := len(m.values["SendLatency"]); n != 4 {
		t.Errorf("%d send latencies, want one per provider call (4)", n)
	}
	lags := m.values["DispatchLag"]
	if len(lags) != 4 {
		t.Fatalf("%d dispatch lags, want 4", len(lags))
	}
	for _, l := range lags {
		// Sent 5 s ago with a 2 s delay: about 3 s late, not 5.
		if l < 2900 || l > 4500 {
			t.Errorf("dispatch lag %v ms, want about 3000 (the delay is not lag)", l)
		}
	}

	// The same job again: nothing new happened, nothing is counted twice.
	m.counts, m.values = nil, nil
	if err := f.d.Dispatch(context.Background(), j); err != nil {
		t.Fatalf("second Dispatch: %v", err)
	}
	if len(m.counts) != 0 || len(m.values) != 0 {
		t.Errorf("a repeated job recorded %v %v, want nothing", m.counts, m.values)
	}
}
