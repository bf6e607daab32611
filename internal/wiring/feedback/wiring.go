// Package feedback wires the Feedback function: the AWS clients it calls
// besides its table — provider events: SNS (platform endpoints) and SQS
// (the webhook queue). The function's main and the local cloud both call
// Use, so the function links those clients and no other
// (internal/app.Clients).
package feedback

import (
	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/sns"
	"github.com/heraldhq/herald/internal/sqs"
)

// Use gives a the Feedback function's clients.
func Use(a *app.App) {
	cfg := a.AWS()
	a.Use(app.Clients{SNS: sns.NewProvider(cfg), SQS: sqs.NewProvider(cfg)})
}
