package render

import "strings"

// Kind is the kind of value a template needs at a data path to render it
// as written, as far as the template alone tells: what a request sample
// should put there. Kinds are ordered by how much they demand; a path used
// in several ways gets the most demanding one (a number is also written
// fine, an object may also be tested).
type Kind uint8

const (
	// KindBool is a path only tested: #if, #unless, and/or/not, a
	// mustache section with nothing read below it. true renders the block.
	KindBool Kind = iota + 1
	// KindString is a path written, or passed where any value will do.
	KindString
	// KindDate is formatDate's date: an ISO-8601 string (or epoch
	// milliseconds).
	KindDate
	// KindNumber is formatNumber's value, or a path compared with a
	// number (gt x 10, {%#if x >= 10 %}). Numeric strings pass too.
	KindNumber
	// KindInteger is formatNumber's decimals (0-20) or truncate's length.
	KindInteger
	// KindTimeZone is formatDate's time zone: an IANA name.
	KindTimeZone
	// KindObject is a path read below (a.b), or entered by #with.
	KindObject
	// KindArray is a path iterated by #each (its elements are path[]) or
	// joined.
	KindArray
)

var kindNames = [...]string{"", "boolean", "string", "date", "number", "integer", "timeZone", "object", "array"}

// String returns "boolean", "string", "date", "number", "integer",
// "timeZone", "object" or "array".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Kinds returns the kind of value each path of Variables needs, from how
// the template uses it: numbers for formatNumber and comparisons with a
// number literal, integers for decimals and lengths, dates for
// formatDate, IANA zones for its zone, arrays for #each and join, objects
// for paths read below them or entered by #with, booleans for paths only
// tested, strings otherwise. Uses through default and ?: count for both
// sides. It reads no data.
func (t *Template) Kinds() map[string]Kind {
	k := kinder{kinds: make(map[string]Kind, len(t.vars)), lets: map[int]*expr{}}
	k.nodes(t.root)
	for _, v := range t.vars {
		if _, ok := k.kinds[v]; !ok {
			k.kinds[v] = KindString // read where the walk cannot tell how
		}
	}
	for _, v := range t.vars {
		// A child is written v.x or v.[x y], an element v[].
		for i := 0; i < len(v); i++ {
			switch v[i] {
			case '.':
				k.need(v[:i], KindObject)
			case '[':
				if i > 0 && v[i-1] != '.' && strings.HasPrefix(v[i:], "[]") {
					k.need(v[:i], KindArray)
				}
				if j := strings.IndexByte(v[i:], ']'); j > 0 {
					i += j
				}
			}
		}
	}
	return k.kinds
}

type kinder struct {
	kinds map[string]Kind
	lets  map[int]*expr // {% let %} slot → its expression
}

func (k *kinder) need(path string, kind Kind) {
	if path != "" && kind > k.kinds[path] {
		k.kinds[path] = kind
	}
}

func (k *kinder) nodes(ns []node) {
	for i := range ns {
		n := &ns[i]
		switch n.op {
		case opOut:
			k.expr(n.x, KindString)
		case opLet:
			k.lets[n.slot1] = n.x
			k.expr(n.x, KindString)
		case opIf, opSection:
			k.expr(n.x, KindBool)
		case opEach:
			k.expr(n.x, KindArray)
		case opWith:
			k.expr(n.x, KindObject)
		}
		k.nodes(n.body)
		k.nodes(n.alt)
	}
}

// expr records that x must yield a value of kind want.
func (k *kinder) expr(x *expr, want Kind) {
	if x == nil {
		return
	}
	switch x.kind {
	case xPath, xRoot:
		k.need(x.static, want)
	case xLocal:
		if let, ok := k.lets[x.slot]; ok && x.static == "" && len(x.parts) == 0 {
			// A let variable needs what its uses need of it.
			k.expr(let, want)
			return
		}
		k.need(x.static, want)
	case xDefault:
		k.expr(x.a, want)
		k.expr(x.b, want)
	case xCmp:
		k.compare(x.a, x.b)
	case xAnd, xOr:
		k.expr(x.a, KindBool)
		k.expr(x.b, KindBool)
	case xNot:
		k.expr(x.a, KindBool)
	case xCall:
		k.call(x, want)
	}
}

// compare types the sides of a comparison by a literal on the other side.
func (k *kinder) compare(a, b *expr) {
	k.expr(a, literalKind(b))
	k.expr(b, literalKind(a))
}

func literalKind(x *expr) Kind {
	if x == nil || x.kind != xLit {
		return KindString
	}
	switch x.lit.k {
	case kNum:
		return KindNumber
	case kBool:
		return KindBool
	}
	return KindString
}

func (k *kinder) call(x *expr, want Kind) {
	args := make([]Kind, len(x.args))
	for i := range args {
		args[i] = KindString
	}
	if !x.helper.custom {
		switch x.helper.name {
		case "formatNumber":
			args[0] = KindNumber
			if len(args) > 1 {
				args[1] = KindInteger
			}
		case "formatDate":
			args[0] = KindDate
			if len(args) > 2 {
				args[2] = KindTimeZone
			}
		case "truncate":
			args[1] = KindInteger
		case "join":
			args[0] = KindArray
		case "default":
			args[0], args[1] = want, want
		case "and", "or", "not":
			for i := range args {
				args[i] = KindBool
			}
		case "eq", "ne", "lt", "gt":
			k.compare(x.args[0], x.args[1])
			args = nil
		}
	}
	for i, kind := range args {
		k.expr(x.args[i], kind)
	}
	for _, h := range x.hash {
		k.expr(h.x, KindString)
	}
}
