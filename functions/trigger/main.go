// Command trigger serves the AJO-compatible execution API (/im/*), and
// EventBridge events or schedules carrying the same bodies.
package main

import (
	// IANA zones (profiles, schedules) whatever the Lambda image holds: a main
	// links them, not the packages that read them (TestTZData).
	_ "time/tzdata"

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
