// Package deadletter wires the DeadLetter function: the AWS clients it
// calls besides its table — the closing of dead-lettered jobs: SQS (their
// outcomes to the webhook queue). The function's main and the local cloud
// both call Use, so the function links those clients and no other
// (internal/app.Clients).
package deadletter

import (
	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/sqs"
)

// Use gives a the DeadLetter function's clients.
func Use(a *app.App) {
	cfg := a.AWS()
	a.Use(app.Clients{SQS: sqs.NewProvider(cfg)})
}
