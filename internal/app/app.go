// Package app wires Herald's functions: it builds the SDK clients once and
// constructs each Lambda handler from the domain services and adapters.
// The functions' main packages and the local cloud both build handlers
// here, so what runs locally is what runs in Lambda.
package app

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/heraldhq/herald/internal/audience"
	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/dynamo"
	"github.com/heraldhq/herald/internal/httpapi"
	"github.com/heraldhq/herald/internal/logsafe"
	"github.com/heraldhq/herald/internal/preview"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/ses"
	"github.com/heraldhq/herald/internal/sns"
	"github.com/heraldhq/herald/internal/sqs"
	"github.com/heraldhq/herald/internal/status"
	"github.com/heraldhq/herald/internal/suppression"
	"github.com/heraldhq/herald/internal/unsubscribe"
)

// LoadAWS loads the SDK configuration from the environment. It honours
// AWS_ENDPOINT_URL, which is how the local cloud points it at moto.
func LoadAWS(ctx context.Context) (aws.Config, error) {
	return awsconfig.LoadDefaultConfig(ctx)
}

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
}

// New builds the shared clients for cfg.
func New(cfg config.Config, awsCfg aws.Config, log *slog.Logger) *App {
	return &App{cfg: cfg, aws: awsCfg, log: log, store: dynamo.New(dynamodb.NewFromConfig(awsCfg), cfg.Table)}
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
	return &campaign.Service{Store: a.store, Senders: ses.NewIdentities(sesv2.NewFromConfig(a.aws)), Allowed: a.allowed(),
		Hooks: a.campaignHooks(), Now: a.now}
}

// allowed is the sender identity and the platform applications the
// deployment lets configurations use (HERALD_SENDER_IDENTITY,
// HERALD_PUSH_APPLICATIONS): every campaign service and dispatcher the
// app builds holds it, and a function without them allows nothing.
func (a *App) allowed() *campaign.Allowlist {
	return &campaign.Allowlist{SenderIdentity: a.cfg.SenderIdentity, PushApplications: a.cfg.PushApplications}
}

// AuthorizerHandler returns the HTTP API Lambda authorizer.
func (a *App) AuthorizerHandler() func(context.Context, events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
	return httpapi.Authorizer(auth.Authenticator{Keys: a.store}, a.log)
}

// TriggerHandler returns the execution API handler; it needs the dispatch
// queue.
func (a *App) TriggerHandler() (httpapi.HandlerFunc, error) {
	if err := a.cfg.RequireQueue(); err != nil {
		return nil, err
	}
	return httpapi.TriggerWithAudiences(a.unitary(), a.Audiences(), a.log), nil
}

// ManageHandler returns the management API handler.
func (a *App) ManageHandler() httpapi.HandlerFunc {
	return httpapi.Manage(httpapi.ManageDeps{Campaigns: a.Campaigns(), Profiles: &profile.Service{Store: a.store},
		Suppressions: a.Suppressions(), Unsubscribe: a.unsubscribe(),
		Preview:   &preview.Service{Campaigns: a.store, Profiles: a.store, Sender: a.Dispatcher(), Executions: a.store},
		Audiences: &audience.Service{Store: a.store, Now: a.now}, Recurrences: a.Recurrences(),
		Executions: a.Executions()}, a.log)
}

// Executions returns the execution status service; it redrives parked
// jobs when the function knows the dispatch queue.
func (a *App) Executions() *status.Service {
	s := &status.Service{Store: a.store, Campaigns: a.store}
	if a.cfg.DispatchQueueURL != "" {
		s.Redriver = &delivery.Redriver{Ledger: a.store, Parking: a.store, Queue: sqs.New(awssqs.NewFromConfig(a.aws), a.cfg.DispatchQueueURL)}
	}
	return s
}

// Suppressions returns the suppression list service.
func (a *App) Suppressions() *suppression.Service { return &suppression.Service{Store: a.store} }

// unsubscribe returns the token signer, or nil without a secret (no
// one-click links, and the endpoint answers 404).
func (a *App) unsubscribe() *unsubscribe.Signer {
	s, err := unsubscribe.New(a.cfg.UnsubscribeSecret)
	if err != nil {
		return nil
	}
	return s
}

// Dispatcher returns the delivery dispatcher, sending email with SES v2
// and SMS and push with SNS, with the configuration's timing and rates,
// through nothing the deployment does not allow.
func (a *App) Dispatcher() *delivery.Dispatcher {
	dc := a.cfg.Delivery
	snsClient := sns.New(awssns.NewFromConfig(a.aws))
	snsClient.Timeout = dc.SendTimeout
	mailer := ses.New(sesv2.NewFromConfig(a.aws))
	mailer.Timeout = dc.SendTimeout
	d := &delivery.Dispatcher{
		Campaigns: a.store, Profiles: a.store, Ledger: a.store, Parking: a.store,
		Mailer:                  mailer,
		SMS:                     snsClient,
		Pusher:                  snsClient,
		Suppressions:            a.store,
		Devices:                 a.store,
		Unsubscribe:             a.unsubscribe(),
		PublicURL:               a.cfg.PublicURL,
		DefaultConfigurationSet: a.cfg.ConfigurationSet,
		Allowed:                 a.allowed(),
		Log:                     a.log,
		// No simulated clock (SetClock): retry deadlines and stale
		// attempts are measured in the queue's real time.
		Timing: delivery.Timing{RetryFirst: dc.RetryFirst, RetryMax: dc.RetryMax, RetryDeadline: dc.RetryDeadline,
			StaleAttempt: dc.StaleAttempt, SendTimeout: dc.SendTimeout},
		Rates:      map[campaign.Channel]float64{campaign.Email: dc.EmailRate, campaign.SMS: dc.SMSRate, campaign.Push: dc.PushRate},
		Instances:  dc.Instances,
		Checkpoint: a.checkpoint,
	}
	return d
}

// SetCheckpoint makes every dispatcher the app builds from now on call fn
// at its named checkpoints (the fault-injection tests stop the process
// there). Production never sets it.
func (a *App) SetCheckpoint(fn func(name string, key delivery.Key)) { a.checkpoint = fn }

// DispatchHandler returns the SQS consumer of the dispatch queue; it needs
// the queue's URL to delay retried messages.
func (a *App) DispatchHandler() (func(context.Context, events.SQSEvent) (events.SQSEventResponse, error), error) {
	if err := a.cfg.RequireQueue(); err != nil {
		return nil, err
	}
	return DispatchSQS(a.Dispatcher(), sqs.NewVisibility(awssqs.NewFromConfig(a.aws), a.cfg.DispatchQueueURL), a.log), nil
}

// DeadLetterHandler returns the SQS consumer of the dispatch dead-letter
// queue: it closes each job's open recipients and parks the job.
func (a *App) DeadLetterHandler() func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return DeadLetterSQS(a.Dispatcher(), a.log)
}

// Visibility delays the return of a received message.
type Visibility interface {
	ChangeVisibility(ctx context.Context, receiptHandle string, after time.Duration) error
}

// DispatchSQS adapts a dispatcher to SQS batches: each message is one job,
// and a batch's jobs are delivered concurrently. A job that must come back
// later is reported in batchItemFailures after its message's visibility
// is set to the delay Dispatch asked for (its backoff), so retries wait
// without holding the function; the others are deleted by Lambda. A
// message that cannot be decoded keeps failing until the queue moves it to
// the dead-letter queue.
func DispatchSQS(d *delivery.Dispatcher, vis Visibility, log *slog.Logger) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		ctx = delivery.WithInvocation(ctx) // SNS opt-out answers, once per invocation
		failed := make([]bool, len(ev.Records))
		var wg sync.WaitGroup
		for i, m := range ev.Records {
			wg.Go(func() { failed[i] = !dispatchOne(ctx, d, vis, log, m) })
		}
		wg.Wait()
		var resp events.SQSEventResponse
		for i, m := range ev.Records {
			if failed[i] {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
			}
		}
		return resp, nil
	}
}

// dispatchOne delivers one message's job and reports whether the message
// is done with; if not, it has set when the message comes back.
func dispatchOne(ctx context.Context, d *delivery.Dispatcher, vis Visibility, log *slog.Logger, m events.SQSMessage) bool {
	rc := receipt(m)
	job, err := delivery.DecodeJob([]byte(m.Body))
	if err == nil {
		job.Receipt = rc
		err = d.Dispatch(ctx, job)
	}
	if err == nil {
		return true
	}
	after := delivery.Jitter(d.Timing.Backoff(max(rc.Count, 1)))
	var re *delivery.RetryError
	if errors.As(err, &re) && re.After > 0 {
		after = re.After
	}
	if vis != nil {
		// Even when the invocation's time is up: otherwise the message
		// waits for the queue's whole visibility timeout.
		vctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		if verr := vis.ChangeVisibility(vctx, m.ReceiptHandle, after); verr != nil {
			log.WarnContext(ctx, "retry delay not set; the queue's visibility timeout applies", "messageId", m.MessageId, logsafe.Attr(verr))
		}
		cancel()
	}
	log.WarnContext(ctx, "message will be retried", "messageId", m.MessageId, "receiveCount", rc.Count,
		"afterSeconds", int(after.Seconds()), logsafe.Attr(err))
	return false
}

// DeadLetterSQS adapts Dispatcher.Abandon to the dead-letter queue: each
// job's open recipients are closed and the job parked; a job that cannot
// be closed now (the store is down) stays on the queue and is retried.
func DeadLetterSQS(d *delivery.Dispatcher, log *slog.Logger) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		var resp events.SQSEventResponse
		for _, m := range ev.Records {
			job, err := delivery.DecodeJob([]byte(m.Body))
			if err != nil {
				log.ErrorContext(ctx, "undecodable message left in the dead-letter queue", "messageId", m.MessageId, logsafe.Attr(err))
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
				continue
			}
			closed, err := d.Abandon(ctx, job, "dead-letter queue")
			if err != nil {
				log.WarnContext(ctx, "dead-lettered job not closed yet; it will be retried", "messageId", m.MessageId,
					"executionId", job.ExecutionID, "closed", closed, logsafe.Attr(err))
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
				continue
			}
			log.InfoContext(ctx, "dead-lettered job closed and parked", "messageId", m.MessageId, "executionId", job.ExecutionID, "closed", closed)
		}
		return resp, nil
	}
}

// receipt reads how SQS delivered a message.
func receipt(m events.SQSMessage) delivery.Receipt {
	var r delivery.Receipt
	r.Count, _ = strconv.Atoi(m.Attributes["ApproximateReceiveCount"])
	if ms, err := strconv.ParseInt(m.Attributes["ApproximateFirstReceiveTimestamp"], 10, 64); err == nil && ms > 0 {
		r.First = time.UnixMilli(ms).UTC()
	}
	return r
}
