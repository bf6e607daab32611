package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/ratelimit"
)

// BenchmarkAllow is the per-request fast path: a token from the local
// bucket (the limit is never reached; one lease in 25 goes to the
// fake store).
func BenchmarkAllow(b *testing.B) {
	c := &clock{t: t0}
	l := newLimiter(newFakeStore(), ratelimit.Limits{Execution: 1 << 30}, c)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i++; i%1000 == 0 { // a new window every thousand requests
			c.Set(c.Now().Add(time.Second))
		}
		if err := l.Allow(ctx, acme, ratelimit.Execution); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAllowRefused is a request in a spent window: refused without
// a store call.
func BenchmarkAllowRefused(b *testing.B) {
	c := &clock{t: t0}
	l := newLimiter(newFakeStore(), ratelimit.Limits{Execution: 1}, c)
	ctx := context.Background()
	_ = l.Allow(ctx, acme, ratelimit.Execution)
	b.ReportAllocs()
	for b.Loop() {
		if l.Allow(ctx, acme, ratelimit.Execution) == nil {
			b.Fatal("admitted past the limit")
		}
	}
}

// BenchmarkAllowOff is a group whose limit is 0.
func BenchmarkAllowOff(b *testing.B) {
	l := newLimiter(newFakeStore(), ratelimit.Limits{}, &clock{t: t0})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := l.Allow(ctx, acme, ratelimit.Execution); err != nil {
			b.Fatal(err)
		}
	}
}
