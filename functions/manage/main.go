// Command manage serves the management API: channel configurations,
// campaigns and profiles.
package main

import (
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
