//go:build race

package delivery_test

// raceEnabled: the race detector allocates, so allocation counts are not
// asserted under it.
const raceEnabled = true
