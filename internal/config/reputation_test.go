package config_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/config"
)

func TestLoadReputation(t *testing.T) {
	c, err := config.Load(env(map[string]string{"HERALD_TABLE": "herald"}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(config.Reputation{BounceRate: 0.04, ComplaintRate: 0.0008, MinSends: 500}, c.Reputation); diff != "" {
		t.Errorf("default Reputation (-want +got):\n%s", diff)
	}
	c, err = config.Load(env(map[string]string{"HERALD_TABLE": "herald", "HERALD_REPUTATION_BOUNCE_RATE": "0.1",
		"HERALD_REPUTATION_COMPLAINT_RATE": "0", "HERALD_REPUTATION_MIN_SENDS": " 5 "}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(config.Reputation{BounceRate: 0.1, ComplaintRate: 0, MinSends: 5}, c.Reputation); diff != "" {
		t.Errorf("Reputation (-want +got):\n%s", diff)
	}
	for name, v := range map[string]string{"HERALD_REPUTATION_BOUNCE_RATE": "4%", "HERALD_REPUTATION_COMPLAINT_RATE": "1.5",
		"HERALD_REPUTATION_MIN_SENDS": "0"} {
		if _, err := config.Load(env(map[string]string{"HERALD_TABLE": "herald", name: v})); err == nil {
			t.Errorf("%s=%q loaded, want an error", name, v)
		}
	}
}
