package render

import (
	"bytes"
	"encoding/json"
	"math"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// hashVal is an evaluated key=value argument.
type hashVal struct {
	key string
	v   value
}

// helperDef is a helper resolved at parse time. min and max bound the
// positional arguments (max -1: variadic), so arity errors are parse errors.
type helperDef struct {
	name         string
	min, max     int
	lenientFirst bool // strict mode: the first argument may be missing
	custom       bool // registered with WithHelpers, so name says nothing of what it does
	fn           func(st *state, args []value, hash []hashVal) (value, error)
}

func hashGet(h []hashVal, key string) (value, bool) {
	for _, kv := range h {
		if kv.key == key {
			return kv.v, true
		}
	}
	return missing, false
}

// argCost is what boxing one argument for a custom helper is charged: the
// slice or map slot and the boxed value.
const argCost = 32

// customHelper adapts a public Helper to the internal calling convention.
// The engine cannot see inside fn: it charges the boxing of the arguments
// before the call and the size of a string or array result after it.
func customHelper(name string, fn Helper) *helperDef {
	return &helperDef{name: name, min: 0, max: -1, custom: true, fn: func(st *state, args []value, hash []hashVal) (value, error) {
		if err := st.need(argCost * (len(args) + 2*len(hash))); err != nil {
			return missing, err
		}
		in := make([]any, len(args))
		for i, a := range args {
			in[i] = a.plainAny()
		}
		var h map[string]any
		if len(hash) > 0 {
			h = make(map[string]any, len(hash))
			for _, kv := range hash {
				h[kv.key] = kv.v.plainAny()
			}
		}
		out, err := fn(in, h)
		if err != nil {
			return missing, err
		}
		v := fromAny(out)
		switch v.k {
		case kStr, kSafe, kArr:
			err = st.need(textLen(v))
		}
		if err != nil {
			return missing, err
		}
		return v, nil
	}}
}

// str returns v's string form, charging it first when it has to be built.
func (st *state) str(v value) (string, error) {
	switch {
	case v.k == kStr || v.k == kSafe:
		return v.s, nil
	case v.k == kNum && v.s != "":
		return v.s, nil
	}
	n := textLen(v)
	if err := st.need(n); err != nil {
		return "", err
	}
	var b strings.Builder
	b.Grow(n)
	writeText(&b, v)
	return b.String(), nil
}

// writeText is appendText for a strings.Builder, so that a string of a
// known size is built in one allocation.
func writeText(b *strings.Builder, v value) {
	switch v.k {
	case kStr, kSafe:
		b.WriteString(v.s)
	case kArr:
		for it, i := elemsOf(v.x), 0; ; i++ {
			ev, _, ok := it.next()
			if !ok {
				break
			}
			if i > 0 {
				b.WriteByte(',')
			}
			if ev.k != kNull {
				writeText(b, ev)
			}
		}
	default:
		var tmp [32]byte
		b.Write(appendText(tmp[:0], v))
	}
}

// str1 adapts a helper of one string, which it receives as "" when missing.
func str1(f func(*state, string) (string, error)) func(*state, []value, []hashVal) (value, error) {
	return func(st *state, args []value, _ []hashVal) (value, error) {
		if !args[0].present() {
			return strValue(""), nil
		}
		s, err := st.str(args[0])
		if err != nil {
			return missing, err
		}
		if s, err = f(st, s); err != nil {
			return missing, err
		}
		return strValue(s), nil
	}
}

// toNumber converts numbers and numeric strings; ok is false otherwise.
func toNumber(v value) (float64, bool) {
	switch v.k {
	case kNum:
		return v.n, true
	case kStr:
		f, err := strconv.ParseFloat(strings.TrimSpace(v.s), 64)
		return f, err == nil
	}
	return 0, false
}

// toInt reads an integer argument. Its error names the argument, never the
// value, which may be personal data.
func toInt(v value, what string) (int, error) {
	f, ok := toNumber(v)
	if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<30 {
		return 0, constError(what + " must be an integer")
	}
	return int(f), nil
}

var (
	builtinsOnce sync.Once
	builtinsMap  map[string]*helperDef
)

// builtins are the engine's helpers, built by the first Parse. A plain
// function rather than a package variable, so that nothing at init refers
// to them: a function that parses no template (Reports, Webhook, …) links
// none of them, nor what they call (dates and zones, numbers, JSON).
func builtins() map[string]*helperDef {
	builtinsOnce.Do(func() { builtinsMap = newBuiltins() })
	return builtinsMap
}

func newBuiltins() map[string]*helperDef {
	return map[string]*helperDef{
		"upper":      {name: "upper", min: 1, max: 1, fn: str1(func(st *state, s string) (string, error) { return mapCase(st, s, strings.ToUpper, unicode.ToUpper) })},
		"lower":      {name: "lower", min: 1, max: 1, fn: str1(func(st *state, s string) (string, error) { return mapCase(st, s, strings.ToLower, unicode.ToLower) })},
		"trim":       {name: "trim", min: 1, max: 1, fn: str1(func(_ *state, s string) (string, error) { return strings.TrimSpace(s), nil })},
		"capitalize": {name: "capitalize", min: 1, max: 1, fn: str1(capitalize)},
		"urlEncode":  {name: "urlEncode", min: 1, max: 1, fn: str1(urlEncode)},
		"truncate":   {name: "truncate", min: 2, max: 3, fn: truncate},
		"replace":    {name: "replace", min: 3, max: 3, fn: replace},
		"concat":     {name: "concat", min: 1, max: -1, fn: concat},
		"default":    {name: "default", min: 2, max: 2, lenientFirst: true, fn: defaultHelper},
		"join":       {name: "join", min: 1, max: 2, fn: join},
		"length":     {name: "length", min: 1, max: 1, fn: length},
		"eq":         {name: "eq", min: 2, max: 2, fn: cmpHelper(cmpEq)},
		"ne":         {name: "ne", min: 2, max: 2, fn: cmpHelper(cmpNe)},
		"lt":         {name: "lt", min: 2, max: 2, fn: cmpHelper(cmpLt)},
		"gt":         {name: "gt", min: 2, max: 2, fn: cmpHelper(cmpGt)},
		"and":        {name: "and", min: 1, max: -1, fn: logic(true)},
		"or":         {name: "or", min: 1, max: -1, fn: logic(false)},
		"not": {name: "not", min: 1, max: 1, fn: func(_ *state, args []value, _ []hashVal) (value, error) {
			return boolValue(!args[0].truthy(false)), nil
		}},
		"formatNumber": {name: "formatNumber", min: 1, max: 2, fn: formatNumber},
		"formatDate":   {name: "formatDate", min: 2, max: 3, fn: formatDateHelper},
		"json":         {name: "json", min: 1, max: 1, fn: jsonHelper},
	}
}

// mapCase is ascii (strings.ToUpper or ToLower) with the result charged
// before it is built: mapping a rune may lengthen it (ɐ is 2 bytes, Ɐ 3).
// It returns what ascii would: each rune mapped by f, invalid bytes as
// U+FFFD, s itself when nothing changes.
func mapCase(st *state, s string, ascii func(string) string, f func(rune) rune) (string, error) {
	i := 0
	for i < len(s) && s[i] < utf8.RuneSelf {
		i++
	}
	if i == len(s) {
		if err := st.need(len(s)); err != nil {
			return "", err
		}
		return ascii(s), nil
	}
	n, changed := 0, false
	for i, c := range s {
		r := f(c)
		if r != c || c == utf8.RuneError && !strings.HasPrefix(s[i:], string(utf8.RuneError)) {
			changed = true
		}
		n += utf8.RuneLen(r)
	}
	if !changed {
		return s, nil
	}
	if err := st.need(n); err != nil {
		return "", err
	}
	var b strings.Builder
	b.Grow(n)
	for _, c := range s {
		b.WriteRune(f(c))
	}
	return b.String(), nil
}

func capitalize(st *state, s string) (string, error) {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError || unicode.IsUpper(r) {
		return s, nil
	}
	u := unicode.ToUpper(r)
	if u == r {
		return s, nil
	}
	if err := st.need(utf8.RuneLen(u) + len(s) - n); err != nil {
		return "", err
	}
	return string(u) + s[n:], nil
}

// urlEncode is url.QueryEscape, which escapes every byte but letters,
// digits and -_.~ as %XX, except spaces, which become +.
func urlEncode(st *state, s string) (string, error) {
	n := len(s)
	for i := 0; i < len(s); i++ {
		if c := s[i]; !queryUnreserved(c) && c != ' ' {
			n += 2
		}
	}
	if n > len(s) || strings.IndexByte(s, ' ') >= 0 {
		if err := st.need(n); err != nil {
			return "", err
		}
	}
	return url.QueryEscape(s), nil
}

func queryUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~'
}

// truncate cuts s to n runes, appending the optional suffix when it cut.
func truncate(st *state, args []value, _ []hashVal) (value, error) {
	n, err := toInt(args[1], "truncate length")
	if err != nil {
		return missing, err
	}
	s, err := st.str(args[0])
	if err != nil {
		return missing, err
	}
	if n < 0 {
		n = 0
	}
	i, count := 0, 0
	for i < len(s) && count < n {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		count++
	}
	if i >= len(s) {
		return strValue(s), nil
	}
	if len(args) > 2 {
		suffix, err := st.str(args[2])
		if err != nil {
			return missing, err
		}
		if err := st.need(i + len(suffix)); err != nil {
			return missing, err
		}
		return strValue(s[:i] + suffix), nil
	}
	return strValue(s[:i]), nil
}

// replace measures its result (occurrences × growth) before building it,
// since nesting it multiplies: each level of {{replace (replace …) "a"
// "aaaaaaaaaa"}} is ten times the one inside.
func replace(st *state, args []value, _ []hashVal) (value, error) {
	s, err := st.str(args[0])
	if err != nil {
		return missing, err
	}
	old, err := st.str(args[1])
	if err != nil {
		return missing, err
	}
	repl, err := st.str(args[2])
	if err != nil {
		return missing, err
	}
	if old == "" {
		return strValue(s), nil
	}
	count := strings.Count(s, old)
	if count == 0 {
		return strValue(s), nil
	}
	if grow := len(repl) - len(old); grow > 0 && count > (st.t.maxOutput-len(s))/grow {
		return missing, ErrOutputLimit
	}
	if err := st.need(len(s) + count*(len(repl)-len(old))); err != nil {
		return missing, err
	}
	return strValue(strings.ReplaceAll(s, old, repl)), nil
}

func concat(st *state, args []value, _ []hashVal) (value, error) {
	n := 0
	for _, a := range args {
		n += textLen(a)
	}
	if err := st.need(n); err != nil {
		return missing, err
	}
	var b strings.Builder
	b.Grow(n)
	for _, a := range args {
		writeText(&b, a)
	}
	return strValue(b.String()), nil
}

func defaultHelper(_ *state, args []value, _ []hashVal) (value, error) {
	if args[0].present() {
		return args[0], nil
	}
	return args[1], nil
}

func join(st *state, args []value, _ []hashVal) (value, error) {
	sep := ", "
	if len(args) > 1 {
		var err error
		if sep, err = st.str(args[1]); err != nil {
			return missing, err
		}
	}
	if args[0].k != kArr {
		s, err := st.str(args[0])
		return strValue(s), err
	}
	arr := args[0].x
	count := arrLen(arr)
	if count > 1 && len(sep) > st.t.maxOutput/(count-1) {
		return missing, ErrOutputLimit
	}
	n := max(count-1, 0) * len(sep)
	for it := elemsOf(arr); ; {
		ev, _, ok := it.next()
		if !ok {
			break
		}
		n += textLen(ev)
	}
	if err := st.need(n); err != nil {
		return missing, err
	}
	var b strings.Builder
	b.Grow(n)
	for it, i := elemsOf(arr), 0; ; i++ {
		ev, _, ok := it.next()
		if !ok {
			break
		}
		if i > 0 {
			b.WriteString(sep)
		}
		if ev.k != kNull {
			writeText(&b, ev)
		}
	}
	return strValue(b.String()), nil
}

func length(_ *state, args []value, _ []hashVal) (value, error) {
	v := args[0]
	switch v.k {
	case kStr, kSafe:
		return numValue(float64(utf8.RuneCountInString(v.s))), nil
	case kArr:
		return numValue(float64(arrLen(v.x))), nil
	case kObj:
		return numValue(float64(objLen(v.x))), nil
	}
	return numValue(0), nil
}

func cmpHelper(op cmpOp) func(*state, []value, []hashVal) (value, error) {
	return func(_ *state, args []value, _ []hashVal) (value, error) {
		return boolValue(compareOp(op, args[0], args[1])), nil
	}
}

func logic(all bool) func(*state, []value, []hashVal) (value, error) {
	return func(_ *state, args []value, _ []hashVal) (value, error) {
		for _, a := range args {
			if a.truthy(false) != all {
				return boolValue(!all), nil
			}
		}
		return boolValue(all), nil
	}
}

// formatNumber renders a number with a fixed number of decimals (default:
// as many as needed) and optional grouping="," and decimal="," separators;
// a template parsed WithLocale has its locale's separators where it passes
// none. Separators may come from data, so the result is measured first.
func formatNumber(st *state, args []value, hash []hashVal) (value, error) {
	if !args[0].present() {
		return strValue(""), nil
	}
	f, ok := toNumber(args[0])
	if !ok {
		return missing, constError("not a number")
	}
	prec := -1
	if len(args) > 1 {
		p, err := toInt(args[1], "decimals")
		if err != nil {
			return missing, err
		}
		if p < 0 || p > 20 {
			return missing, constError("decimals must be between 0 and 20")
		}
		prec = p
	}
	// At most 330 bytes (1e308 with 20 decimals).
	var num []byte
	if prec < 0 {
		num = appendNumber(st.scratch[:0], f)
	} else {
		num = strconv.AppendFloat(st.scratch[:0], f, 'f', prec, 64)
	}
	st.scratch = num
	group, _ := hashGet(hash, "grouping")
	dec, _ := hashGet(hash, "decimal")
	loc := st.t.locale
	if !group.present() && !dec.present() && loc == nil {
		if err := st.need(len(num)); err != nil {
			return missing, err
		}
		return strValue(string(num)), nil
	}
	intPart, frac := num, []byte(nil)
	if i := bytes.IndexByte(num, '.'); i >= 0 {
		intPart, frac = num[:i], num[i+1:]
	}
	sign := 0
	if len(intPart) > 0 && intPart[0] == '-' {
		sign, intPart = 1, intPart[1:]
	}
	sep, decSep := "", "."
	if loc != nil && !bytes.ContainsAny(intPart, "eE") {
		// A separator the template does not pass is the locale's.
		sep, decSep = loc.Group, loc.Decimal
	}
	var err error
	if group.present() && !bytes.ContainsAny(intPart, "eE") {
		if sep, err = st.str(group); err != nil {
			return missing, err
		}
	}
	if dec.present() {
		if decSep, err = st.str(dec); err != nil {
			return missing, err
		}
	}
	groups := (len(intPart) - 1) / 3
	if len(sep) > 0 && groups > 0 && len(sep) > st.t.maxOutput/groups {
		return missing, ErrOutputLimit
	}
	n := sign + len(intPart) + groups*len(sep)
	if len(frac) > 0 {
		n += len(decSep) + len(frac)
	}
	if err := st.need(n); err != nil {
		return missing, err
	}
	var b strings.Builder
	b.Grow(n)
	if sign > 0 {
		b.WriteByte('-')
	}
	for i := range len(intPart) {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteByte(intPart[i])
	}
	if len(frac) > 0 {
		b.WriteString(decSep)
		b.Write(frac)
	}
	return strValue(b.String()), nil
}

// errJSON replaces encoding/json's errors, which may quote the value.
var errJSON = constError("value cannot be encoded as JSON")

// jsonHelper encodes as json.Marshal does, measuring the result first.
// FuzzParseExecute checks that it matches json.Marshal.
func jsonHelper(st *state, args []value, _ []hashVal) (value, error) {
	if args[0].k == kMissing {
		return strValue(""), nil
	}
	v := args[0].toAny()
	n, ok := jsonLen(v)
	if !ok {
		// Values of Go types outside the JSON data model, which only the
		// caller's data holds: charged once encoded.
		b, err := json.Marshal(v)
		if err != nil {
			return missing, errJSON
		}
		if err := st.need(len(b)); err != nil {
			return missing, err
		}
		return strValue(string(b)), nil
	}
	if err := st.need(n); err != nil {
		return missing, err
	}
	var b strings.Builder
	b.Grow(n)
	st.writeJSON(&b, v)
	return strValue(b.String()), nil
}
