// Command dispatch consumes the dispatch queue: it renders and sends each
// recipient's message and records its outcome in the delivery ledger.
//
// It is the one function that links libphonenumber (package phonelib): it
// reads SMS numbers as AJO accepts them, with the SMS configuration's
// defaultRegion, and pays the library's start-up cost alone.
package main

import (
	"github.com/heraldhq/herald/internal/address/phonelib"
	"github.com/heraldhq/herald/internal/app"
)

func main() {
	app.Main("dispatch", func(a *app.App) (any, error) {
		a.SetPhoneNormalizer(phonelib.Normalize)
		return a.DispatchHandler()
	})
}
