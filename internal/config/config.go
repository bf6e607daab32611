// Package config reads a function's settings from its environment, once,
// at start-up, so a misconfigured function fails at init rather than on
// the first request.
package config

import (
	"fmt"
	"log/slog"
	"strings"
)

// Config is every setting Herald's functions read. Not every function
// needs every field; constructors check what they need.
type Config struct {
	// Table is the DynamoDB table holding all of Herald's data (HERALD_TABLE).
	Table string
	// DispatchQueueURL is the SQS queue recipients are sent to
	// (HERALD_DISPATCH_QUEUE_URL); Trigger needs it.
	DispatchQueueURL string
	// ConfigurationSet is the SES configuration set used when an email
	// channel configuration names none (HERALD_SES_CONFIGURATION_SET).
	ConfigurationSet string
	// UnsubscribeSecret keys the HMAC of one-click unsubscribe tokens
	// (HERALD_UNSUBSCRIBE_SECRET, at least 32 bytes); Manage verifies them
	// and Dispatch signs them.
	UnsubscribeSecret string
	// PublicURL is the HTTP API's public base URL (HERALD_PUBLIC_URL),
	// which unsubscribe links point at.
	PublicURL string
	// LogLevel is debug, info, warn or error (HERALD_LOG_LEVEL, default info).
	LogLevel slog.Level
	// Scheduler holds where schedules go (HERALD_SCHEDULE_GROUP) and
	// what they invoke (HERALD_SCHEDULER_TARGET_ARN, _ROLE_ARN, _DLQ_ARN);
	// functions that create schedules need it.
	Scheduler SchedulerConfig
	// EventOrg and EventSandbox are the tenant that EventBridge events
	// and schedules invoking Trigger directly act for
	// (HERALD_EVENT_ORG, HERALD_EVENT_SANDBOX); empty refuses them.
	EventOrg, EventSandbox string
}

// SchedulerConfig is where Herald's schedules go.
type SchedulerConfig struct {
	Group, TargetARN, RoleARN, DeadLetterARN string
}

// Enabled reports whether schedules can be created.
func (s SchedulerConfig) Enabled() bool {
	return s.Group != "" && s.TargetARN != "" && s.RoleARN != ""
}

// Load reads the configuration through getenv (os.Getenv in a function,
// a map in tests) and validates it.
func Load(getenv func(string) string) (Config, error) {
	c := Config{
		Table:             strings.TrimSpace(getenv("HERALD_TABLE")),
		DispatchQueueURL:  strings.TrimSpace(getenv("HERALD_DISPATCH_QUEUE_URL")),
		ConfigurationSet:  strings.TrimSpace(getenv("HERALD_SES_CONFIGURATION_SET")),
		UnsubscribeSecret: getenv("HERALD_UNSUBSCRIBE_SECRET"),
		PublicURL:         strings.TrimRight(strings.TrimSpace(getenv("HERALD_PUBLIC_URL")), "/"),
		Scheduler: SchedulerConfig{
			Group:         strings.TrimSpace(getenv("HERALD_SCHEDULE_GROUP")),
			TargetARN:     strings.TrimSpace(getenv("HERALD_SCHEDULER_TARGET_ARN")),
			RoleARN:       strings.TrimSpace(getenv("HERALD_SCHEDULER_ROLE_ARN")),
			DeadLetterARN: strings.TrimSpace(getenv("HERALD_SCHEDULER_DLQ_ARN")),
		},
		EventOrg:     strings.TrimSpace(getenv("HERALD_EVENT_ORG")),
		EventSandbox: strings.TrimSpace(getenv("HERALD_EVENT_SANDBOX")),
	}
	if s := c.UnsubscribeSecret; s != "" && len(s) < 32 {
		return Config{}, fmt.Errorf("config: HERALD_UNSUBSCRIBE_SECRET must be at least 32 bytes")
	}
	if c.Table == "" {
		return Config{}, fmt.Errorf("config: HERALD_TABLE is required")
	}
	if lv := strings.TrimSpace(getenv("HERALD_LOG_LEVEL")); lv != "" {
		if err := c.LogLevel.UnmarshalText([]byte(lv)); err != nil {
			return Config{}, fmt.Errorf("config: HERALD_LOG_LEVEL %q: want debug, info, warn or error", lv)
		}
	}
	return c, nil
}

// RequireQueue reports an error when DispatchQueueURL is unset.
func (c Config) RequireQueue() error {
	if c.DispatchQueueURL == "" {
		return fmt.Errorf("config: HERALD_DISPATCH_QUEUE_URL is required")
	}
	return nil
}
