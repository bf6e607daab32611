package app

import (
	"context"
	"io"

	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/metrics"
)

// NewMetrics returns the recorder of the function named function (the
// Function dimension: "dispatch", "trigger", …), writing EMF lines to w
// at the function's log level, with the tenant dimensions the
// configuration opts into (HERALD_METRICS_TENANT).
func NewMetrics(w io.Writer, function string, cfg config.Config) *metrics.Recorder {
	r := metrics.New(w, function, cfg.MetricsTenant)
	r.SetLevel(cfg.LogLevel.String())
	return r
}

// SetMetrics makes every service the app builds from now on record its
// metrics in r, and every handler it builds flush r when an invocation
// ends: one EMF line per set of dimensions per invocation. Without it
// nothing is recorded (herald-key, tests).
func (a *App) SetMetrics(r *metrics.Recorder) { a.metrics = r }

// Recorder is the services' metrics port: nil when the app has no
// recorder, so a service's "Metrics != nil" check holds.
func (a *App) Recorder() interface {
	Add(metrics.Metric, float64, metrics.Dims)
} {
	if a.metrics == nil {
		return nil
	}
	return a.metrics
}

// flushed is h, then the metrics of its invocation written. A line that
// cannot be written is not the invocation's failure.
func flushed[E, R any](r *metrics.Recorder, h func(context.Context, E) (R, error)) func(context.Context, E) (R, error) {
	if r == nil {
		return h
	}
	return func(ctx context.Context, e E) (R, error) {
		defer func() { _ = r.Flush() }()
		return h(ctx, e)
	}
}
