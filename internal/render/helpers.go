package render

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
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

// customHelper adapts a public Helper to the internal calling convention.
func customHelper(name string, fn Helper) *helperDef {
	return &helperDef{name: name, min: 0, max: -1, fn: func(_ *state, args []value, hash []hashVal) (value, error) {
		in := make([]any, len(args))
		for i, a := range args {
			in[i] = a.toAny()
		}
		var h map[string]any
		if len(hash) > 0 {
			h = make(map[string]any, len(hash))
			for _, kv := range hash {
				h[kv.key] = kv.v.toAny()
			}
		}
		out, err := fn(in, h)
		if err != nil {
			return missing, err
		}
		return fromAny(out), nil
	}}
}

func str1(f func(string) string) func(*state, []value, []hashVal) (value, error) {
	return func(_ *state, args []value, _ []hashVal) (value, error) {
		if !args[0].present() {
			return strValue(""), nil
		}
		return strValue(f(args[0].String())), nil
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

func toInt(v value, what string) (int, error) {
	f, ok := toNumber(v)
	if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<30 {
		return 0, fmt.Errorf("%s must be an integer, got %q", what, v.String())
	}
	return int(f), nil
}

var builtins = map[string]*helperDef{
	"upper":      {name: "upper", min: 1, max: 1, fn: str1(strings.ToUpper)},
	"lower":      {name: "lower", min: 1, max: 1, fn: str1(strings.ToLower)},
	"trim":       {name: "trim", min: 1, max: 1, fn: str1(strings.TrimSpace)},
	"capitalize": {name: "capitalize", min: 1, max: 1, fn: str1(capitalize)},
	"urlEncode":  {name: "urlEncode", min: 1, max: 1, fn: str1(url.QueryEscape)},
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

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError || unicode.IsUpper(r) {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// truncate cuts s to n runes, appending the optional suffix when it cut.
func truncate(_ *state, args []value, _ []hashVal) (value, error) {
	n, err := toInt(args[1], "truncate length")
	if err != nil {
		return missing, err
	}
	s := args[0].String()
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
		return strValue(s[:i] + args[2].String()), nil
	}
	return strValue(s[:i]), nil
}

func replace(_ *state, args []value, _ []hashVal) (value, error) {
	old := args[1].String()
	if old == "" {
		return strValue(args[0].String()), nil
	}
	return strValue(strings.ReplaceAll(args[0].String(), old, args[2].String())), nil
}

func concat(st *state, args []value, _ []hashVal) (value, error) {
	b := st.scratch[:0]
	for _, a := range args {
		b = appendText(b, a)
	}
	st.scratch = b
	return strValue(string(b)), nil
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
		sep = args[1].String()
	}
	if args[0].k != kArr {
		return strValue(args[0].String()), nil
	}
	b := st.scratch[:0]
	for i, e := range args[0].x.([]any) {
		if i > 0 {
			b = append(b, sep...)
		}
		b = appendText(b, fromAny(e))
	}
	st.scratch = b
	return strValue(string(b)), nil
}

func length(_ *state, args []value, _ []hashVal) (value, error) {
	v := args[0]
	switch v.k {
	case kStr, kSafe:
		return numValue(float64(utf8.RuneCountInString(v.s))), nil
	case kArr:
		return numValue(float64(len(v.x.([]any)))), nil
	case kObj:
		return numValue(float64(len(v.x.(map[string]any)))), nil
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
// as many as needed) and optional grouping="," and decimal="," separators.
func formatNumber(st *state, args []value, hash []hashVal) (value, error) {
	if !args[0].present() {
		return strValue(""), nil
	}
	f, ok := toNumber(args[0])
	if !ok {
		return missing, fmt.Errorf("not a number: %q", args[0].String())
	}
	prec := -1
	if len(args) > 1 {
		p, err := toInt(args[1], "decimals")
		if err != nil {
			return missing, err
		}
		if p < 0 || p > 20 {
			return missing, errors.New("decimals must be between 0 and 20")
		}
		prec = p
	}
	var num []byte
	if prec < 0 {
		num = appendNumber(st.scratch[:0], f)
	} else {
		num = strconv.AppendFloat(st.scratch[:0], f, 'f', prec, 64)
	}
	st.scratch = num
	group, _ := hashGet(hash, "grouping")
	dec, _ := hashGet(hash, "decimal")
	if !group.present() && !dec.present() {
		return strValue(string(num)), nil
	}
	s := string(num)
	intPart, frac := s, ""
	if i := strings.IndexByte(s, '.'); i >= 0 {
		intPart, frac = s[:i], s[i+1:]
	}
	sign := ""
	if strings.HasPrefix(intPart, "-") {
		sign, intPart = "-", intPart[1:]
	}
	var b strings.Builder
	b.WriteString(sign)
	sep := group.String()
	if !group.present() || strings.ContainsAny(intPart, "eE") {
		sep = ""
	}
	for i := range len(intPart) {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteByte(intPart[i])
	}
	if frac != "" {
		if dec.present() {
			b.WriteString(dec.String())
		} else {
			b.WriteByte('.')
		}
		b.WriteString(frac)
	}
	return strValue(b.String()), nil
}

func jsonHelper(_ *state, args []value, _ []hashVal) (value, error) {
	if args[0].k == kMissing {
		return strValue(""), nil
	}
	b, err := json.Marshal(args[0].toAny())
	if err != nil {
		return missing, err
	}
	return strValue(string(b)), nil
}
