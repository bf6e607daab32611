package strictjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/heraldhq/herald/internal/derrors"
)

// maxTextErrors bounds the field errors CheckText lists.
const maxTextErrors = 20

// CheckText refuses a body whose strings encoding/json would silently
// change: invalid UTF-8 and \u escapes of UTF-16 surrogates that do not
// form a pair both decode to U+FFFD, so an address or a name would be
// stored or sent as something the caller never wrote. Every such string is
// named by its JSON path (a key by its own path). Call it on the raw body,
// before any decoding; a body that is not JSON at all is left to the
// decoder's own error.
func CheckText(body []byte) error {
	if utf8.Valid(body) && !hasLoneSurrogate(body) {
		return nil
	}
	f := locateBadText(body)
	if len(f) == 0 {
		f.Add("body", "must be valid UTF-8 without unpaired UTF-16 surrogate escapes")
	}
	return f.Err()
}

// hex4 parses the four hex digits at the start of b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// hasLoneSurrogate reports whether b holds a \u escape of a high surrogate
// (D800-DBFF) not followed by an escaped low one (DC00-DFFF), or of a low
// surrogate on its own. Backslashes only occur in JSON strings, where each
// starts an escape, so a byte scan that skips escaped characters is exact.
func hasLoneSurrogate(b []byte) bool {
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		if i+1 >= len(b) || b[i+1] != 'u' {
			i++ // an escaped character, perhaps a backslash
			continue
		}
		r, ok := hex4(b[i+2:])
		if !ok {
			i++
			continue
		}
		switch {
		case r >= 0xD800 && r < 0xDC00:
			if i+12 <= len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
				if lo, ok := hex4(b[i+8:]); ok && lo >= 0xDC00 && lo < 0xE000 {
					i += 11
					continue
				}
			}
			return true
		case r >= 0xDC00 && r < 0xE000:
			return true
		}
		i += 5
	}
	return false
}

func badText(raw []byte) string {
	switch {
	case !utf8.Valid(raw):
		return "must be valid UTF-8"
	case hasLoneSurrogate(raw):
		return `must not hold an unpaired UTF-16 surrogate escape (\uD800-\uDFFF)`
	}
	return ""
}

// locateBadText walks body's tokens, keeping the JSON path of each, and
// names the strings (keys included) whose raw bytes are bad text.
func locateBadText(body []byte) derrors.Fields {
	type frame struct {
		path    string
		array   bool
		index   int
		key     string
		wantKey bool
	}
	var f derrors.Fields
	var stack []frame
	current := func() string {
		if len(stack) == 0 {
			return "body"
		}
		top := stack[len(stack)-1]
		if top.array {
			return fmt.Sprintf("%s[%d]", top.path, top.index)
		}
		return join(top.path, top.key)
	}
	containerPath := func() string {
		if len(stack) == 0 {
			return ""
		}
		return current()
	}
	valueDone := func() {
		if n := len(stack); n > 0 {
			if stack[n-1].array {
				stack[n-1].index++
			} else {
				stack[n-1].wantKey = true
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var start int64
	for len(f) < maxTextErrors {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		end := dec.InputOffset()
		raw := body[start:end]
		start = end
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{':
				stack = append(stack, frame{path: containerPath(), wantKey: true})
			case '[':
				stack = append(stack, frame{path: containerPath(), array: true})
			default:
				stack = stack[:len(stack)-1]
				valueDone()
			}
			continue
		}
		s, isString := tok.(string)
		if n := len(stack); n > 0 && !stack[n-1].array && stack[n-1].wantKey && isString {
			top := &stack[n-1]
			top.key, top.wantKey = s, false
			if msg := badText(raw); msg != "" {
				f.Add(join(top.path, s), "has a key that %s", msg)
			}
			continue
		}
		if isString {
			if msg := badText(raw); msg != "" {
				f.Add(current(), "%s", msg)
			}
		}
		valueDone()
	}
	return f
}
