package sms

import (
	"strings"
	"testing"
)

func TestMeasure(t *testing.T) {
	tests := []struct {
		name string
		text string
		want Info
	}{
		{"an empty text is one GSM-7 segment", "", Info{GSM7, 0, 1}},
		{"160 GSM-7 characters fit one segment", strings.Repeat("a", 160), Info{GSM7, 160, 1}},
		{"161 GSM-7 characters take two segments of 153", strings.Repeat("a", 161), Info{GSM7, 161, 2}},
		{"306 GSM-7 characters take two segments", strings.Repeat("a", 306), Info{GSM7, 306, 2}},
		{"307 GSM-7 characters take three segments", strings.Repeat("a", 307), Info{GSM7, 307, 3}},
		{"extension characters count twice", strings.Repeat("€", 80), Info{GSM7, 160, 1}},
		{"an escape pair is never split across segments", strings.Repeat("a", 152) + "€" + strings.Repeat("a", 10), Info{GSM7, 164, 2}},
		{"accented GSM letters stay GSM-7", "Café à Genève? Ça va: ÄÖÜ ñ", Info{GSM7, 27, 1}},
		{"one non-GSM character switches to UCS-2", "Hello ✓", Info{UCS2, 7, 1}},
		{"70 UCS-2 characters fit one segment", strings.Repeat("я", 70), Info{UCS2, 70, 1}},
		{"71 UCS-2 characters take two segments of 67", strings.Repeat("я", 71), Info{UCS2, 71, 2}},
		{"an emoji is two UTF-16 units", "🙂", Info{UCS2, 2, 1}},
		{"a surrogate pair is never split", strings.Repeat("я", 66) + "🙂" + strings.Repeat("я", 10), Info{UCS2, 78, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Measure(tt.text); got != tt.want {
				t.Errorf("Measure(%q) = %+v, want %+v", tt.text, got, tt.want)
			}
		})
	}
}
