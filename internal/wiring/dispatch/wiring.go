// Package dispatch wires the Dispatch function: the AWS clients it calls
// besides its table — the sends: SES, SNS and SQS (reconciliation, quiet
// hours' deferrals, the webhook queue, and the deferral queue: recipients
// deferred past SQS's 15 minutes are parked and scheduled by the
// Scheduler function, so Dispatch links no Scheduler client) — and
// phonelib for SMS numbers. The function's main and the local cloud both
// call Use, so the function links those clients and no other
// (internal/app.Clients).
package dispatch

import (
	"github.com/heraldhq/herald/internal/address/phonelib"
	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/ses"
	"github.com/heraldhq/herald/internal/sns"
	"github.com/heraldhq/herald/internal/sqs"
)

// Use gives a the Dispatch function's clients.
func Use(a *app.App) {
	cfg := a.AWS()
	a.Use(app.Clients{SES: ses.NewProvider(cfg), SNS: sns.NewProvider(cfg), SQS: sqs.NewProvider(cfg)})
	a.SetPhoneNormalizer(phonelib.Normalize)
}
