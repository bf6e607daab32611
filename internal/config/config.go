// Package config reads a function's settings from its environment, once,
// at start-up, so a misconfigured function fails at init rather than on
// the first request.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/ratelimit"
)

// Config is every setting Herald's functions read. Not every function
// needs every field; constructors check what they need.
type Config struct {
	// Table is the DynamoDB table holding all of Herald's data (HERALD_TABLE).
	Table string
	// DispatchQueueURL is the SQS queue recipients are sent to
	// (HERALD_DISPATCH_QUEUE_URL); Trigger needs it.
	DispatchQueueURL string
	// DeferralQueueURL is the queue a function that does not schedule
	// (Dispatch) puts the jobs quiet hours defer past SQS's 15 minutes
	// on, for the Scheduler function to park and schedule
	// (HERALD_DEFERRAL_QUEUE_URL).
	DeferralQueueURL string
	// ConfigurationSet is the SES configuration set used when an email
	// channel configuration names none and tracks opens
	// (HERALD_SES_CONFIGURATION_SET): it publishes every event type.
	// ConfigurationSetClicks (HERALD_SES_CONFIGURATION_SET_CLICKS) serves
	// clicks without opens and ConfigurationSetUntracked
	// (HERALD_SES_CONFIGURATION_SET_UNTRACKED) neither; a deployment that
	// names its own set gives it for all three.
	ConfigurationSet, ConfigurationSetClicks, ConfigurationSetUntracked string
	// UnsubscribeSecret keys the HMAC of one-click unsubscribe tokens
	// (HERALD_UNSUBSCRIBE_SECRET, at least 32 bytes); Manage verifies them
	// and Dispatch signs them.
	UnsubscribeSecret string
	// TokenSecretARN is the Secrets Manager secret whose versions sign
	// and verify access tokens (HERALD_TOKEN_SECRET_ARN); empty turns
	// access tokens off (key secrets only).
	TokenSecretARN string
	// PublicURL is the HTTP API's public base URL (HERALD_PUBLIC_URL),
	// which unsubscribe links point at.
	PublicURL string
	// LogLevel is debug, info, warn or error (HERALD_LOG_LEVEL, default info).
	LogLevel slog.Level
	// MetricsTenant adds the Tenant and Campaign dimensions to the
	// metrics that carry them (HERALD_METRICS_TENANT, "true" or "false",
	// default false): a custom metric per tenant and campaign, paid for
	// as such (docs/operations.md).
	MetricsTenant bool
	// Scheduler holds where schedules go (HERALD_SCHEDULE_GROUP) and
	// what they invoke (HERALD_SCHEDULER_TARGET_ARN, _ROLE_ARN, _DLQ_ARN);
	// functions that create schedules need it.
	Scheduler SchedulerConfig
	// EventOrg and EventSandbox are the tenant that EventBridge events
	// and schedules invoking Trigger directly act for
	// (HERALD_EVENT_ORG, HERALD_EVENT_SANDBOX); empty refuses them.
	EventOrg, EventSandbox string
	// Delivery is Dispatch's timing and send rates; a zero field takes
	// delivery's default (see delivery.DefaultTiming).
	Delivery Delivery
	// SenderIdentity is the SES identity (a domain or one address)
	// channel configurations may send as (HERALD_SENDER_IDENTITY, the
	// template's SenderIdentity); empty allows no email.
	SenderIdentity string
	// PushApplications is the pattern of the SNS platform application
	// ARNs push configurations may name, in IAM's syntax
	// (HERALD_PUSH_APPLICATIONS, from the template's PushApplicationNames:
	// arn:aws:sns:<region>:<account>:app/*/<names>); empty allows no push.
	PushApplications string
	// Webhook is the feedback webhook queue and retry schedule.
	Webhook Webhook
	// Reputation are the reputation guard's thresholds.
	Reputation Reputation
	// RateLimits are the requests per second each tenant may make per
	// route group, unless the tenant has overrides (HERALD_RATE_EXECUTION,
	// HERALD_RATE_HIGHTHROUGHPUT, HERALD_RATE_MANAGEMENT; 0 is no limit).
	RateLimits ratelimit.Limits
	// Retention is how long each kind of item that expires is kept
	// (HERALD_RETENTION_*_DAYS; DefaultRetention when unset).
	Retention Retention
}

// Delivery is how Dispatch paces and retries sends. Durations are read as
// Go durations ("10s", "5m").
type Delivery struct {
	// SendTimeout bounds one provider call (HERALD_SEND_TIMEOUT).
	SendTimeout time.Duration
	// StaleAttempt is the age past which an attempt in flight was
	// interrupted (HERALD_STALE_ATTEMPT).
	StaleAttempt time.Duration
	// RetryFirst, RetryMax and RetryDeadline are the retry schedule
	// (HERALD_RETRY_FIRST, HERALD_RETRY_MAX, HERALD_RETRY_DEADLINE).
	RetryFirst, RetryMax, RetryDeadline time.Duration
	// EmailRate, SMSRate and PushRate cap sends per second in one
	// Dispatch process (HERALD_EMAIL_RATE, HERALD_SMS_RATE,
	// HERALD_PUSH_RATE); 0 leaves a channel uncapped.
	EmailRate, SMSRate, PushRate float64
	// Instances is how many Dispatch processes may run at once
	// (HERALD_DISPATCH_INSTANCES): the SES account's rate is split among
	// them.
	Instances int
	// ReconcileAfter is how long after an ambiguous email with no SES
	// event it is sent once more (HERALD_RECONCILE_AFTER, at most 15m;
	// 0 or unset: never).
	ReconcileAfter time.Duration
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
		Table:                     strings.TrimSpace(getenv("HERALD_TABLE")),
		DispatchQueueURL:          strings.TrimSpace(getenv("HERALD_DISPATCH_QUEUE_URL")),
		DeferralQueueURL:          strings.TrimSpace(getenv("HERALD_DEFERRAL_QUEUE_URL")),
		ConfigurationSet:          strings.TrimSpace(getenv("HERALD_SES_CONFIGURATION_SET")),
		ConfigurationSetClicks:    strings.TrimSpace(getenv("HERALD_SES_CONFIGURATION_SET_CLICKS")),
		ConfigurationSetUntracked: strings.TrimSpace(getenv("HERALD_SES_CONFIGURATION_SET_UNTRACKED")),
		UnsubscribeSecret:         getenv("HERALD_UNSUBSCRIBE_SECRET"),
		TokenSecretARN:            strings.TrimSpace(getenv("HERALD_TOKEN_SECRET_ARN")),
		PublicURL:                 strings.TrimRight(strings.TrimSpace(getenv("HERALD_PUBLIC_URL")), "/"),
		Scheduler: SchedulerConfig{
			Group:         strings.TrimSpace(getenv("HERALD_SCHEDULE_GROUP")),
			TargetARN:     strings.TrimSpace(getenv("HERALD_SCHEDULER_TARGET_ARN")),
			RoleARN:       strings.TrimSpace(getenv("HERALD_SCHEDULER_ROLE_ARN")),
			DeadLetterARN: strings.TrimSpace(getenv("HERALD_SCHEDULER_DLQ_ARN")),
		},
		EventOrg:         strings.TrimSpace(getenv("HERALD_EVENT_ORG")),
		EventSandbox:     strings.TrimSpace(getenv("HERALD_EVENT_SANDBOX")),
		SenderIdentity:   strings.TrimSpace(getenv("HERALD_SENDER_IDENTITY")),
		PushApplications: strings.TrimSpace(getenv("HERALD_PUSH_APPLICATIONS")),
	}
	var err error
	if c.Delivery, err = loadDelivery(getenv); err != nil {
		return Config{}, err
	}
	if c.Webhook, err = loadWebhook(getenv); err != nil {
		return Config{}, err
	}
	if c.Reputation, err = loadReputation(getenv); err != nil {
		return Config{}, err
	}
	if c.RateLimits, err = loadRateLimits(getenv); err != nil {
		return Config{}, err
	}
	if c.Retention, err = loadRetention(getenv); err != nil {
		return Config{}, err
	}
	if s := c.UnsubscribeSecret; s != "" && len(s) < 32 {
		return Config{}, fmt.Errorf("config: HERALD_UNSUBSCRIBE_SECRET must be at least 32 bytes")
	}
	if c.Table == "" {
		return Config{}, fmt.Errorf("config: HERALD_TABLE is required")
	}
	if id := c.SenderIdentity; strings.ContainsAny(id, " \t*?/:") || strings.Count(id, "@") > 1 || strings.HasSuffix(id, "@") {
		return Config{}, fmt.Errorf("config: HERALD_SENDER_IDENTITY %q: want an SES identity, a domain (example.com) or one address", id)
	}
	if p := c.PushApplications; p != "" && !appPattern().MatchString(p) {
		return Config{}, fmt.Errorf("config: HERALD_PUSH_APPLICATIONS %q: want a pattern of SNS platform application ARNs (arn:aws:sns:<region>:<account>:app/*/<name pattern>)", p)
	}
	if v := strings.TrimSpace(getenv("HERALD_METRICS_TENANT")); v != "" {
		b, perr := strconv.ParseBool(v)
		if perr != nil {
			return Config{}, fmt.Errorf("config: HERALD_METRICS_TENANT %q: want true or false", v)
		}
		c.MetricsTenant = b
	}
	if lv := strings.TrimSpace(getenv("HERALD_LOG_LEVEL")); lv != "" {
		if err := c.LogLevel.UnmarshalText([]byte(lv)); err != nil {
			return Config{}, fmt.Errorf("config: HERALD_LOG_LEVEL %q: want debug, info, warn or error", lv)
		}
	}
	return c, nil
}

// appPattern is what HERALD_PUSH_APPLICATIONS must look like: an SNS
// ARN pattern naming platform applications, wildcards allowed after the
// service.
var appPattern = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9*?-]+:[0-9*?]+:app/[A-Za-z0-9_.*?/-]+$`)
})

func loadDelivery(getenv func(string) string) (Delivery, error) {
	var d Delivery
	var errs []error
	dur := func(name string, dst *time.Duration) {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return
		}
		x, err := time.ParseDuration(v)
		if err != nil || x <= 0 {
			errs = append(errs, fmt.Errorf("config: %s %q: want a positive duration such as 10s", name, v))
			return
		}
		*dst = x
	}
	rate := func(name string, dst *float64) {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || x < 0 || math.IsInf(x, 0) || math.IsNaN(x) {
			errs = append(errs, fmt.Errorf("config: %s %q: want sends per second (0 for no cap)", name, v))
			return
		}
		*dst = x
	}
	dur("HERALD_SEND_TIMEOUT", &d.SendTimeout)
	dur("HERALD_STALE_ATTEMPT", &d.StaleAttempt)
	dur("HERALD_RETRY_FIRST", &d.RetryFirst)
	dur("HERALD_RETRY_MAX", &d.RetryMax)
	dur("HERALD_RETRY_DEADLINE", &d.RetryDeadline)
	if v := strings.TrimSpace(getenv("HERALD_RECONCILE_AFTER")); v != "" {
		x, err := time.ParseDuration(v)
		if err != nil || x < 0 || x > 15*time.Minute {
			errs = append(errs, fmt.Errorf("config: HERALD_RECONCILE_AFTER %q: want a duration from 0 to 15m", v))
		}
		d.ReconcileAfter = x
	}
	rate("HERALD_EMAIL_RATE", &d.EmailRate)
	rate("HERALD_SMS_RATE", &d.SMSRate)
	rate("HERALD_PUSH_RATE", &d.PushRate)
	if v := strings.TrimSpace(getenv("HERALD_DISPATCH_INSTANCES")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("config: HERALD_DISPATCH_INSTANCES %q: want a whole number of at least 1", v))
		}
		d.Instances = n
	}
	return d, errors.Join(errs...)
}

// RequireQueue reports an error when DispatchQueueURL is unset.
func (c Config) RequireQueue() error {
	if c.DispatchQueueURL == "" {
		return fmt.Errorf("config: HERALD_DISPATCH_QUEUE_URL is required")
	}
	return nil
}
