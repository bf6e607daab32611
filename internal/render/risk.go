package render

import (
	"fmt"
	"math"
	"slices"
)

// Risk is a construct of a template whose cost cannot be bounded from the
// template and the size of its data alone: a string-multiplying helper
// nested in another, or a helper that builds a string once per combination
// of elements of loops over unrelated data. Execute stays within
// WithMaxOutput and WithMaxAlloc whatever the template, so such a template
// is safe to run; but a recipient whose data is large enough gets an
// ErrOutputLimit or ErrAllocLimit instead of a message, which authors
// should hear about before they activate it.
type Risk struct {
	Line, Col int
	Kind      RiskKind
	Msg       string
}

// RiskKind classifies a Risk.
type RiskKind string

const (
	// RiskGrowth: an expression's result may be super-linear in the data
	// (a product of two data values, as replace with a replacement from
	// data), a thousand times larger than it, or, from literals alone,
	// larger than the output cap: typically size-multiplying helpers nested.
	RiskGrowth RiskKind = "growth"
	// RiskLoop: a helper that builds a string runs inside an #each (or
	// section) over data unrelated to the element of the loop around it,
	// as {{#each a}}{{#each @root.b}}, so that it runs len(a)×len(b) times.
	// Loops over nested data ({{#each orders}}{{#each items}}) are not
	// reported: their iterations are bounded by the data.
	RiskLoop RiskKind = "loop"
)

// String returns e.g. `line 1, col 3: helper "replace" …`.
func (r Risk) String() string {
	return fmt.Sprintf("line %d, col %d: %s", r.Line, r.Col, r.Msg)
}

// growthLimit is how many times the size of its data an expression may
// grow before it is reported: an escaping helper on a replacement (6×3×…)
// stays well under it, three nested ×10 replacements reach it.
const growthLimit = 1000

// Risks lists the template's constructs whose cost cannot be bounded
// statically, in source order, at most one of each kind per helper call.
// It is an estimate for review, from the template alone: it reads no data
// and changes nothing Execute does.
func (t *Template) Risks() []Risk {
	a := &analysis{t: t, slots: make([]size, t.nslots), ctx: []size{dataSize}, seen: map[riskAt]bool{}}
	a.nodes(t.root, noCross)
	slices.SortStableFunc(a.risks, func(x, y Risk) int {
		if x.Line != y.Line {
			return x.Line - y.Line
		}
		return x.Col - y.Col
	})
	return a.risks
}

// size bounds the size of a value as fac × D^deg, D being the size of the
// largest data value. Literals have their own length (deg 0).
type size struct {
	deg int
	fac float64
}

var (
	dataSize  = size{deg: 1, fac: 1}
	smallSize = size{fac: 24} // a number, a boolean, a date part
)

func (a size) plus(b size) size {
	switch {
	case a.deg > b.deg:
		return a
	case b.deg > a.deg:
		return b
	}
	return size{a.deg, a.fac + b.fac}
}

func (a size) times(b size) size { return size{a.deg + b.deg, a.fac * b.fac} }

func (a size) scale(f float64) size { return size{a.deg, a.fac * f} }

func (a size) max(b size) size {
	if b.deg > a.deg || b.deg == a.deg && b.fac > a.fac {
		return b
	}
	return a
}

// analysis walks the tree once, tracking the estimated size of block
// params, let variables and context levels.
type analysis struct {
	t     *Template
	slots []size
	ctx   []size
	loops []int // offsets of the enclosing iterating blocks
	risks []Risk
	seen  map[riskAt]bool
}

type riskAt struct {
	off  int
	kind RiskKind
}

func (a *analysis) report(off int, kind RiskKind, format string, args ...any) {
	if a.seen[riskAt{off, kind}] {
		return
	}
	a.seen[riskAt{off, kind}] = true
	line, col := position(a.t.src, off)
	a.risks = append(a.risks, Risk{Line: line, Col: col, Kind: kind, Msg: fmt.Sprintf(format, args...)})
}

// crossing locates the innermost loop whose iterations multiply with
// those of the loop around it: their source offsets, at -1 if none.
type crossing struct{ at, outer int }

var noCross = crossing{-1, -1}

// nodes analyses a body under cross.
func (a *analysis) nodes(ns []node, cross crossing) {
	for i := range ns {
		n := &ns[i]
		switch n.op {
		case opOut:
			a.expr(n.x, cross)
		case opLet:
			a.slots[n.slot1] = a.expr(n.x, cross)
		case opIf:
			a.expr(n.x, cross)
			a.nodes(n.body, cross)
			a.nodes(n.alt, cross)
		case opWith:
			v := a.expr(n.x, cross)
			if n.slot1 >= 0 {
				a.slots[n.slot1] = v
			}
			a.enter(v, n.body, cross)
			a.nodes(n.alt, cross)
		case opEach, opSection:
			v := a.expr(n.x, cross)
			elem := dataSize
			if n.op == opSection {
				elem = v.max(dataSize) // a section may enter its value
			}
			for _, s := range [...]int{n.slot1, n.slot2} {
				if s >= 0 {
					a.slots[s] = dataSize
				}
			}
			inner := cross
			if n.cross && len(a.loops) > 0 {
				inner = crossing{n.off, a.loops[len(a.loops)-1]}
			}
			a.loops = append(a.loops, n.off)
			a.enter(elem, n.body, inner)
			a.loops = a.loops[:len(a.loops)-1]
			a.nodes(n.alt, cross)
		}
	}
}

func (a *analysis) enter(ctx size, body []node, cross crossing) {
	a.ctx = append(a.ctx, ctx)
	a.nodes(body, cross)
	a.ctx = a.ctx[:len(a.ctx)-1]
}

// allocating lists the built-in helpers that build a string.
var allocating = map[string]bool{
	"upper": true, "lower": true, "capitalize": true, "urlEncode": true, "truncate": true, "replace": true,
	"concat": true, "join": true, "formatNumber": true, "formatDate": true, "json": true,
}

func (a *analysis) expr(x *expr, cross crossing) size {
	if x == nil {
		return size{}
	}
	switch x.kind {
	case xLit:
		if x.lit.k == kStr {
			return size{fac: float64(len(x.lit.s))}
		}
		return smallSize
	case xPath:
		if len(x.parts) == 0 && !x.walk {
			if i := len(a.ctx) - 1 - x.depth; i >= 0 {
				return a.ctx[i]
			}
		}
		return dataSize
	case xLocal:
		if len(x.parts) == 0 {
			return a.slots[x.slot]
		}
		return dataSize
	case xRoot:
		return dataSize
	case xData:
		return smallSize
	case xDefault:
		return a.expr(x.a, cross).max(a.expr(x.b, cross))
	case xCmp, xAnd, xOr:
		a.expr(x.a, cross)
		a.expr(x.b, cross)
		return smallSize
	case xNot:
		a.expr(x.a, cross)
		return smallSize
	case xCall:
		return a.call(x, cross)
	}
	return dataSize
}

func (a *analysis) call(x *expr, cross crossing) size {
	args := make([]size, len(x.args))
	risky := false
	for i, arg := range x.args {
		args[i] = a.expr(arg, cross)
		risky = risky || a.risky(args[i])
	}
	hash := map[string]size{}
	for _, h := range x.hash {
		hash[h.key] = a.expr(h.x, cross)
		risky = risky || a.risky(hash[h.key])
	}
	arg := func(i int, def size) size {
		if i < len(args) {
			return args[i]
		}
		return def
	}
	name := x.helper.name
	if cross.at >= 0 && (x.helper.custom || allocating[name]) {
		ol, oc := position(a.t.src, cross.outer)
		cl, cc := position(a.t.src, cross.at)
		a.report(x.off, RiskLoop, "helper %q builds a string for every element of the loop at line %d, col %d times every element of the loop at line %d, col %d, which iterates unrelated data", name, cl, cc, ol, oc)
	}
	var r size
	switch {
	case x.helper.custom:
		for _, s := range args {
			r = r.plus(s)
		}
	case name == "upper" || name == "lower":
		r = arg(0, size{}).scale(1.5)
	case name == "trim":
		r = arg(0, size{})
	case name == "capitalize":
		r = arg(0, size{}).plus(size{fac: 4})
	case name == "urlEncode":
		r = arg(0, size{}).scale(3)
	case name == "json":
		r = arg(0, size{}).scale(6).plus(size{fac: 2})
	case name == "truncate":
		r = arg(0, size{}).plus(arg(2, size{}))
	case name == "replace":
		// Each occurrence of old (at least 1 byte) becomes a copy of new.
		per := arg(2, size{})
		if old := x.args[1]; old.kind == xLit && old.lit.k == kStr && len(old.lit.s) > 0 {
			per = per.scale(1 / float64(len(old.lit.s)))
		}
		r = args[0].max(args[0].times(per))
	case name == "concat":
		for _, s := range args {
			r = r.plus(s)
		}
	case name == "default":
		r = args[0].max(args[1])
	case name == "join":
		// At most one separator per byte of the array.
		r = args[0].plus(args[0].times(arg(1, size{fac: 2})))
	case name == "formatNumber":
		// At most 330 digits, so 110 separators.
		r = size{fac: 350}.plus(size{fac: 110}.times(hash["grouping"])).plus(hash["decimal"])
	case name == "formatDate":
		r = arg(1, size{}).scale(maxDateLetter).plus(smallSize)
	default:
		r = smallSize
	}
	if !risky && a.risky(r) {
		switch {
		case r.deg >= 2:
			a.report(x.off, RiskGrowth, "helper %q may build a string as large as the product of two data values", name)
		case r.deg == 1:
			a.report(x.off, RiskGrowth, "helper %q may build a string %s times the size of its data", name, approx(r.fac))
		default:
			a.report(x.off, RiskGrowth, "helper %q builds a string of about %s bytes, over the %d-byte output cap", name, approx(r.fac), a.t.maxOutput)
		}
	}
	return r
}

func (a *analysis) risky(s size) bool {
	switch {
	case s.deg >= 2:
		return true
	case s.deg == 1:
		return s.fac >= growthLimit
	}
	return s.fac > float64(a.t.maxOutput)
}

// approx writes a large factor readably: 1000, 1e+08.
func approx(f float64) string {
	if f >= 1e6 || math.IsInf(f, 0) {
		return fmt.Sprintf("%.0e", f)
	}
	return fmt.Sprintf("%.0f", f)
}
