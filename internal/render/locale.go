package render

import "fmt"

// Locale is what formatDate and formatNumber write in one language: month
// and weekday names and the number separators. A template parsed
// WithLocale uses them; one parsed without writes English names and
// formatNumber's plain digits, as it always has. Herald fills Locales
// from CLDR (package cldr); the engine holds no language data of its own.
type Locale struct {
	// Tag is the BCP 47 tag the data is for ("fr-CA").
	Tag string
	// Months and MonthsAbbr are indexed by time.Month-1 (MMMM, MMM);
	// Weekdays and WeekdaysAbbr by time.Weekday (EEEE, EEE).
	Months, MonthsAbbr     [12]string
	Weekdays, WeekdaysAbbr [7]string
	// Decimal and Group are formatNumber's decimal and grouping
	// separators when the template gives none.
	Decimal, Group string
}

// Check reports a Locale the engine cannot bound: a name longer than
// what one pattern letter may write, or a missing name or decimal
// separator.
func (l *Locale) Check() error {
	for _, names := range [][]string{l.Months[:], l.MonthsAbbr[:], l.Weekdays[:], l.WeekdaysAbbr[:]} {
		for _, n := range names {
			if n == "" || len(n) > maxDateLetter {
				return fmt.Errorf("locale %s: name %q must be 1-%d bytes", l.Tag, n, maxDateLetter)
			}
		}
	}
	if l.Decimal == "" || len(l.Decimal) > 8 || len(l.Group) > 8 {
		return fmt.Errorf("locale %s: separators %q and %q must be 1-8 and 0-8 bytes", l.Tag, l.Decimal, l.Group)
	}
	return nil
}

// WithLocale makes formatDate write l's month and weekday names and
// formatNumber l's separators (unless the template passes its own). A nil
// l changes nothing; a Locale that fails Check is ignored.
func WithLocale(l *Locale) Option {
	return func(c *config) {
		if l != nil && l.Check() == nil {
			c.locale = l
		}
	}
}
