// Package sms knows how SMS text is encoded and split into segments: GSM
// 03.38 7-bit (with its extension table, whose characters take two septets)
// when every character allows it, UCS-2 otherwise.
package sms

import "unicode/utf16"

// Encoding is how a message is carried.
type Encoding string

// Encodings.
const (
	GSM7 Encoding = "GSM-7"
	UCS2 Encoding = "UCS-2"
)

// gsmBasic is the GSM 03.38 basic character set.
const gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

// gsmExtension characters are sent as an escape plus one septet.
const gsmExtension = "^{}\\[~]|€\f"

var basic, extension = set(gsmBasic), set(gsmExtension)

func set(s string) map[rune]bool {
	m := make(map[rune]bool)
	for _, r := range s {
		m[r] = true
	}
	return m
}

// Info describes how a text would be sent.
type Info struct {
	Encoding Encoding `json:"encoding"`
	// Units is the length in septets (GSM-7) or UTF-16 code units (UCS-2).
	Units    int `json:"units"`
	Segments int `json:"segments"`
}

// Single-message capacity and per-segment capacity of a concatenated
// message (the user data header takes the rest).
const (
	gsmSingle, gsmMulti   = 160, 153
	ucs2Single, ucs2Multi = 70, 67
)

// Measure returns the encoding, length and segment count of text. An
// empty text is one segment.
func Measure(text string) Info {
	units, gsm := 0, true
	for _, r := range text {
		switch {
		case basic[r]:
			units++
		case extension[r]:
			units += 2
		default:
			gsm = false
		}
		if !gsm {
			break
		}
	}
	if gsm {
		return Info{Encoding: GSM7, Units: units, Segments: segments(units, gsmSingle, gsmMulti, false, text)}
	}
	u := 0
	for _, r := range text {
		u += len(utf16.Encode([]rune{r}))
	}
	return Info{Encoding: UCS2, Units: u, Segments: segments(u, ucs2Single, ucs2Multi, true, text)}
}

// segments counts segments; an escape sequence (GSM-7) or a surrogate
// pair (UCS-2) is never split across two segments.
func segments(units, single, multi int, ucs2 bool, text string) int {
	if units <= single {
		return 1
	}
	n, used := 1, 0
	for _, r := range text {
		w := 1
		if ucs2 {
			w = len(utf16.Encode([]rune{r}))
		} else if extension[r] {
			w = 2
		}
		if used+w > multi {
			n++
			used = 0
		}
		used += w
	}
	return n
}
