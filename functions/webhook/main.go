// Command webhook consumes the webhook queue: it POSTs each feedback
// event, signed, to its tenant's webhook endpoint, retrying for 24 hours.
package main

import (
	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/wiring/webhook"
)

func main() {
	app.Main("webhook", func(a *app.App) (any, error) {
		webhook.Use(a)
		return a.WebhookHandler()
	})
}
