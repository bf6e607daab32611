// Command reports consumes the table's DynamoDB stream, filtered to the
// executions' counter items: each change's difference is added to its
// campaign's send counts (targeted, by outcome; all time and hourly),
// which GET /campaigns/{id}/report reads. The send path makes no call for
// them.
package main

import "github.com/heraldhq/herald/internal/app"

func main() {
	app.Main("reports", func(a *app.App) (any, error) { return a.ReportsHandler(), nil })
}
