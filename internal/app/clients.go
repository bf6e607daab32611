package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/feedback"
	"github.com/heraldhq/herald/internal/schedule"
	"github.com/heraldhq/herald/internal/webhook"
)

// Clients are the AWS services a function calls besides its table, each
// given by the function's wiring (internal/wiring/<function>) from its
// adapter package (ses.NewProvider, …). The app imports no SDK client
// but DynamoDB's: a function links the clients its wiring names and no
// other, and pays no other's start-up. A handler whose function lacks a
// client it needs is refused when it is built (Main stops the function at
// init), never at its first call.
type Clients struct {
	SES       SES
	SNS       SNS
	SQS       SQS
	Scheduler Scheduler
	Secrets   Secrets
}

// SES sends email and tells which From addresses the account verified
// (ses.Provider).
type SES interface {
	Mailer(timeout time.Duration) delivery.Mailer
	Senders() campaign.Senders
}

// SNS sends SMS and push and reads platform endpoints (sns.Provider).
type SNS interface {
	SMS(timeout time.Duration) delivery.SMSSender
	Push(timeout time.Duration) delivery.Pusher
	Endpoints() feedback.EndpointReader
}

// SQS is every queue by its URL (sqs.Provider).
type SQS interface {
	Executions(url string) execution.Queue
	Requeue(url string) delivery.Requeue
	Webhooks(url string) webhook.Queue
	Visibility(url string) interface {
		ChangeVisibility(ctx context.Context, receiptHandle string, after time.Duration) error
	}
}

// Scheduler creates and deletes EventBridge schedules
// (scheduler.Provider).
type Scheduler interface {
	Scheduler(group, targetARN, roleARN, deadLetterARN string) schedule.Scheduler
}

// Secrets reads the token signing secret (secrets.Provider).
type Secrets interface {
	Keyring(secretARN string) auth.Keyring
}

// Use gives the app the clients c holds (those nil in c are left as they
// were). Call it before building handlers.
func (a *App) Use(c Clients) {
	if c.SES != nil {
		a.clients.SES = c.SES
	}
	if c.SNS != nil {
		a.clients.SNS = c.SNS
	}
	if c.SQS != nil {
		a.clients.SQS = c.SQS
	}
	if c.Scheduler != nil {
		a.clients.Scheduler = c.Scheduler
	}
	if c.Secrets != nil {
		a.clients.Secrets = c.Secrets
	}
}

// AWS is the SDK configuration the wiring builds clients from: the
// function's, with the tracing middleware on every call.
func (a *App) AWS() aws.Config { return a.aws }

// Need is nil when the function has every client named, else the error
// that stops it at init.
func (a *App) Need(handler string, names ...string) error {
	for _, n := range names {
		var ok bool
		switch n {
		case "SES":
			ok = a.clients.SES != nil
		case "SNS":
			ok = a.clients.SNS != nil
		case "SQS":
			ok = a.clients.SQS != nil
		case "Scheduler":
			ok = a.clients.Scheduler != nil
		case "Secrets":
			ok = a.clients.Secrets != nil
		}
		if !ok {
			return fmt.Errorf("%s needs the %s client, which the function's wiring does not give (app.Clients)", handler, n)
		}
	}
	return nil
}

// Config is the function's configuration.
func (a *App) Config() config.Config { return a.cfg }

// Log is the function's logger.
func (a *App) Log() *slog.Logger { return a.log }

// Clock is the services' clock (SetClock; nil: the wall clock).
func (a *App) Clock() func() time.Time { return a.now }
