package cldr_test

import (
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/cldr"
	"github.com/heraldhq/herald/internal/render"
)

func TestEverySupportedLocaleIsUsableByTheEngine(t *testing.T) {
	for _, tag := range cldr.Supported() {
		l := cldr.For(tag)
		if l == nil {
			t.Errorf("For(%q) = nil: its CLDR data fails render.Locale.Check", tag)
			continue
		}
		if err := l.Check(); err != nil {
			t.Errorf("%s: %v", tag, err)
		}
	}
}

func TestForFallsBackAsVariantsDo(t *testing.T) {
	tests := []struct{ tag, want string }{
		{"fr-CA", "fr-CA"}, {"fr_ca", "fr-CA"}, {"fr-BE", "fr"}, {"FR", "fr"}, {"pt-BR", "pt-BR"}, {"pt-PT", "pt"},
		{"de-AT", "de"}, {"ja-JP", "ja"}, {"en-US", "en"}, {"zz", ""}, {"", ""},
	}
	for _, tt := range tests {
		got := ""
		if l := cldr.For(tt.tag); l != nil {
			got = l.Tag
		}
		if got != tt.want {
			t.Errorf("For(%q) = %q, want %q", tt.tag, got, tt.want)
		}
	}
}

func render1(t *testing.T, src string, l *render.Locale, data any) string {
	t.Helper()
	tm, err := render.Parse(src, render.Text, render.WithLocale(l))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := tm.Execute(&b, data); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestDatesAndNumbersFollowTheLocale(t *testing.T) {
	data := map[string]any{"d": "2026-07-14T20:30:00Z", "n": 1234567.891}
	const src = `{{formatDate d "EEEE d MMMM yyyy, EEE d MMM"}} | {{formatNumber n 2}} | {{formatNumber n 2 grouping="_"}}`
	tests := []struct{ tag, want string }{
		{"", "Tuesday 14 July 2026, Tue 14 Jul | 1234567.89 | 1_234_567.89"},
		{"en", "Tuesday 14 July 2026, Tue 14 Jul | 1,234,567.89 | 1_234_567.89"},
		{"fr-CA", "mardi 14 juillet 2026, mar. 14 juill. | 1\u00a0234\u00a0567,89 | 1_234_567,89"},
		{"de", "Dienstag 14 Juli 2026, Di. 14 Juli | 1.234.567,89 | 1_234_567,89"},
		{"ja", "火曜日 14 7月 2026, 火 14 7月 | 1,234,567.89 | 1_234_567.89"},
	}
	for _, tt := range tests {
		var l *render.Locale
		if tt.tag != "" {
			l = cldr.For(tt.tag)
		}
		if got := render1(t, src, l, data); got != tt.want {
			t.Errorf("%q: got  %q\nwant %q", tt.tag, got, tt.want)
		}
	}
}
