// Package manage wires the Manage function: the AWS clients it calls
// besides its table — the management API: SES and SNS (proofs, sender
// review), SQS (redrives), EventBridge Scheduler (campaign schedules) and
// Secrets Manager (access tokens). The function's main and the local cloud
// both call Use, so the function links those clients and no other
// (internal/app.Clients); and the context schema compiler (contextschema:
// schemas are validated, reviewed and sampled).
package manage

import (
	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/contextschema"
	"github.com/heraldhq/herald/internal/scheduler"
	"github.com/heraldhq/herald/internal/secrets"
	"github.com/heraldhq/herald/internal/ses"
	"github.com/heraldhq/herald/internal/sns"
	"github.com/heraldhq/herald/internal/sqs"
)

// Use gives a the Manage function's clients and its schema compiler.
func Use(a *app.App) {
	cfg := a.AWS()
	a.Use(app.Clients{SES: ses.NewProvider(cfg), SNS: sns.NewProvider(cfg), SQS: sqs.NewProvider(cfg), Scheduler: scheduler.NewProvider(cfg), Secrets: secrets.NewProvider(cfg)})
	a.SetSchemas(contextschema.Compiler{})
}
