// Command deadletter consumes the dispatch dead-letter queue: it closes
// every recipient of a dead-lettered job that has no outcome yet and parks
// the job for a redrive (POST /executions/{id}/redrive).
package main

import (
	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/wiring/deadletter"
)

func main() {
	app.Main("deadletter", func(a *app.App) (any, error) {
		deadletter.Use(a)
		return a.DeadLetterHandler()
	})
}
