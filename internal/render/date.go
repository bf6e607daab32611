package render

import (
	"strconv"
	"time"

	"github.com/heraldhq/herald/internal/zone"
)

func loadZone(name string) (*time.Location, error) {
	loc, err := zone.Load(name)
	if err != nil {
		return nil, constError("unknown time zone")
	}
	return loc, nil
}

var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
	"2006-01-02",
}

// parseDate accepts ISO-8601 strings (a missing offset means UTC) and
// numbers as Unix epoch milliseconds.
func parseDate(v value) (time.Time, error) {
	if v.k == kNum {
		ms := int64(v.n)
		return time.UnixMilli(ms).UTC(), nil
	}
	if v.k != kStr && v.k != kSafe {
		return time.Time{}, constError("not an ISO-8601 date or epoch milliseconds")
	}
	s := v.s
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, constError("not an ISO-8601 date or epoch milliseconds")
}

// maxDateLetter bounds what one pattern letter writes: a year of up to 20
// characters, a month or weekday name, an offset, a zone abbreviation.
const maxDateLetter = 20

// dateParseCost is charged for each date parsed: time.Parse allocates its
// error for every layout that does not match.
const dateParseCost = 1 << 10

func formatDateHelper(st *state, args []value, _ []hashVal) (value, error) {
	if !args[0].present() {
		return strValue(""), nil
	}
	if err := st.charge(dateParseCost); err != nil {
		return missing, err
	}
	t, err := parseDate(args[0])
	if err != nil {
		return missing, err
	}
	if len(args) > 2 && args[2].present() {
		name, err := st.str(args[2])
		if err != nil {
			return missing, err
		}
		loc, err := loadZone(name)
		if err != nil {
			return missing, err
		}
		t = t.In(loc)
	}
	pattern, err := st.str(args[1])
	if err != nil {
		return missing, err
	}
	// The pattern may come from data: size the scratch buffer for its
	// worst case (within the cap) before formatting into it.
	bound := len(pattern)
	for i := 0; i < len(pattern) && bound <= st.t.maxOutput; i++ {
		if c := pattern[i]; c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			bound += maxDateLetter - 1
		}
	}
	bound = min(bound, st.t.maxOutput+maxDateLetter)
	if cap(st.scratch) < bound {
		if err := st.charge(bound); err != nil {
			return missing, err
		}
		st.scratch = make([]byte, 0, bound)
	}
	b, err := appendDate(st.scratch[:0], t, pattern, st.t.maxOutput, st.t.locale)
	if err != nil {
		return missing, err
	}
	st.scratch = b
	if err := st.need(len(b)); err != nil {
		return missing, err
	}
	return strValue(string(b)), nil
}

// appendDate formats t with a Java/Adobe-style pattern; see docs/personalization.md's
// formatDate section. It fails with ErrOutputLimit once b is longer than
// limit, since the pattern may come from data. Month and weekday names are
// loc's (Locale.Check holds them within maxDateLetter), English without.
func appendDate(b []byte, t time.Time, pattern string, limit int, loc *Locale) ([]byte, error) {
	for i := 0; i < len(pattern); {
		if len(b) > limit {
			return b, ErrOutputLimit
		}
		c := pattern[i]
		if c == '\'' {
			// 'literal' text; '' is a single quote.
			if i+1 < len(pattern) && pattern[i+1] == '\'' {
				b = append(b, '\'')
				i += 2
				continue
			}
			j := i + 1
			for j < len(pattern) {
				if pattern[j] == '\'' {
					if j+1 < len(pattern) && pattern[j+1] == '\'' {
						b = append(b, '\'')
						j += 2
						continue
					}
					break
				}
				b = append(b, pattern[j])
				j++
			}
			if j >= len(pattern) {
				return b, constError("unterminated quote in date pattern")
			}
			i = j + 1
			continue
		}
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			b = append(b, c)
			i++
			continue
		}
		n := 1
		for i+n < len(pattern) && pattern[i+n] == c {
			n++
		}
		i += n
		if n > maxDateLetter && len(b)+n > limit {
			return b, ErrOutputLimit // a run writes at most max(n, maxDateLetter)
		}
		switch c {
		case 'y':
			if n == 2 {
				b = pad(b, t.Year()%100, 2)
			} else {
				b = pad(b, t.Year(), n)
			}
		case 'M':
			switch {
			case n >= 4 && loc != nil:
				b = append(b, loc.Months[t.Month()-1]...)
			case n == 3 && loc != nil:
				b = append(b, loc.MonthsAbbr[t.Month()-1]...)
			case n >= 4:
				b = append(b, t.Month().String()...)
			case n == 3:
				b = append(b, t.Month().String()[:3]...)
			default:
				b = pad(b, int(t.Month()), n)
			}
		case 'd':
			b = pad(b, t.Day(), n)
		case 'E':
			switch {
			case n >= 4 && loc != nil:
				b = append(b, loc.Weekdays[t.Weekday()]...)
			case loc != nil:
				b = append(b, loc.WeekdaysAbbr[t.Weekday()]...)
			case n >= 4:
				b = append(b, t.Weekday().String()...)
			default:
				b = append(b, t.Weekday().String()[:3]...)
			}
		case 'H':
			b = pad(b, t.Hour(), n)
		case 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			b = pad(b, h, n)
		case 'm':
			b = pad(b, t.Minute(), n)
		case 's':
			b = pad(b, t.Second(), n)
		case 'S':
			frac := strconv.Itoa(t.Nanosecond() + 1e9)[1:] // 9 digits
			for k := range n {
				if k < 9 {
					b = append(b, frac[k])
				} else {
					b = append(b, '0')
				}
			}
		case 'a':
			if t.Hour() < 12 {
				b = append(b, "AM"...)
			} else {
				b = append(b, "PM"...)
			}
		case 'z':
			name, _ := t.Zone()
			b = append(b, name...)
		case 'Z':
			b = appendOffset(b, t, false, false)
		case 'X':
			b = appendOffset(b, t, n >= 3, true)
			if n == 1 {
				// X: hours only, e.g. +01 or Z.
				if _, off := t.Zone(); off != 0 && off%3600 == 0 {
					b = b[:len(b)-2]
				}
			}
		default:
			return b, constError("unsupported letter in date pattern")
		}
	}
	if len(b) > limit {
		return b, ErrOutputLimit
	}
	return b, nil
}

func pad(b []byte, v, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], int64(v), 10)
	for k := len(s); k < width; k++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// appendOffset writes +hhmm (or +hh:mm with colon); with isoZ a zero offset
// is written as Z.
func appendOffset(b []byte, t time.Time, colon, isoZ bool) []byte {
	_, off := t.Zone()
	if off == 0 && isoZ {
		return append(b, 'Z')
	}
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	b = append(b, sign)
	b = pad(b, off/3600, 2)
	if colon {
		b = append(b, ':')
	}
	return pad(b, off%3600/60, 2)
}
