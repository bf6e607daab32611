// Package httpapp builds the handlers of the HTTP API functions, Trigger
// and Manage, from an app.App. It is apart from package app so that the
// functions that serve no HTTP route (Dispatch, DeadLetter, Feedback,
// Reports, Scheduler, Webhook) do not link the routes (package httpapi),
// the OpenAPI document, the console's files or the preview service.
package httpapp

import (
	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/audience"
	"github.com/heraldhq/herald/internal/eventapi"
	"github.com/heraldhq/herald/internal/httpapi"
	"github.com/heraldhq/herald/internal/preview"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/reputation"
	"github.com/heraldhq/herald/internal/tenant"
)

// Access is how the HTTP functions authenticate callers: the app's
// authenticator (key verdicts cached per container, access tokens when
// the deployment has a signing secret).
func Access(a *app.App) httpapi.Access {
	auth, tokens := a.Authenticator()
	return httpapi.Access{Auth: auth, Tokens: tokens, Now: a.Clock()}
}

// TriggerHandler returns the execution API handler; it needs the dispatch
// queue.
func TriggerHandler(a *app.App) (httpapi.HandlerFunc, error) {
	h, err := triggerHandler(a)
	if err != nil {
		return nil, err
	}
	return httpapi.HandlerFunc(app.Invoked(a, "Trigger", h)), nil
}

func triggerHandler(a *app.App) (httpapi.HandlerFunc, error) {
	if err := a.Config().RequireQueue(); err != nil {
		return nil, err
	}
	if err := needHTTP(a, "the execution API", "SQS"); err != nil {
		return nil, err
	}
	opts := limit(a)
	if m := a.Recorder(); m != nil {
		opts = append(opts, httpapi.WithMetrics(m))
	}
	return httpapi.TriggerWithAudiences(a.Unitary(), a.AudienceExecutions(), Access(a), a.Log(), opts...), nil
}

// TriggerEventHandler returns the Trigger function's Lambda entry point:
// HTTP API requests, EventBridge events and Scheduler inputs.
func TriggerEventHandler(a *app.App) (eventapi.TriggerHandler, error) {
	h, err := triggerHandler(a)
	if err != nil {
		return nil, err
	}
	cfg := a.Config()
	ev := tenant.Tenant{Org: cfg.EventOrg, Sandbox: cfg.EventSandbox}
	api := eventapi.HTTPAPI{Serve: h, ErrorReply: httpapi.ErrorReply}
	return eventapi.TriggerHandler(app.Invoked(a, "Trigger", eventapi.Trigger(api, a.Unitary(), a.AudienceExecutions(), ev, a.Log()))), nil
}

// ManageHandler returns the management API handler. It sends proofs
// (SES, SNS), redrives (SQS) and keeps campaign schedules (Scheduler,
// when configured).
func ManageHandler(a *app.App) (httpapi.HandlerFunc, error) {
	if err := needHTTP(a, "the management API", "SES", "SNS", "SQS"); err != nil {
		return nil, err
	}
	return httpapi.HandlerFunc(app.Invoked(a, "Manage", manageHandler(a))), nil
}

func manageHandler(a *app.App) httpapi.HandlerFunc {
	store, now := a.Store(), a.Clock()
	return httpapi.Manage(httpapi.ManageDeps{Access: Access(a), Campaigns: a.Campaigns(), Profiles: &profile.Service{Store: store},
		Suppressions: a.Suppressions(), Unsubscribe: a.Unsubscribe(),
		Preview: &preview.Service{Campaigns: store, Profiles: store, Sender: a.Dispatcher(), Executions: store,
			Caps: a.FrequencyCaps()},
		Audiences: &audience.Service{Store: store, Now: now}, Recurrences: a.Recurrences(),
		Executions: a.Executions(), Webhooks: a.Webhooks(),
		Reputation: &reputation.Service{Store: store, Thresholds: a.ReputationThresholds(), Now: now},
		Erasure:    a.Erasure(), FrequencyCaps: a.FrequencyCaps()}, a.Log(), limit(a)...)
}

// needHTTP is app.Need for an HTTP API handler: also the secret keyring
// when the deployment issues access tokens, and the scheduler when it
// schedules.
func needHTTP(a *app.App, handler string, names ...string) error {
	cfg := a.Config()
	if cfg.TokenSecretARN != "" {
		names = append(names, "Secrets")
	}
	if cfg.Scheduler.Enabled() {
		names = append(names, "Scheduler")
	}
	return a.Need(handler, names...)
}

// limit is the HTTP handlers' rate limit option, if any.
func limit(a *app.App) []httpapi.Option {
	if l := a.RateLimiter(); l != nil {
		return []httpapi.Option{httpapi.WithLimiter(l)}
	}
	return nil
}
