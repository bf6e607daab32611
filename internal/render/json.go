package render

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// jsonLen is the length of json.Marshal(v) for the encoding/json data
// model, measured without encoding, so that the json helper is charged
// before it builds its result. ok is false for other Go types (which only
// a caller's own data holds) and for values json.Marshal refuses.
// FuzzParseExecute checks it against json.Marshal.
func jsonLen(v any) (n int, ok bool) {
	switch x := v.(type) {
	case nil:
		return len("null"), true
	case bool:
		if x {
			return len("true"), true
		}
		return len("false"), true
	case float64:
		return jsonFloatLen(x)
	case string:
		return jsonStringLen(x), true
	case SafeString:
		return jsonStringLen(string(x)), true
	case json.Number:
		if x == "" {
			return len("0"), true
		}
		if !validJSONNumber(string(x)) {
			return 0, false
		}
		return len(x), true
	case []any:
		if x == nil {
			return len("null"), true
		}
		n = 2 + max(len(x)-1, 0)
		for _, e := range x {
			m, ok := jsonLen(e)
			if !ok {
				return 0, false
			}
			n += m
		}
		return n, true
	case map[string]any:
		if x == nil {
			return len("null"), true
		}
		n = 2 + max(len(x)-1, 0)
		for k, e := range x {
			m, ok := jsonLen(e)
			if !ok {
				return 0, false
			}
			n += jsonStringLen(k) + 1 + m
		}
		return n, true
	case *jnode:
		return x.jsonLen(true), true
	case Object:
		if x.n == nil {
			return len("null"), true
		}
		return x.n.jsonLen(true), true
	case Fields:
		n = 2 + max(len(x)-1, 0)
		for _, f := range x {
			m, ok := jsonLen(f.Value)
			if !ok {
				return 0, false
			}
			n += jsonStringLen(f.Name) + 1 + m
		}
		return n, true
	}
	return 0, false
}

// jsonFloatLen is the length of appendJSONFloat's result.
func jsonFloatLen(f float64) (int, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	var tmp [32]byte
	return len(appendJSONFloat(tmp[:0], f)), true
}

// appendJSONFloat mirrors encoding/json's float encoding: ES6 number form,
// exponent cleaned of a leading zero.
func appendJSONFloat(b []byte, f float64) []byte {
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if n := len(b); format == 'e' && n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
		b[n-2] = b[n-1]
		b = b[:n-1]
	}
	return b
}

// jsonStringLen mirrors encoding/json's string encoding with HTML escaping
// (the default): quotes and backslashes take 2 bytes, \b \f \n \r \t 2,
// other control bytes and < > & 6 (\u00XX), invalid bytes 6 (\ufffd),
// U+2028 and U+2029 6.
func jsonStringLen(s string) int {
	n := 2
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '\\' || c == '"' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t':
				n += 2
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				n += 6
			default:
				n++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1, r == '\u2028', r == '\u2029':
			n += 6
		default:
			n += size
		}
		i += size
	}
	return n
}

// validJSONNumber reports whether s is a JSON number, as encoding/json
// requires of a json.Number it encodes.
func validJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i == len(s) || s[i] < '0' || s[i] > '9' {
			return false
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i == len(s) || s[i] < '0' || s[i] > '9' {
			return false
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	return i == len(s)
}

// writeJSON writes what json.Marshal writes for v, which jsonLen has
// measured (and so accepted), without encoding/json's own buffers: the
// json helper allocates exactly its result. Object keys are sorted in the
// state's pooled key stack.
func (st *state) writeJSON(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case float64:
		var tmp [32]byte
		b.Write(appendJSONFloat(tmp[:0], x))
	case string:
		writeJSONString(b, x)
	case SafeString:
		writeJSONString(b, string(x))
	case json.Number:
		if x == "" {
			x = "0"
		}
		b.WriteString(string(x))
	case []any:
		if x == nil {
			b.WriteString("null")
			return
		}
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			st.writeJSON(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		if x == nil {
			b.WriteString("null")
			return
		}
		base := len(st.keys)
		for k := range x {
			st.keys = append(st.keys, k)
		}
		slices.Sort(st.keys[base:])
		b.WriteByte('{')
		for i := base; i < len(st.keys); i++ {
			if i > base {
				b.WriteByte(',')
			}
			writeJSONString(b, st.keys[i])
			b.WriteByte(':')
			st.writeJSON(b, x[st.keys[i]])
		}
		b.WriteByte('}')
		clear(st.keys[base:])
		st.keys = st.keys[:base]
	case Object:
		if x.n == nil {
			b.WriteString("null")
			return
		}
		st.writeJSON(b, x.n)
	case Fields:
		b.WriteByte('{')
		for i, f := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, f.Name)
			b.WriteByte(':')
			st.writeJSON(b, f.Value)
		}
		b.WriteByte('}')
	case *jnode:
		switch x.k {
		case kObj, kArr:
			open, end := byte('['), byte(']')
			if x.k == kObj {
				open, end = '{', '}'
			}
			b.WriteByte(open)
			for it, i := x.members(), 0; ; i++ {
				c, ok := it.next()
				if !ok {
					break
				}
				if i > 0 {
					b.WriteByte(',')
				}
				if x.k == kObj {
					writeJSONString(b, c.key)
					b.WriteByte(':')
				}
				st.writeJSON(b, c)
			}
			b.WriteByte(end)
		case kStr:
			if x.num {
				b.WriteString(x.s)
			} else {
				writeJSONString(b, x.s)
			}
		default:
			var tmp [32]byte
			b.Write(x.appendJSON(tmp[:0], true, nil))
		}
	}
}

const hexDigits = "0123456789abcdef"

// writeJSONString is encoding/json's string encoding with HTML escaping;
// see jsonStringLen.
func writeJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b.WriteString(s[start:i])
			switch c {
			case '\\', '"':
				b.WriteByte('\\')
				b.WriteByte(c)
			case '\b':
				b.WriteString(`\b`)
			case '\f':
				b.WriteString(`\f`)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\t':
				b.WriteString(`\t`)
			default:
				b.WriteString(`\u00`)
				b.WriteByte(hexDigits[c>>4])
				b.WriteByte(hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(s[start:i])
			b.WriteString(`\ufffd`)
		case r == '\u2028' || r == '\u2029':
			b.WriteString(s[start:i])
			b.WriteString(`\u202`)
			b.WriteByte(hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}
