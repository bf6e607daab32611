// Command manage serves the management API: channel configurations,
// campaigns and profiles.
package main

import (
	// IANA zones (profiles, campaigns, previews, schedules) whatever the Lambda image holds: a main
	// links them, not the packages that read them (TestTZData).
	_ "time/tzdata"

	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/app/httpapp"
	"github.com/heraldhq/herald/internal/wiring/manage"
)

func main() {
	app.Main("manage", func(a *app.App) (any, error) {
		manage.Use(a)
		return httpapp.ManageHandler(a)
	})
}
