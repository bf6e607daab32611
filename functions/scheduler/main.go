// Command scheduler is the target of every EventBridge Scheduler schedule
// Herald creates: scheduled, recurring and paced audience executions,
// campaign starts and ends, and recipients deferred by quiet hours. It also
// consumes the deferral queue: the jobs Dispatch defers past SQS's 15
// minutes, which it parks and schedules (Dispatch links no Scheduler
// client).
package main

import (
	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/wiring/scheduler"
)

func main() {
	app.Main("scheduler", func(a *app.App) (any, error) {
		scheduler.Use(a)
		return a.SchedulerFunctionHandler()
	})
}
