//go:build race

package httpapi_test

// raceEnabled: the race detector allocates, so allocation counts are not
// asserted under it.
const raceEnabled = true
