// Command dispatch consumes the dispatch queue: it renders and sends each
// recipient's message and records its outcome in the delivery ledger.
package main

import "github.com/heraldhq/herald/internal/app"

func main() {
	app.Main("dispatch", func(a *app.App) (any, error) { return a.DispatchHandler() })
}
