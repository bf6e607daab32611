package config_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/ratelimit"
)

func TestLoadRateLimits(t *testing.T) {
	c, err := config.Load(env(map[string]string{"HERALD_TABLE": "herald"}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ratelimit.Limits{Execution: 500, HighThroughput: 5000, Management: 100}, c.RateLimits); diff != "" {
		t.Errorf("default RateLimits (-want +got):\n%s", diff)
	}
	c, err = config.Load(env(map[string]string{"HERALD_TABLE": "herald", "HERALD_RATE_EXECUTION": " 50 ",
		"HERALD_RATE_HIGHTHROUGHPUT": "0", "HERALD_RATE_MANAGEMENT": "7"}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ratelimit.Limits{Execution: 50, HighThroughput: 0, Management: 7}, c.RateLimits); diff != "" {
		t.Errorf("RateLimits (-want +got):\n%s", diff)
	}
	for name, v := range map[string]string{"HERALD_RATE_EXECUTION": "-1", "HERALD_RATE_HIGHTHROUGHPUT": "5k", "HERALD_RATE_MANAGEMENT": "1.5"} {
		if _, err := config.Load(env(map[string]string{"HERALD_TABLE": "herald", name: v})); err == nil {
			t.Errorf("%s=%q loaded, want an error", name, v)
		}
	}
}
