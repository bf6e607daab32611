// Command trigger serves the AJO-compatible execution API (/im/*), and
// EventBridge events or schedules carrying the same bodies.
package main

import (
	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/app/httpapp"
	"github.com/heraldhq/herald/internal/wiring/trigger"
)

func main() {
	app.Main("trigger", func(a *app.App) (any, error) {
		trigger.Use(a)
		return httpapp.TriggerEventHandler(a)
	})
}
