package localcloud

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/heraldhq/herald/infra/motoserver"
)

func TestMain(m *testing.M) {
	code := m.Run()
	motoserver.StopShared()
	os.Exit(code)
}

// startCloud starts a local cloud on a clean shared moto, with manual
// polling so tests decide when queues are processed.
func startCloud(t *testing.T) *Cloud {
	t.Helper()
	moto := motoserver.Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := moto.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	var log *slog.Logger
	if os.Getenv("HERALD_TEST_LOG") != "" {
		log = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	c, err := Start(ctx, Options{TemplatePath: "../../template.yaml", Addr: "127.0.0.1:0", MotoURL: moto.URL(), Log: log, ManualPolling: true, Timing: &FastTiming})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c
}
