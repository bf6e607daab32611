// Command feedback hears back from the providers: SES email events (from
// EventBridge), SNS SMS delivery status (from CloudWatch Logs) and push
// delivery failures (from SNS) move each message's ledger entry forward,
// suppress bounced and complaining addresses and count reports.
package main

import (
	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/wiring/feedback"
)

func main() {
	app.Main("feedback", func(a *app.App) (any, error) {
		feedback.Use(a)
		return a.FeedbackHandler()
	})
}
