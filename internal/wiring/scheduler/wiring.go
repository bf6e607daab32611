// Package scheduler wires the Scheduler function: the AWS clients it calls
// besides its table — the target of every schedule: SQS and EventBridge
// Scheduler. The function's main and the local cloud both call Use, so the
// function links those clients and no other (internal/app.Clients); and
// the context schema compiler (contextschema: recurring executions check
// their contexts).
package scheduler

import (
	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/contextschema"
	"github.com/heraldhq/herald/internal/scheduler"
	"github.com/heraldhq/herald/internal/sqs"
)

// Use gives a the Scheduler function's clients and its schema compiler.
func Use(a *app.App) {
	cfg := a.AWS()
	a.Use(app.Clients{SQS: sqs.NewProvider(cfg), Scheduler: scheduler.NewProvider(cfg)})
	a.SetSchemas(contextschema.Compiler{})
}
