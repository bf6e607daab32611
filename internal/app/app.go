// Package app wires Herald's functions: it builds the SDK clients once and
// constructs each Lambda handler from the domain services and adapters
// (the HTTP API functions', Trigger and Manage, in package httpapp, so
// that the others do not link the routes). The functions' main packages
// and the local cloud both build handlers here, so what runs locally is
// what runs in Lambda.
package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/heraldhq/herald/internal/address"
	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/capping"
	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/dynamo"
	"github.com/heraldhq/herald/internal/erasure"
	"github.com/heraldhq/herald/internal/eventapi"
	"github.com/heraldhq/herald/internal/feedback"
	"github.com/heraldhq/herald/internal/metrics"
	"github.com/heraldhq/herald/internal/ratelimit"
	"github.com/heraldhq/herald/internal/reputation"
	"github.com/heraldhq/herald/internal/status"
	"github.com/heraldhq/herald/internal/suppression"
	"github.com/heraldhq/herald/internal/tally"
	"github.com/heraldhq/herald/internal/tracing"
	"github.com/heraldhq/herald/internal/unsubscribe"
)

// Logger returns the JSON logger every function uses, at cfg's level.
func Logger(cfg config.Config) *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
}

// App holds the shared clients and store of one process.
type App struct {
	cfg   config.Config
	aws   aws.Config
	log   *slog.Logger
	store *dynamo.Store
	// now is the clock of every service (nil: the wall clock); the local
	// cloud's tests set it (SetClock).
	now func() time.Time
	// checkpoint is the dispatchers' checkpoint hook (SetCheckpoint).
	checkpoint func(name string, key delivery.Key)
	// sent is told of every message a provider accepted
	// (SetSendObserver).
	sent SendObserver
	// phone is the dispatchers' phone number normalizer
	// (SetPhoneNormalizer; nil: address.E164Only).
	phone address.PhoneNormalizer
	// schemas compiles context schemas (SetSchemas; nil: a campaign with
	// one is refused).
	schemas campaign.Schemas
	// limiter is the process's rate limiter (RateLimiter).
	limiterOnce sync.Once
	limiter     *ratelimit.Limiter
	// caps is the frequency cap service (FrequencyCaps).
	capsOnce sync.Once
	caps     *capping.Service
	// auth and tokens are built once (Authenticator).
	authOnce sync.Once
	auth     auth.Authenticator
	tokens   *auth.Tokens
	// metrics records every service's metrics (SetMetrics; nil: none).
	metrics *metrics.Recorder
	// tracer records sampled invocations (SetTracer; nil: none).
	tracer *tracing.Tracer
	// clients are the AWS services besides the table (Use).
	clients Clients
}

// New builds the shared clients for cfg.
func New(cfg config.Config, awsCfg aws.Config, log *slog.Logger) *App {
	// Every client records its calls under a traced invocation.
	awsCfg.APIOptions = append(slices.Clone(awsCfg.APIOptions), tracing.AddSDKMiddleware)
	return &App{cfg: cfg, aws: awsCfg, log: log, store: dynamo.New(dynamodb.NewFromConfig(awsCfg), cfg.Table).WithRetention(cfg.Retention)}
}

// Store returns the DynamoDB store.
func (a *App) Store() *dynamo.Store { return a.store }

// Keys returns the API key store, for minting keys.
func (a *App) Keys() auth.KeyStore { return a.store }

// Campaigns returns the campaign service; configurations and review are
// held to what the deployment allows, review checks From addresses
// against the account's SES identities, and hooks keep the campaign's
// schedules in step with its life.
func (a *App) Campaigns() *campaign.Service {
	s := &campaign.Service{Store: a.store, Allowed: a.allowed(), Hooks: a.campaignHooks(), Schemas: a.schemas, Now: a.now}
	if a.clients.SES != nil {
		s.Senders = a.clients.SES.Senders()
	}
	return s
}

// allowed is the sender identity and the platform applications the
// deployment lets configurations use (HERALD_SENDER_IDENTITY,
// HERALD_PUSH_APPLICATIONS): every campaign service and dispatcher the
// app builds holds it, and a function without them allows nothing.
func (a *App) allowed() *campaign.Allowlist {
	return &campaign.Allowlist{SenderIdentity: a.cfg.SenderIdentity, PushApplications: a.cfg.PushApplications}
}

// Authenticator is how the HTTP functions authenticate callers (package
// httpapp gives it to their routes): key verdicts cached per container
// for auth.CacheTTL, and access tokens (nil without them) when the
// deployment has a signing secret. One per App, so the cache lives as
// long as the container.
func (a *App) Authenticator() (auth.Authenticator, *auth.Tokens) {
	a.authOnce.Do(func() {
		keys := &auth.CachedKeys{Keys: a.store, Now: a.now}
		if a.cfg.TokenSecretARN != "" && a.clients.Secrets != nil {
			a.tokens = &auth.Tokens{Keys: keys, Keyring: a.clients.Secrets.Keyring(a.cfg.TokenSecretARN)}
		}
		a.auth = auth.Authenticator{Keys: keys, Tokens: a.tokens, Now: a.now}
	})
	return a.auth, a.tokens
}

// RateLimiter returns the process's rate limiter, on the table, with the
// configuration's default limits (HERALD_RATE_*), or nil when all three
// are 0: no limits, and no tenant's overrides read either. One per App,
// so the handlers of one process share its buckets. It measures real
// time, never the simulated clock (SetClock): a limit is a rate.
func (a *App) RateLimiter() *ratelimit.Limiter {
	a.limiterOnce.Do(func() {
		if a.cfg.RateLimits != (ratelimit.Limits{}) {
			a.limiter = ratelimit.New(a.store, a.cfg.RateLimits, a.log)
		}
	})
	return a.limiter
}

// FrequencyCaps returns the frequency cap service: the tenants' rules
// and the profiles' counters, on the table; one per App, so a warm
// Dispatch keeps the rule sets it read (capping.RulesTTL). Its clock only
// dates rule sets: Reserve is given the dispatcher's time.
func (a *App) FrequencyCaps() *capping.Service {
	a.capsOnce.Do(func() { a.caps = &capping.Service{Store: a.store, Now: a.now} })
	return a.caps
}

// Erasure returns the erasure service. Its pseudonyms are keyed by a key
// derived from the unsubscribe secret; without one, erasures fail (the
// template always sets it).
func (a *App) Erasure() *erasure.Service {
	s := &erasure.Service{Profiles: a.store, Store: a.store}
	if a.cfg.UnsubscribeSecret != "" {
		s.Key = erasure.Pseudonymizer(a.cfg.UnsubscribeSecret)
	}
	return s
}

// Executions returns the execution status service; it redrives parked
// jobs when the function knows the dispatch queue.
func (a *App) Executions() *status.Service {
	s := &status.Service{Store: a.store, Campaigns: a.store, Reports: a.store, Parked: a.store}
	if a.cfg.DispatchQueueURL != "" && a.clients.SQS != nil {
		s.Redriver = &delivery.Redriver{Ledger: a.store, Parking: a.store, Queue: a.clients.SQS.Requeue(a.cfg.DispatchQueueURL)}
	}
	return s
}

// Suppressions returns the suppression list service.
func (a *App) Suppressions() *suppression.Service { return &suppression.Service{Store: a.store} }

// Unsubscribe returns the token signer, or nil without a secret (no
// one-click links, and the endpoint answers 404).
func (a *App) Unsubscribe() *unsubscribe.Signer {
	s, err := unsubscribe.New(a.cfg.UnsubscribeSecret)
	if err != nil {
		return nil
	}
	return s
}

// Dispatcher returns the delivery dispatcher, sending email with SES v2
// and SMS and push with SNS (when the function has them: DeadLetter's
// only closes jobs), with the configuration's timing and rates, through
// nothing the deployment does not allow.
func (a *App) Dispatcher() *delivery.Dispatcher {
	dc := a.cfg.Delivery
	var (
		mailer    delivery.Mailer
		smsSender delivery.SMSSender
		pusher    delivery.Pusher
	)
	if a.clients.SES != nil {
		mailer = a.clients.SES.Mailer(dc.SendTimeout)
		if a.sent != nil {
			mailer = observedMailer{Mailer: mailer, obs: a.sent}
		}
	}
	if a.clients.SNS != nil {
		smsSender, pusher = a.clients.SNS.SMS(dc.SendTimeout), a.clients.SNS.Push(dc.SendTimeout)
		if a.sent != nil {
			smsSender = observedSMS{SMSSender: smsSender, obs: a.sent}
			pusher = &observedPusher{Pusher: pusher, obs: a.sent}
		}
	}
	d := &delivery.Dispatcher{
		Campaigns: a.store, Profiles: a.store, Ledger: a.store, Parking: a.store,
		Mailer:                    mailer,
		SMS:                       smsSender,
		Pusher:                    pusher,
		Suppressions:              a.store,
		Guards:                    a.store,
		Caps:                      a.FrequencyCaps(),
		Devices:                   a.store,
		Endpoints:                 a.store,
		Unsubscribe:               a.Unsubscribe(),
		PublicURL:                 a.cfg.PublicURL,
		DefaultConfigurationSet:   a.cfg.ConfigurationSet,
		ClicksConfigurationSet:    a.cfg.ConfigurationSetClicks,
		UntrackedConfigurationSet: a.cfg.ConfigurationSetUntracked,
		Allowed:                   a.allowed(),
		NormalizePhone:            a.phone,
		Log:                       a.log,
		// No simulated clock (SetClock): retry deadlines and stale
		// attempts are measured in the queue's real time.
		Timing: delivery.Timing{RetryFirst: dc.RetryFirst, RetryMax: dc.RetryMax, RetryDeadline: dc.RetryDeadline,
			StaleAttempt: dc.StaleAttempt, SendTimeout: dc.SendTimeout},
		Rates:      map[campaign.Channel]float64{campaign.Email: dc.EmailRate, campaign.SMS: dc.SMSRate, campaign.Push: dc.PushRate},
		Instances:  dc.Instances,
		Checkpoint: a.checkpoint,
		Metrics:    a.Recorder(),
		// Quiet hours are read on the services' clock (simulated in the
		// local cloud's tests).
		Calendar: a.now,
	}
	if a.cfg.DispatchQueueURL != "" && a.clients.SQS != nil {
		// Recipients deferred by quiet hours go back on the queue, or
		// wait for a schedule when their window ends later than it can
		// delay them.
		d.Requeue = a.clients.SQS.Requeue(a.cfg.DispatchQueueURL)
		if dd := a.dispatchDeferrals(d.Requeue); dd != nil {
			d.Deferrals = dd
		}
		if dc.ReconcileAfter > 0 {
			// Ambiguous emails no SES event confirmed get a second look.
			d.ReconcileAfter, d.SendEvents = dc.ReconcileAfter, a.store
		}
	}
	if a.cfg.Webhook.QueueURL != "" && a.clients.SQS != nil {
		// Every outcome is told to the tenant's feedback webhook, if it
		// has one (the publisher caches that answer).
		if p, err := a.WebhookPublisher(); err == nil {
			d.Outcomes = &feedback.WebhookNotifier{Publisher: p, Versions: a.store, RequestIDs: a.store, Now: a.now}
		}
	}
	return d
}

// SetCheckpoint makes every dispatcher the app builds from now on call fn
// at its named checkpoints (the fault-injection tests stop the process
// there). Production never sets it.
func (a *App) SetCheckpoint(fn func(name string, key delivery.Key)) { a.checkpoint = fn }

// SetSchemas makes every campaign and execution service the app builds
// from now on compile and check context schemas with s. The wiring of the
// functions that read schemas (Trigger, Manage, Scheduler) gives it
// contextschema.Compiler; the app never imports contextschema itself, so
// the others do not link the JSON Schema library.
func (a *App) SetSchemas(s campaign.Schemas) { a.schemas = s }

// SetPhoneNormalizer makes every dispatcher the app builds from now on
// read SMS numbers with n. Dispatch's main gives it phonelib.Normalize
// (libphonenumber's answers, numbers as AJO accepts them); the app never
// imports phonelib itself, so the functions that do not send SMS to
// recipients (all but Dispatch) do not link its numbering plans.
// Without it a dispatcher sends to E.164 numbers only.
func (a *App) SetPhoneNormalizer(n address.PhoneNormalizer) { a.phone = n }

// SendObserver hears of every message a provider accepted, after the
// fact: the local cloud answers with the providers' events (SES's mailbox
// simulator, SMS delivery status, push delivery failures).
type SendObserver interface {
	EmailSent(e delivery.Email, messageID string)
	SMSSent(m delivery.SMS, messageID string)
	// PushSent names the device's token, as the endpoint was made for it.
	PushSent(endpointARN, token, messageID string)
}

// SetSendObserver makes every dispatcher the app builds from now on tell
// obs of each message sent. Production never sets it.
func (a *App) SetSendObserver(obs SendObserver) { a.sent = obs }

type observedMailer struct {
	delivery.Mailer
	obs SendObserver
}

func (m observedMailer) SendEmail(ctx context.Context, e delivery.Email) (string, error) {
	id, err := m.Mailer.SendEmail(ctx, e)
	if err == nil {
		m.obs.EmailSent(e, id)
	}
	return id, err
}

type observedSMS struct {
	delivery.SMSSender
	obs SendObserver
}

func (s observedSMS) SendSMS(ctx context.Context, m delivery.SMS) (string, error) {
	id, err := s.SMSSender.SendSMS(ctx, m)
	if err == nil {
		s.obs.SMSSent(m, id)
	}
	return id, err
}

// observedPusher remembers the token of each endpoint it made, so a push
// can be told with its token.
type observedPusher struct {
	delivery.Pusher
	obs    SendObserver
	tokens sync.Map // endpoint ARN → token
}

func (p *observedPusher) Endpoint(ctx context.Context, appARN, token string) (string, error) {
	arn, err := p.Pusher.Endpoint(ctx, appARN, token)
	if err == nil {
		p.tokens.Store(arn, token)
	}
	return arn, err
}

func (p *observedPusher) Push(ctx context.Context, endpointARN, message string) (string, error) {
	id, err := p.Pusher.Push(ctx, endpointARN, message)
	if err == nil {
		token, _ := p.tokens.Load(endpointARN)
		tok, _ := token.(string)
		p.obs.PushSent(endpointARN, tok, id)
	}
	return id, err
}

// FeedbackHandler returns the Feedback function's handler: SES events
// from EventBridge, SNS SMS delivery status from CloudWatch Logs, push
// delivery failures and endpoint events from SNS (whose endpoints it reads
// with GetEndpointAttributes).
// It queues every event for the tenant's feedback webhook when the
// function knows the webhook queue.
func (a *App) FeedbackHandler() (func(context.Context, json.RawMessage) (feedback.Result, error), error) {
	if err := a.Need("the Feedback function", "SNS"); err != nil {
		return nil, err
	}
	rules := feedback.DefaultRules
	rules.Reputation = a.ReputationThresholds()
	s := &feedback.Service{Store: a.store, Devices: a.store, Endpoints: a.store, Platform: a.clients.SNS.Endpoints(),
		Rules: rules, Now: a.now, Log: a.log, Metrics: a.Recorder()}
	if a.cfg.Webhook.QueueURL != "" {
		p, err := a.WebhookPublisher()
		if err != nil {
			return nil, err
		}
		s.Notifier = &feedback.WebhookNotifier{Publisher: p, Versions: a.store, RequestIDs: a.store}
	}
	return invoked(a, "Feedback", eventapi.Feedback(s, a.log)), nil
}

// ReputationThresholds are the reputation guard's thresholds, from the
// configuration.
func (a *App) ReputationThresholds() reputation.Thresholds {
	r := a.cfg.Reputation
	return reputation.Thresholds{Bounce: r.BounceRate, Complaint: r.ComplaintRate, MinSends: r.MinSends}
}

// DispatchHandler returns the SQS consumer of the dispatch queue; it needs
// the queue's URL to delay retried messages.
func (a *App) DispatchHandler() (func(context.Context, events.SQSEvent) (events.SQSEventResponse, error), error) {
	if err := a.cfg.RequireQueue(); err != nil {
		return nil, err
	}
	if err := a.Need("the Dispatch function", "SES", "SNS", "SQS"); err != nil {
		return nil, err
	}
	return invoked(a, "Dispatch", eventapi.DispatchSQS(a.Dispatcher(), a.clients.SQS.Visibility(a.cfg.DispatchQueueURL), a.log)), nil
}

// ReportsHandler returns the consumer of the table's stream: execution
// counter changes become campaign send counts.
func (a *App) ReportsHandler() func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	return invoked(a, "Reports", eventapi.ReportsStream(&tally.Service{Store: a.store, Log: a.log}, dynamo.TallyChange, a.log))
}

// DeadLetterHandler returns the SQS consumer of the dispatch dead-letter
// queue: it closes each job's open recipients and parks the job, telling
// the outcomes to the webhook queue when the function knows it.
func (a *App) DeadLetterHandler() (func(context.Context, events.SQSEvent) (events.SQSEventResponse, error), error) {
	if a.cfg.Webhook.QueueURL != "" {
		if err := a.Need("the DeadLetter function", "SQS"); err != nil {
			return nil, err
		}
	}
	return invoked(a, "DeadLetter", eventapi.DeadLetterSQS(a.Dispatcher(), a.log)), nil
}
