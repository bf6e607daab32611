// Package cldr gives the template engine the CLDR data of a bounded set of
// locales: the month and weekday names formatDate writes and the
// separators formatNumber writes in a content variant of that locale.
//
// The data comes from github.com/go-playground/locales (CLDR, generated),
// one package per locale linked in; Supported lists them. The set is kept
// small on purpose: each locale adds its package to every function that
// renders content (docs/personalization.md states the set and the cost).
// A tag outside it falls back as content variants do ("fr-BE" → "fr"),
// and one with no supported language gets nil: English names and plain
// numbers, the engine's behaviour without a locale.
package cldr

import (
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/go-playground/locales"
	"github.com/go-playground/locales/de"
	"github.com/go-playground/locales/de_CH"
	"github.com/go-playground/locales/en"
	"github.com/go-playground/locales/en_GB"
	"github.com/go-playground/locales/es"
	"github.com/go-playground/locales/es_MX"
	"github.com/go-playground/locales/fr"
	"github.com/go-playground/locales/fr_CA"
	"github.com/go-playground/locales/it"
	"github.com/go-playground/locales/ja"
	"github.com/go-playground/locales/nl"
	"github.com/go-playground/locales/pt"
	"github.com/go-playground/locales/pt_BR"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/render"
)

// translators are the supported locales by BCP 47 tag, each made the
// first time it is asked for (nothing is built at start).
var translators = map[string]func() locales.Translator{
	"de": de.New, "de-CH": de_CH.New,
	"en": en.New, "en-GB": en_GB.New,
	"es": es.New, "es-MX": es_MX.New,
	"fr": fr.New, "fr-CA": fr_CA.New,
	"it": it.New,
	"ja": ja.New,
	"nl": nl.New,
	"pt": pt.New, "pt-BR": pt_BR.New,
}

// tags are the keys of translators, sorted.
var tags = slices.Sorted(maps.Keys(translators))

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
	tr := translators[name]()
	l := &render.Locale{Tag: name}
	for m := time.January; m <= time.December; m++ {
		l.Months[m-1], l.MonthsAbbr[m-1] = tr.MonthWide(m), tr.MonthAbbreviated(m)
	}
	for d := time.Sunday; d <= time.Saturday; d++ {
		l.Weekdays[d], l.WeekdaysAbbr[d] = tr.WeekdayWide(d), tr.WeekdayAbbreviated(d)
	}
	if s, ok := tr.(interface {
		Decimal() string
		Group() string
	}); ok {
		l.Decimal, l.Group = s.Decimal(), s.Group()
	}
	if l.Check() != nil {
		l = nil // the engine would ignore it: say so once, here, by having none
	}
	built[name] = l
	return l
}
