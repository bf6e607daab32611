// Package cldr gives the template engine the CLDR data of a bounded set of
// locales: the month and weekday names formatDate writes and the
// separators formatNumber writes in a content variant of that locale.
//
// The data comes from github.com/go-playground/locales (CLDR, generated):
// ./gen copies out the fields the engine reads, for each supported
// locale, into zz_generated_locales.go, so the functions do not link the
// library's locale packages (about 1.2 MiB). Supported lists them. The
// set is kept small on purpose (docs/personalization.md states it).
// A tag outside it falls back as content variants do ("fr-BE" → "fr"),
// and one with no supported language gets nil: English names and plain
// numbers, the engine's behaviour without a locale.
package cldr

import (
	"slices"
	"sync"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/render"
)

//go:generate go run ./gen -o zz_generated_locales.go

// Supported returns the tags of the linked locales, sorted.
func Supported() []string { return slices.Clone(tags) }

var (
	mu    sync.Mutex
	built = map[string]*render.Locale{}
)

// For returns the engine locale serving tag: the supported locale a
// content variant of that tag would be matched to (campaign.MatchLocale:
// any case, "fr-BE" → "fr"); nil if none.
func For(tag string) *render.Locale {
	if name := campaign.MatchLocale(tags, tag); name != "" {
		return build(name)
	}
	return nil
}

func build(name string) *render.Locale {
	mu.Lock()
	defer mu.Unlock()
	if l, ok := built[name]; ok {
		return l
	}
	i, _ := slices.BinarySearch(tags, name)
	l := new(render.Locale)
	*l = generated[i]
	if l.Check() != nil {
		l = nil // the engine would ignore it: say so once, here, by having none
	}
	built[name] = l
	return l
}
