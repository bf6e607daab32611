// Command trigger serves the AJO-compatible execution API (/im/*), and
// EventBridge events or schedules carrying the same bodies.
package main

import "github.com/heraldhq/herald/internal/app"

func main() {
	app.Main("trigger", func(a *app.App) (any, error) { return a.TriggerEventHandler() })
}
