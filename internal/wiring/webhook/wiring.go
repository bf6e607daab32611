// Package webhook wires the Webhook function: the AWS clients it calls
// besides its table — feedback webhook deliveries: SQS. The function's
// main and the local cloud both call Use, so the function links those
// clients and no other (internal/app.Clients).
package webhook

import (
	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/sqs"
)

// Use gives a the Webhook function's clients.
func Use(a *app.App) {
	cfg := a.AWS()
	a.Use(app.Clients{SQS: sqs.NewProvider(cfg)})
}
