// Command authorizer is the HTTP API Lambda authorizer: it resolves the bearer
// secret to an API key and passes the tenant and scopes to the routes.
package main

import "github.com/heraldhq/herald/internal/app"

func main() {
	app.Main("authorizer", func(a *app.App) (any, error) { return a.AuthorizerHandler(), nil })
}
