// Command dispatch consumes the dispatch queue: it renders and sends each
// recipient's message and records its outcome in the delivery ledger.
//
// It is the one function that links libphonenumber (package phonelib, in
// its wiring): it reads SMS numbers as AJO accepts them, with the SMS
// configuration's defaultRegion, and pays the library's start-up cost
// alone.
package main

import (
	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/wiring/dispatch"
)

func main() {
	app.Main("dispatch", func(a *app.App) (any, error) {
		dispatch.Use(a)
		return a.DispatchHandler()
	})
}
