package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/heraldhq/herald/internal/ratelimit"
)

// loadRateLimits reads the requests per second a tenant may make per
// route group (HERALD_RATE_EXECUTION, default 500;
// HERALD_RATE_HIGHTHROUGHPUT, default 5000; HERALD_RATE_MANAGEMENT,
// default 100: ratelimit's defaults, AJO's documented rates); 0 turns a
// group's limit off.
func loadRateLimits(getenv func(string) string) (ratelimit.Limits, error) {
	l := ratelimit.Limits{Execution: ratelimit.DefaultExecution, HighThroughput: ratelimit.DefaultHighThroughput,
		Management: ratelimit.DefaultManagement}
	var errs []error
	limit := func(name string, dst *int) {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("config: %s %q: want requests per second per tenant, a whole number (0 for no limit)", name, v))
			return
		}
		*dst = n
	}
	limit("HERALD_RATE_EXECUTION", &l.Execution)
	limit("HERALD_RATE_HIGHTHROUGHPUT", &l.HighThroughput)
	limit("HERALD_RATE_MANAGEMENT", &l.Management)
	return l, errors.Join(errs...)
}
