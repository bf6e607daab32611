// Package trigger wires the Trigger function: the AWS clients it calls
// besides its table — the execution API (HTTP, EventBridge and Scheduler
// events): the dispatch queue, EventBridge Scheduler (scheduled audience
// executions) and Secrets Manager (access tokens). The function's main and
// the local cloud both call Use, so the function links those clients and
// no other (internal/app.Clients); and the context schema compiler
// (contextschema: contexts are checked against campaigns' schemas).
package trigger

import (
	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/contextschema"
	"github.com/heraldhq/herald/internal/scheduler"
	"github.com/heraldhq/herald/internal/secrets"
	"github.com/heraldhq/herald/internal/sqs"
)

// Use gives a the Trigger function's clients and its schema compiler.
func Use(a *app.App) {
	cfg := a.AWS()
	a.Use(app.Clients{SQS: sqs.NewProvider(cfg), Scheduler: scheduler.NewProvider(cfg), Secrets: secrets.NewProvider(cfg)})
	a.SetSchemas(contextschema.Compiler{})
}
