// Command dispatch consumes the dispatch queue: it renders and sends each
// recipient's message and records its outcome in the delivery ledger.
//
// It is the one function that reads national phone numbers (package
// phonelib, in its wiring: libphonenumber's answers from a table generated
// from its metadata, without linking the library): it reads SMS numbers
// as AJO accepts them, with the SMS configuration's defaultRegion.
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
