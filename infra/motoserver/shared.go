package motoserver

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"
)

var shared struct {
	once sync.Once
	mu   sync.Mutex
	srv  *Server
	err  error
}

// Shared returns the test binary's moto server, starting it on first use.
// It fails tb (with install instructions if moto is missing) rather than
// skipping: the integration tests are part of the suite. Set
// HERALD_MOTO_LOG=1 to see moto's request log on stderr. Stop it from
// TestMain with StopShared.
func Shared(tb testing.TB) *Server {
	tb.Helper()
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		opts := Options{}
		if os.Getenv("HERALD_MOTO_LOG") != "" {
			opts.Output = os.Stderr
		}
		srv, err := Start(ctx, opts)
		shared.mu.Lock()
		shared.srv, shared.err = srv, err
		shared.mu.Unlock()
	})
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.err != nil {
		tb.Fatalf("moto: %v", shared.err)
	}
	return shared.srv
}

// StopShared stops the server Shared started, if any. Call it from
// TestMain after m.Run.
func StopShared() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.srv != nil {
		_ = shared.srv.Close()
		shared.srv = nil
	}
}
