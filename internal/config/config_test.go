package config_test

import (
	"log/slog"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/heraldhq/herald/internal/config"
)

// env returns a getenv over m.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    config.Config
		wantErr bool
	}{
		{
			name: "every variable is read and trimmed",
			env: map[string]string{
				"HERALD_TABLE":                           " herald ",
				"HERALD_DISPATCH_QUEUE_URL":              "http://127.0.0.1:5000/123/dispatch\n",
				"HERALD_SES_CONFIGURATION_SET":           "herald-events",
				"HERALD_SES_CONFIGURATION_SET_CLICKS":    " herald-clicks ",
				"HERALD_SES_CONFIGURATION_SET_UNTRACKED": "herald-untracked\n",
				"HERALD_LOG_LEVEL":                       " debug ",
			},
			want: config.Config{Table: "herald", DispatchQueueURL: "http://127.0.0.1:5000/123/dispatch",
				ConfigurationSet: "herald-events", ConfigurationSetClicks: "herald-clicks", ConfigurationSetUntracked: "herald-untracked",
				LogLevel: slog.LevelDebug},
		},
		{
			name: "only the table is required and the level defaults to info",
			env:  map[string]string{"HERALD_TABLE": "herald"},
			want: config.Config{Table: "herald", LogLevel: slog.LevelInfo},
		},
		{
			name: "the level is case-insensitive",
			env:  map[string]string{"HERALD_TABLE": "herald", "HERALD_LOG_LEVEL": "WARN"},
			want: config.Config{Table: "herald", LogLevel: slog.LevelWarn},
		},
		{
			name: "tenant metric dimensions are opted into",
			env:  map[string]string{"HERALD_TABLE": "herald", "HERALD_METRICS_TENANT": "true"},
			want: config.Config{Table: "herald", LogLevel: slog.LevelInfo, MetricsTenant: true},
		},
		{
			name:    "tenant metric dimensions other than true or false fail",
			env:     map[string]string{"HERALD_TABLE": "herald", "HERALD_METRICS_TENANT": "yes please"},
			wantErr: true,
		},
		{
			name:    "a missing table fails",
			env:     map[string]string{"HERALD_DISPATCH_QUEUE_URL": "q"},
			wantErr: true,
		},
		{
			name:    "a blank table fails",
			env:     map[string]string{"HERALD_TABLE": "  "},
			wantErr: true,
		},
		{
			name: "the sender identity and the push applications are read and trimmed",
			env: map[string]string{"HERALD_TABLE": "herald", "HERALD_SENDER_IDENTITY": " herald.example ",
				"HERALD_PUSH_APPLICATIONS": "arn:aws:sns:us-east-1:123456789012:app/*/herald-*\n"},
			want: config.Config{Table: "herald", LogLevel: slog.LevelInfo, SenderIdentity: "herald.example",
				PushApplications: "arn:aws:sns:us-east-1:123456789012:app/*/herald-*"},
		},
		{
			name: "an address is a sender identity",
			env:  map[string]string{"HERALD_TABLE": "herald", "HERALD_SENDER_IDENTITY": "news@herald.example"},
			want: config.Config{Table: "herald", LogLevel: slog.LevelInfo, SenderIdentity: "news@herald.example"},
		},
		{
			name:    "a sender identity with a wildcard fails",
			env:     map[string]string{"HERALD_TABLE": "herald", "HERALD_SENDER_IDENTITY": "*.herald.example"},
			wantErr: true,
		},
		{
			name:    "an ARN is not a sender identity",
			env:     map[string]string{"HERALD_TABLE": "herald", "HERALD_SENDER_IDENTITY": "arn:aws:ses:us-east-1:123456789012:identity/herald.example"},
			wantErr: true,
		},
		{
			name:    "push applications by bare name fail: the value is an ARN pattern",
			env:     map[string]string{"HERALD_TABLE": "herald", "HERALD_PUSH_APPLICATIONS": "herald-*"},
			wantErr: true,
		},
		{
			name:    "push applications must be platform applications, not topics",
			env:     map[string]string{"HERALD_TABLE": "herald", "HERALD_PUSH_APPLICATIONS": "arn:aws:sns:us-east-1:123456789012:*"},
			wantErr: true,
		},
		{
			name:    "an unknown level fails",
			env:     map[string]string{"HERALD_TABLE": "herald", "HERALD_LOG_LEVEL": "verbose"},
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := config.Load(env(tt.env))
			if (err != nil) != tt.wantErr {
				t.Fatalf("Load() error = %v, wantErr %t", err, tt.wantErr)
			}
			// TestLoadReputation checks the guard's thresholds and
			// TestLoadRateLimits the rate limits, TestLoadRetention the retention.
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(config.Config{}, "Reputation", "RateLimits", "Retention")); diff != "" {
				t.Errorf("Load() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRequireQueue(t *testing.T) {
	if err := (config.Config{Table: "herald"}).RequireQueue(); err == nil {
		t.Error("RequireQueue() without a queue URL = nil, want an error")
	}
	if err := (config.Config{Table: "herald", DispatchQueueURL: "q"}).RequireQueue(); err != nil {
		t.Errorf("RequireQueue() with a queue URL = %v, want nil", err)
	}
}
