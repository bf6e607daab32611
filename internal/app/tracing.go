package app

import (
	"context"

	"github.com/aws/aws-lambda-go/events"

	"github.com/heraldhq/herald/internal/schedule"
	"github.com/heraldhq/herald/internal/tracing"
)

// SetTracer makes every handler the app builds from now on record its
// invocations in t (tracing.FromEnv in Lambda; nil: nothing traced). The
// AWS calls of every client are recorded under them whatever the tracer
// (New adds the SDK middleware), and only when an invocation is traced.
func (a *App) SetTracer(t *tracing.Tracer) { a.tracer = t }

// invoked is h as one invocation of the function: a subsegment named name
// when Lambda sampled it (the answer's HTTP status on it for the HTTP
// API), and its metrics flushed when it ends.
func invoked[E, R any](a *App, name string, h func(context.Context, E) (R, error)) func(context.Context, E) (R, error) {
	h = flushed(a.metrics, h)
	if a.tracer == nil {
		return h
	}
	return func(ctx context.Context, e E) (R, error) {
		ctx, s := a.tracer.Begin(ctx, name)
		r, err := h(ctx, e)
		if resp, ok := any(r).(events.APIGatewayV2HTTPResponse); ok {
			s.SetHTTPStatus(resp.StatusCode)
		}
		s.End(err)
		return r, err
	}
}

// invokedSchedule is invoked for the Scheduler function's handler.
func invokedSchedule(a *App, name string, h func(context.Context, schedule.Input) error) func(context.Context, schedule.Input) error {
	full := invoked(a, name, func(ctx context.Context, in schedule.Input) (struct{}, error) { return struct{}{}, h(ctx, in) })
	return func(ctx context.Context, in schedule.Input) error {
		_, err := full(ctx, in)
		return err
	}
}

// Invoked is h as one invocation of the function named name, as the
// app's own handlers are (traced when sampled, metrics flushed when it
// ends): for the handlers package httpapp builds.
func Invoked[E, R any](a *App, name string, h func(context.Context, E) (R, error)) func(context.Context, E) (R, error) {
	return invoked(a, name, h)
}
