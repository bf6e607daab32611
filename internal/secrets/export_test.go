package secrets

import "time"

// SetClock sets k's clock.
func SetClock(k *Keyring, now func() time.Time) { k.now = now }
