// Command manage serves the management API: channel configurations,
// campaigns and profiles.
package main

import "github.com/heraldhq/herald/internal/app"

func main() {
	app.Main("manage", func(a *app.App) (any, error) { return a.ManageHandler(), nil })
}
