package render

import (
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"
)

// SafeString is a string a helper returns to mark its output as already safe
// HTML: it is written without escaping. None of the built-in helpers return it,
// so data can only reach the output unescaped through {{{ }}} or {{& }}.
type SafeString string

// kind classifies a value without boxing it.
type kind uint8

const (
	kMissing kind = iota // the path resolved to nothing (undefined in Handlebars)
	kNull
	kBool
	kNum
	kStr
	kSafe
	kObj
	kArr
	kOther
)

// value is the engine's unboxed representation of a datum. Evaluating paths
// and built-in helpers in terms of value keeps Execute free of interface
// allocations: x holds the original interface for maps, slices and others.
type value struct {
	k kind
	b bool
	n float64
	s string // string contents, or the literal text of a json.Number
	x any
}

var (
	missing  = value{k: kMissing}
	nullVal  = value{k: kNull}
	trueVal  = value{k: kBool, b: true}
	falseVal = value{k: kBool}
)

func boolValue(b bool) value {
	if b {
		return trueVal
	}
	return falseVal
}

func numValue(f float64) value { return value{k: kNum, n: f} }

func strValue(s string) value { return value{k: kStr, s: s} }

// fromAny converts data as produced by encoding/json (plus a few common Go
// types) into a value.
func fromAny(orig any) value {
	switch v := orig.(type) {
	case nil:
		return nullVal
	case string:
		return value{k: kStr, s: v, x: orig}
	case float64:
		return value{k: kNum, n: v, x: orig}
	case bool:
		return value{k: kBool, b: v, x: orig}
	case map[string]any:
		return value{k: kObj, x: orig}
	case []any:
		return value{k: kArr, x: orig}
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return value{k: kStr, s: string(v), x: orig}
		}
		return value{k: kNum, n: f, s: string(v), x: orig}
	case SafeString:
		return value{k: kSafe, s: string(v), x: orig}
	case *jnode:
		return v.value()
	case Object:
		if v.n == nil {
			return nullVal
		}
		return v.n.value()
	case Fields:
		return value{k: kObj, x: orig}
	case int:
		return value{k: kNum, n: float64(v)}
	case int64:
		return value{k: kNum, n: float64(v)}
	case int32:
		return value{k: kNum, n: float64(v)}
	case float32:
		return value{k: kNum, n: float64(v)}
	case []string:
		a := make([]any, len(v))
		for i, s := range v {
			a[i] = s
		}
		return value{k: kArr, x: a}
	case []map[string]any:
		a := make([]any, len(v))
		for i, m := range v {
			a[i] = m
		}
		return value{k: kArr, x: a}
	default:
		return value{k: kOther, x: orig}
	}
}

// toAny converts a value back to the encoding/json data model, for custom
// helpers and the json helper. Values that came from data keep their
// original interface, so this does not allocate for them.
func (v value) toAny() any {
	if v.x != nil {
		return v.x
	}
	switch v.k {
	case kMissing, kNull:
		return nil
	case kBool:
		return v.b
	case kNum:
		if v.s != "" {
			return json.Number(v.s)
		}
		return v.n
	case kStr:
		return v.s
	case kSafe:
		return SafeString(v.s)
	default:
		return v.x
	}
}

// plainAny is toAny for custom helpers, which see only the encoding/json
// data model: decoded objects and arrays become maps and slices.
func (v value) plainAny() any {
	switch x := v.x.(type) {
	case *jnode:
		return x.plain()
	case Fields:
		m := make(map[string]any, len(x))
		for _, f := range x {
			m[f.Name] = fromAny(f.Value).plainAny()
		}
		return m
	}
	return v.toAny()
}

// ctxAny is the value as a context object for lookups.
func (v value) ctxAny() any {
	if v.k == kMissing {
		return nil
	}
	return v.toAny()
}

// truthy implements Handlebars' #if truthiness: false, undefined, null, "",
// 0 (unless includeZero), NaN and empty arrays are falsy; everything else,
// including empty objects, is truthy.
func (v value) truthy(includeZero bool) bool {
	switch v.k {
	case kMissing, kNull:
		return false
	case kBool:
		return v.b
	case kNum:
		if math.IsNaN(v.n) {
			return false
		}
		return includeZero || v.n != 0
	case kStr, kSafe:
		return v.s != ""
	case kArr:
		return arrLen(v.x) > 0
	default:
		return true
	}
}

// present reports whether v counts as a value for the ?: operator and the
// default helper: not missing, not null and not the empty string.
func (v value) present() bool {
	switch v.k {
	case kMissing, kNull:
		return false
	case kStr, kSafe:
		return v.s != ""
	}
	return true
}

// appendNumber formats f the way JavaScript's Number#toString does for the
// common range, so output matches Handlebars.
func appendNumber(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case f == 0:
		return append(dst, '0')
	}
	a := math.Abs(f)
	if a < 1e15 && f == math.Trunc(f) {
		return strconv.AppendInt(dst, int64(f), 10)
	}
	if a >= 1e-6 && a < 1e21 {
		if b, ok := appendDecimal(dst, f, a); ok {
			return b
		}
		return strconv.AppendFloat(dst, f, 'f', -1, 64)
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, 'e', -1, 64)
	// Go writes e-07 / e+21; JavaScript writes e-7 / e+21.
	for i := start; i < len(dst); i++ {
		if dst[i] == 'e' && i+3 < len(dst) && dst[i+2] == '0' {
			dst = append(dst[:i+2], dst[i+3:]...)
			break
		}
	}
	return dst
}

// pow10 holds the exact powers of ten appendDecimal scales by.
var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6}

// appendDecimal is strconv.AppendFloat(dst, f, 'f', -1, 64) for the
// numbers data is full of, prices and the like: |f| = a < 2^30 with at
// most six decimals. It reports false for any other number.
//
// For the fewest decimals k such that m = round(a·10^k) gives m/10^k == a,
// m·10^-k is the shortest decimal that reads back as f, which is what
// strconv writes: m and 10^k are exact, so the division rounds m·10^-k as
// parsing it would; a·10^k < 2^50 is computed within 1/8 of its exact
// value, itself within 10^k·ulp(a)/2 < 1/16 of that decimal's m, so m is
// found when it exists; and ulp(a) ≤ 2^-23 < 10^-k, so no other k-digit
// decimal reads back as f, nor a shorter one that k-1 did not find.
func appendDecimal(dst []byte, f, a float64) ([]byte, bool) {
	if a >= 1<<30 {
		return dst, false
	}
	for k := 1; k < len(pow10); k++ {
		p := pow10[k]
		m := math.Round(a * p)
		if m/p != a {
			continue
		}
		if f < 0 {
			dst = append(dst, '-')
		}
		im, ip := int64(m), int64(p)
		dst = strconv.AppendInt(dst, im/ip, 10)
		dst = append(dst, '.')
		frac := im % ip
		for q := ip / 10; q > frac && q > 1; q /= 10 {
			dst = append(dst, '0')
		}
		return strconv.AppendInt(dst, frac, 10), true
	}
	return dst, false
}

// appendText appends the JavaScript-style string form of v, unescaped.
func appendText(dst []byte, v value) []byte {
	switch v.k {
	case kStr, kSafe:
		return append(dst, v.s...)
	case kNum:
		if v.s != "" {
			return append(dst, v.s...)
		}
		return appendNumber(dst, v.n)
	case kBool:
		if v.b {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case kArr:
		for it, i := elemsOf(v.x), 0; ; i++ {
			ev, _, ok := it.next()
			if !ok {
				break
			}
			if i > 0 {
				dst = append(dst, ',')
			}
			if ev.k != kNull {
				dst = appendText(dst, ev)
			}
		}
		return dst
	case kObj:
		return append(dst, "[object Object]"...)
	case kOther:
		if s, ok := v.x.(interface{ String() string }); ok {
			return append(dst, s.String()...)
		}
		b, err := json.Marshal(v.x)
		if err != nil {
			return dst
		}
		return append(dst, b...)
	}
	return dst
}

// textLen is len(appendText(nil, v)), measured without building the text
// (except for values of other Go types, which only callers' data holds), so
// that what a helper or an output tag is about to build is charged first.
func textLen(v value) int {
	switch v.k {
	case kStr, kSafe:
		return len(v.s)
	case kNum:
		if v.s != "" {
			return len(v.s)
		}
		var tmp [32]byte
		return len(appendNumber(tmp[:0], v.n))
	case kBool:
		if v.b {
			return len("true")
		}
		return len("false")
	case kArr:
		n := 0
		for it, i := elemsOf(v.x), 0; ; i++ {
			ev, _, ok := it.next()
			if !ok {
				break
			}
			if i > 0 {
				n++
			}
			if ev.k != kNull {
				n += textLen(ev)
			}
		}
		return n
	case kObj:
		return len("[object Object]")
	case kOther:
		return len(appendText(nil, v))
	}
	return 0
}

// String returns the string form of v; it allocates for non-strings.
func (v value) String() string {
	if v.k == kStr || v.k == kSafe {
		return v.s
	}
	if v.k == kNum && v.s != "" {
		return v.s
	}
	var scratch [32]byte
	return string(appendText(scratch[:0], v))
}

// escapeGrowth is how many bytes Handlebars' escaping adds for each byte:
// not 0 for exactly the bytes it escapes.
var escapeGrowth = [256]uint8{'&': 4, '<': 3, '>': 3, '"': 5, '\'': 5, '`': 5, '=': 5}

// escapes holds what each escaped byte becomes.
var escapes = [256]string{'&': "&amp;", '<': "&lt;", '>': "&gt;", '"': "&quot;", '\'': "&#x27;", '`': "&#x60;", '=': "&#x3D;"}

// escapeIndex is the offset of the first byte of s that escaping changes,
// or len(s). It looks at eight bytes per test, since values that need no
// escaping at all are the common case.
func escapeIndex[T string | []byte](s T) int {
	i := 0
	for ; len(s)-i >= 8; i += 8 {
		b := s[i : i+8]
		if escapeGrowth[b[0]]|escapeGrowth[b[1]]|escapeGrowth[b[2]]|escapeGrowth[b[3]]|
			escapeGrowth[b[4]]|escapeGrowth[b[5]]|escapeGrowth[b[6]]|escapeGrowth[b[7]] != 0 {
			break
		}
	}
	if len(s)-i >= 4 {
		if b := s[i : i+4]; escapeGrowth[b[0]]|escapeGrowth[b[1]]|escapeGrowth[b[2]]|escapeGrowth[b[3]] == 0 {
			i += 4
		}
	}
	for ; i < len(s); i++ {
		if escapeGrowth[s[i]] != 0 {
			return i
		}
	}
	return len(s)
}

// escapedLen is len(appendEscaped(nil, s)).
func escapedLen[T string | []byte](s T) int {
	n := len(s)
	for i := 0; i < len(s); i++ {
		n += int(escapeGrowth[s[i]])
	}
	return n
}

// appendEscaped appends s with Handlebars' HTML escaping, copying unescaped
// runs in one go.
func appendEscaped[T string | []byte](dst []byte, s T) []byte {
	for {
		i := escapeIndex(s)
		dst = append(dst, s[:i]...)
		if i == len(s) {
			return dst
		}
		dst = append(dst, escapes[s[i]]...)
		s = s[i+1:]
	}
}

// lookup resolves one path segment on a context object. Arrays support
// numeric indexes and length, strings support length (in runes), as in
// JavaScript.
func lookup(ctx any, seg string) (any, bool) {
	switch c := ctx.(type) {
	case map[string]any:
		v, ok := c[seg]
		return v, ok
	case []any:
		if seg == "length" {
			return float64(len(c)), true
		}
		i, err := strconv.Atoi(seg)
		if err != nil || i < 0 || i >= len(c) {
			return nil, false
		}
		return c[i], true
	case string:
		if seg == "length" {
			return float64(len([]rune(c))), true
		}
	case *jnode:
		return c.lookup(seg)
	case Object:
		if c.n != nil {
			return c.n.lookup(seg)
		}
	case Fields:
		for i := range c {
			if c[i].Name == seg {
				return c[i].Value, true
			}
		}
	}
	return nil, false
}

// lookup is the package's lookup on a decoded value: members of objects,
// elements and length of arrays, length of strings.
func (nd *jnode) lookup(seg string) (any, bool) {
	switch nd.k {
	case kObj:
		if m, ok := nd.member(seg); ok {
			return m, true
		}
	case kArr:
		if seg == "length" {
			return float64(nd.len), true
		}
		i, err := strconv.Atoi(seg)
		if err != nil {
			return nil, false
		}
		if e, ok := nd.elem(i); ok {
			return e, true
		}
	case kStr:
		if seg == "length" && !nd.num {
			return float64(utf8.RuneCountInString(nd.s)), true
		}
	}
	return nil, false
}

// Fields is an object built by the caller rather than decoded: named
// values (maps, Objects, scalars, other Fields) in the order #each
// iterates them. A message's data is typically Fields of "profile" and
// "context", so that no map is built per recipient.
type Fields []Field

// Field is one member of Fields.
type Field struct {
	Name  string
	Value any
}

// arrLen is the length of an array value's x.
func arrLen(x any) int {
	switch a := x.(type) {
	case []any:
		return len(a)
	case *jnode:
		return int(a.len)
	}
	return 0
}

// objLen is the number of members of an object value's x.
func objLen(x any) int {
	switch o := x.(type) {
	case map[string]any:
		return len(o)
	case *jnode:
		return int(o.len)
	case Fields:
		return len(o)
	}
	return 0
}

// elems walks the elements of an array value's x ([]any or a decoded
// array) without allocating.
type elems struct {
	a  []any
	it jnodeIter
	i  int
}

func elemsOf(x any) elems {
	switch a := x.(type) {
	case []any:
		return elems{a: a}
	case *jnode:
		return elems{it: a.members()}
	}
	return elems{}
}

// next returns the next element as a value and as a context.
func (e *elems) next() (value, any, bool) {
	if e.it.nd != nil {
		c, ok := e.it.next()
		if !ok {
			return missing, nil, false
		}
		return c.value(), c, true
	}
	if e.i >= len(e.a) {
		return missing, nil, false
	}
	item := e.a[e.i]
	e.i++
	return fromAny(item), item, true
}
