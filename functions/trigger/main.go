// Command trigger serves the AJO-compatible execution API (/im/*).
package main

import "github.com/heraldhq/herald/internal/app"

func main() {
	app.Main("trigger", func(a *app.App) (any, error) { return a.TriggerHandler() })
}
