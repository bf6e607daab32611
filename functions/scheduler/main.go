// Command scheduler is the target of every EventBridge Scheduler schedule
// Herald creates: scheduled, recurring and paced audience executions, and
// campaign starts and ends.
package main

import (
	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/wiring/scheduler"
)

func main() {
	app.Main("scheduler", func(a *app.App) (any, error) {
		scheduler.Use(a)
		return a.SchedulerHandler()
	})
}
