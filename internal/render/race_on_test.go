//go:build race

package render

// raceEnabled: the race detector allocates, so allocation counts are not
// asserted under it.
const raceEnabled = true
