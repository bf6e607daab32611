// Package app wires Herald's functions: it builds the SDK clients once and
// constructs each Lambda handler from the domain services and adapters.
// The functions' main packages and the local cloud both build handlers
// here, so what runs locally is what runs in Lambda.
package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/heraldhq/herald/internal/audience"
	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/dynamo"
	"github.com/heraldhq/herald/internal/httpapi"
	"github.com/heraldhq/herald/internal/preview"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/ses"
	"github.com/heraldhq/herald/internal/sns"
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
}

// New builds the shared clients for cfg.
func New(cfg config.Config, awsCfg aws.Config, log *slog.Logger) *App {
	return &App{cfg: cfg, aws: awsCfg, log: log, store: dynamo.New(dynamodb.NewFromConfig(awsCfg), cfg.Table)}
}

// Store returns the DynamoDB store.
func (a *App) Store() *dynamo.Store { return a.store }

// Keys returns the API key store, for minting keys.
func (a *App) Keys() auth.KeyStore { return a.store }

// Campaigns returns the campaign service; review checks From addresses
// against the account's SES identities, and hooks keep the campaign's
// schedules in step with its life.
func (a *App) Campaigns() *campaign.Service {
	return &campaign.Service{Store: a.store, Senders: ses.NewIdentities(sesv2.NewFromConfig(a.aws)), Hooks: a.campaignHooks(), Now: a.now}
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
		Preview:   &preview.Service{Campaigns: a.store, Profiles: a.store, Sender: a.Dispatcher()},
		Audiences: &audience.Service{Store: a.store, Now: a.now}, Recurrences: a.Recurrences()}, a.log)
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
// and SMS and push with SNS.
func (a *App) Dispatcher() *delivery.Dispatcher {
	snsClient := sns.New(awssns.NewFromConfig(a.aws))
	return &delivery.Dispatcher{
		Campaigns: a.store, Profiles: a.store, Ledger: a.store,
		Mailer:                  ses.New(sesv2.NewFromConfig(a.aws)),
		SMS:                     snsClient,
		Pusher:                  snsClient,
		Suppressions:            a.store,
		Devices:                 a.store,
		Unsubscribe:             a.unsubscribe(),
		PublicURL:               a.cfg.PublicURL,
		DefaultConfigurationSet: a.cfg.ConfigurationSet,
		Log:                     a.log,
		Now:                     a.now,
	}
}

// DispatchHandler returns the SQS consumer.
func (a *App) DispatchHandler() func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return DispatchSQS(a.Dispatcher(), a.log)
}

// DispatchSQS adapts a dispatcher to SQS batches: each message is one job;
// a message whose job must be retried, or cannot be read, is reported in
// batchItemFailures (after maxReceiveCount it lands in the DLQ), the others
// are deleted by Lambda.
func DispatchSQS(d *delivery.Dispatcher, log *slog.Logger) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		var resp events.SQSEventResponse
		ctx = delivery.WithInvocation(ctx) // SNS opt-out answers, once per invocation
		for _, m := range ev.Records {
			job, err := delivery.DecodeJob([]byte(m.Body))
			if err == nil {
				err = d.Dispatch(ctx, job)
			}
			if err != nil {
				log.WarnContext(ctx, "message will be retried", "messageId", m.MessageId,
					"receiveCount", m.Attributes["ApproximateReceiveCount"], "error", safeError(err))
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
			}
		}
		return resp, nil
	}
}

// safeError keeps decoder errors from echoing message content into logs.
func safeError(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	if errors.As(err, &se) || errors.As(err, &te) {
		return fmt.Sprintf("undecodable job (%T)", err)
	}
	return err.Error()
}
