package httpapi

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/derrors"
)

// A kind without an entry would answer status 0 with an empty type.
func TestEveryErrorKindHasAStatusAndAType(t *testing.T) {
	for k := derrors.Internal; k <= derrors.TooManyRequests; k++ {
		if e, ok := errorKinds[k]; !ok || e.status < 400 || e.slug == "" || e.title == "" {
			t.Errorf("%s maps to %+v", k, e)
		}
	}
}

func TestRetryAfterIsWholeSecondsRoundedUpAndAtLeastOne(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Nanosecond: "1", 750 * time.Millisecond: "1", time.Second: "1", 1200 * time.Millisecond: "2", time.Minute: "60",
	} {
		if got := retryAfterSeconds(d); got != want {
			t.Errorf("retryAfterSeconds(%v) = %q, want %q", d, got, want)
		}
	}
	resp := errorResponse(context.Background(), slog.New(slog.NewJSONHandler(io.Discard, nil)), "r", derrors.New(derrors.Throttled, "busy"), nil)
	if _, ok := resp.Headers["Retry-After"]; ok {
		t.Errorf("an error without RetryAfter has Retry-After %q", resp.Headers["Retry-After"])
	}
}
