package config_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/config"
)

func TestLoadRetention(t *testing.T) {
	c, err := config.Load(env(map[string]string{"HERALD_TABLE": "herald"}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(config.DefaultRetention, c.Retention); diff != "" {
		t.Errorf("unset: Retention (-want +got):\n%s", diff)
	}
	c, err = config.Load(env(map[string]string{"HERALD_TABLE": "herald", "HERALD_RETENTION_EXECUTIONS_DAYS": "30",
		"HERALD_RETENTION_LEDGER_DAYS": " 0 ", "HERALD_RETENTION_RECIPIENT_LISTS_DAYS": "14", "HERALD_RETENTION_IDEMPOTENCY_DAYS": "1",
		"HERALD_RETENTION_WEBHOOK_DELIVERIES_DAYS": "3", "HERALD_RETENTION_COUNTERS_DAYS": "365"}))
	if err != nil {
		t.Fatal(err)
	}
	want := config.Retention{Executions: 30 * config.Day, Ledger: 0, RecipientLists: 14 * config.Day, Idempotency: config.Day,
		WebhookDeliveries: 3 * config.Day, Counters: 365 * config.Day}
	if diff := cmp.Diff(want, c.Retention); diff != "" {
		t.Errorf("set: Retention (-want +got):\n%s", diff)
	}
	for name, v := range map[string]string{"HERALD_RETENTION_EXECUTIONS_DAYS": "90d", "HERALD_RETENTION_LEDGER_DAYS": "-1",
		"HERALD_RETENTION_IDEMPOTENCY_DAYS": "0", "HERALD_RETENTION_WEBHOOK_DELIVERIES_DAYS": "0", "HERALD_RETENTION_COUNTERS_DAYS": "99999"} {
		if _, err := config.Load(env(map[string]string{"HERALD_TABLE": "herald", name: v})); err == nil {
			t.Errorf("%s=%q loaded, want an error", name, v)
		}
	}
}
