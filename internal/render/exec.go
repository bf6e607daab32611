package render

import (
	"slices"
)

// frame is one context level: the root, an #each element, a #with or
// section value. Iteration frames also carry the @index/@key data.
type frame struct {
	ctx   any
	idx   int
	n     int
	key   string
	iter  bool
	keyed bool
}

// state is the per-Execute scratch space, pooled per template so that
// rendering allocates nothing of its own in the steady state.
type state struct {
	t       *Template
	buf     []byte
	frames  []frame
	slots   []value
	hints   []int32 // per path segment, where it was last found (see member)
	args    []value
	hash    []hashVal
	keys    []string
	scratch []byte
	steps   int
	lim     int // min(cap(buf), maxOutput): below it, a write needs no check
	alloc   int // bytes charged to WithMaxAlloc by helpers
	at      int // source offset of the helper being called, for ErrPanic
	mark    int // buf offset where the URL attribute value being written starts, or -1
	root    any
}

// maxPooledBuf keeps one unusually large message from pinning memory.
const maxPooledBuf = 256 << 10

func (t *Template) getState() *state {
	if st, ok := t.pool.Get().(*state); ok {
		return st
	}
	return &state{t: t, buf: make([]byte, 0, 1024), frames: make([]frame, 0, 8)}
}

func (t *Template) putState(st *state) {
	if cap(st.buf) > maxPooledBuf {
		st.buf = make([]byte, 0, 1024)
	}
	if cap(st.scratch) > maxPooledBuf {
		st.scratch = nil
	}
	clear(st.frames[:cap(st.frames)])
	clear(st.slots)
	clear(st.args[:cap(st.args)])
	clear(st.hash[:cap(st.hash)])
	st.root = nil
	t.pool.Put(st)
}

func (st *state) run(data any) error {
	st.buf = st.buf[:0]
	if o, ok := data.(Object); ok && o.n != nil {
		data = o.n // the same data, as the contexts inside it are held
	}
	st.frames = append(st.frames[:0], frame{ctx: data})
	st.root = data
	if n := st.t.nslots; cap(st.slots) < n {
		st.slots = make([]value, n)
	} else {
		st.slots = st.slots[:n]
	}
	if n := st.t.nhints; len(st.hints) != n {
		st.hints = make([]int32, n)
	}
	st.steps, st.alloc, st.at, st.mark = 0, 0, 0, -1
	st.lim = min(cap(st.buf), st.t.maxOutput)
	return st.exec(st.t.root)
}

// need charges n bytes that a helper is about to allocate for a string it
// builds, before it builds it. No string may be larger than the output cap,
// since it could not be written, so nested helpers cannot multiply past it;
// and the strings of one Execute together may not exceed the allocation
// budget, since a template can build strings it never writes.
func (st *state) need(n int) error {
	if n > st.t.maxOutput || n < 0 {
		return ErrOutputLimit
	}
	return st.charge(n)
}

// charge counts n bytes against the allocation budget.
func (st *state) charge(n int) error {
	st.alloc += n
	if st.alloc > st.t.maxAlloc {
		return ErrAllocLimit
	}
	return nil
}

// room makes sure n more bytes fit in the output, growing the buffer by
// doubling but never past the cap, so a render holds at most twice its
// output; it fails with ErrOutputLimit beyond the cap.
func (st *state) room(n int) error {
	want := len(st.buf) + n
	if want > st.t.maxOutput || n < 0 {
		return ErrOutputLimit
	}
	if want > cap(st.buf) {
		b := make([]byte, len(st.buf), min(max(2*cap(st.buf), want), st.t.maxOutput))
		copy(b, st.buf)
		st.buf = b
		st.lim = min(cap(st.buf), st.t.maxOutput)
	}
	return nil
}

// put appends s to the output within the cap. The check below st.lim is
// all most writes pay; the rest is out of line, so put inlines.
func (st *state) put(s string) error {
	if len(st.buf)+len(s) > st.lim {
		return st.putSlow(s)
	}
	st.buf = append(st.buf, s...)
	return nil
}

func (st *state) putSlow(s string) error {
	if err := st.room(len(s)); err != nil {
		return err
	}
	st.buf = append(st.buf, s...)
	return nil
}

// putEscaped appends s escaped within the cap. Escaping at most sextuples
// a byte, so when that much fits, nothing is measured.
func (st *state) putEscaped(s string) error {
	i := escapeIndex(s)
	if i == len(s) {
		return st.put(s)
	}
	if len(st.buf)+6*len(s) > st.lim {
		if err := st.room(escapedLen(s)); err != nil {
			return err
		}
	}
	st.buf = appendEscaped(append(st.buf, s[:i]...), s[i:])
	return nil
}

// putString is put or putEscaped.
func (st *state) putString(s string, escape bool) error {
	if escape {
		return st.putEscaped(s)
	}
	return st.put(s)
}

// putBytes and putEscapedBytes are put and putEscaped for a value's text
// built in st.scratch.
func (st *state) putBytes(b []byte) error {
	if err := st.room(len(b)); err != nil {
		return err
	}
	st.buf = append(st.buf, b...)
	return nil
}

func (st *state) putEscapedBytes(b []byte) error {
	if err := st.room(escapedLen(b)); err != nil {
		return err
	}
	st.buf = appendEscaped(st.buf, b)
	return nil
}

// text returns v's string form in st.scratch, charging the output cap
// before building it.
func (st *state) text(v value) ([]byte, error) {
	n := textLen(v)
	if n > st.t.maxOutput {
		return nil, ErrOutputLimit
	}
	if cap(st.scratch) < n {
		if err := st.need(n); err != nil {
			return nil, err
		}
		st.scratch = make([]byte, 0, n)
	}
	st.scratch = appendText(st.scratch[:0], v)
	return st.scratch, nil
}

func (st *state) fail(off int, path string, err error) error {
	line, col := position(st.t.src, off)
	return &ExecError{Line: line, Col: col, Path: path, Err: err}
}

func (st *state) exec(nodes []node) error {
	for i := range nodes {
		n := &nodes[i]
		st.steps++
		if st.steps > st.t.maxSteps {
			return st.fail(n.off, "", ErrStepLimit)
		}
		var err error
		switch n.op {
		case opText:
			if err = st.put(n.text); err != nil {
				return st.fail(n.off, "", err)
			}
			if n.urlAt != urlKeep {
				st.markURL(n)
			}
		case opOut:
			err = st.out(n)
		case opIf:
			var v value
			if v, err = st.eval(n.x); err == nil {
				if v.truthy(n.includeZero) != n.negate {
					err = st.exec(n.body)
				} else if n.alt != nil {
					err = st.exec(n.alt)
				}
			}
		case opEach:
			err = st.each(n)
		case opWith:
			err = st.with(n)
		case opSection:
			err = st.section(n)
		case opLet:
			var v value
			if v, err = st.eval(n.x); err == nil {
				st.slots[n.slot1] = v
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// out runs an output tag. A path to a string or a number in decoded
// objects, maps and Fields, the common case, is written as it is found;
// anything else is evaluated and written as a value.
func (st *state) out(n *node) error {
	x := n.x
	if x.kind == xPath && !x.walk && !n.url {
		if top := len(st.frames) - 1 - x.depth; top >= 0 {
			if done, err := st.writePath(x, st.frames[top].ctx, 0, n.escape); done {
				if err != nil {
					return st.fail(n.off, "", err)
				}
				return nil
			}
		}
	}
	v, err := st.eval(x)
	if err != nil {
		return err
	}
	if n.url {
		err = st.writeURL(v, n.escape)
	} else {
		err = st.write(v, n.escape)
	}
	if err != nil {
		return st.fail(n.off, "", err)
	}
	return nil
}

// writePath writes what x.parts[i:] names in ctx if it is a string or a
// number reached through decoded objects, maps and Fields, as write would,
// and reports whether it did; it writes nothing otherwise.
func (st *state) writePath(x *expr, ctx any, i int, escape bool) (bool, error) {
	switch c := ctx.(type) {
	case *jnode:
		if m := st.member(x, c, i); m != nil && (m.k == kStr || m.k == kNum && m.s != "") {
			if escape && m.k == kStr && !m.b { // see jnode.b
				return true, st.putEscaped(m.s)
			}
			return true, st.put(m.s)
		}
	case map[string]any:
		switch v := mapPath(c, x.parts[i:]).(type) {
		case string:
			return true, st.putString(v, escape)
		case float64:
			var tmp [32]byte
			return true, st.putBytes(appendNumber(tmp[:0], v))
		}
	case Object:
		if c.n != nil {
			return st.writePath(x, c.n, i, escape)
		}
	case Fields:
		if i < len(x.parts) {
			for j := range c {
				if c[j].Name == x.parts[i] {
					return st.writePath(x, c[j].Value, i+1, escape)
				}
			}
		}
	}
	return false, nil
}

// mapPath is the value parts names through nested maps, or nil for
// anything else, which walk then resolves.
func mapPath(m map[string]any, parts []string) any {
	var cur any = m
	for _, p := range parts {
		c, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		if cur, ok = c[p]; !ok {
			return nil
		}
	}
	return cur
}

// iterate runs body once per element of an array or member of an object:
// a decoded Object's in JavaScript's order, as Handlebars iterates; Fields
// in their order; a map's in sorted key order, since a map has none.
func (st *state) iterate(n *node, v value) error {
	switch v.k {
	case kArr:
		top := len(st.frames)
		st.frames = append(st.frames, frame{iter: true, n: arrLen(v.x)})
		for it, i := elemsOf(v.x), 0; ; i++ {
			ev, item, ok := it.next()
			if !ok {
				break
			}
			f := &st.frames[top]
			f.ctx, f.idx = item, i
			if err := st.iteration(n, ev, numValue(float64(i))); err != nil {
				return err
			}
		}
		st.frames = st.frames[:top]
	case kObj:
		top := len(st.frames)
		st.frames = append(st.frames, frame{iter: true, keyed: true, n: objLen(v.x)})
		switch o := v.x.(type) {
		case *jnode:
			for it, i := o.members(), 0; ; i++ {
				m, ok := it.next()
				if !ok {
					break
				}
				f := &st.frames[top]
				f.ctx, f.idx, f.key = m, i, m.key
				if err := st.iteration(n, m.value(), strValue(m.key)); err != nil {
					return err
				}
			}
		case Fields:
			for i := range o {
				f := &st.frames[top]
				f.ctx, f.idx, f.key = o[i].Value, i, o[i].Name
				if err := st.iteration(n, fromAny(o[i].Value), strValue(o[i].Name)); err != nil {
					return err
				}
			}
		case map[string]any:
			base := len(st.keys)
			for k := range o {
				st.keys = append(st.keys, k)
			}
			slices.Sort(st.keys[base:])
			for i := range len(o) {
				key := st.keys[base+i]
				item := o[key]
				f := &st.frames[top]
				f.ctx, f.idx, f.key = item, i, key
				if err := st.iteration(n, fromAny(item), strValue(key)); err != nil {
					return err
				}
			}
			st.keys = st.keys[:base]
		}
		st.frames = st.frames[:top]
	}
	return nil
}

// iteration runs body for one element, setting the block params.
func (st *state) iteration(n *node, item, index value) error {
	if n.slot1 >= 0 {
		st.slots[n.slot1] = item
	}
	if n.slot2 >= 0 {
		st.slots[n.slot2] = index
	}
	return st.exec(n.body)
}

func (st *state) each(n *node) error {
	v, err := st.eval(n.x)
	if err != nil {
		return err
	}
	switch {
	case v.k == kArr && arrLen(v.x) > 0, v.k == kObj && objLen(v.x) > 0:
		return st.iterate(n, v)
	}
	return st.exec(n.alt)
}

func (st *state) with(n *node) error {
	v, err := st.eval(n.x)
	if err != nil {
		return err
	}
	if !v.truthy(true) {
		return st.exec(n.alt)
	}
	return st.enter(n, v)
}

func (st *state) enter(n *node, v value) error {
	if v.x == nil && (v.k == kStr || v.k == kSafe || v.k == kNum) {
		// A helper's result becomes a context: boxing it allocates.
		if err := st.charge(16); err != nil {
			return st.fail(n.off, "", err)
		}
	}
	st.frames = append(st.frames, frame{ctx: v.ctxAny()})
	if n.slot1 >= 0 {
		st.slots[n.slot1] = v
	}
	err := st.exec(n.body)
	st.frames = st.frames[:len(st.frames)-1]
	return err
}

// section implements mustache sections the way Handlebars'
// blockHelperMissing does: true renders in the current context, false and
// null render the inverse, arrays iterate, anything else becomes the context.
func (st *state) section(n *node) error {
	v, err := st.eval(n.x)
	if err != nil {
		return err
	}
	switch v.k {
	case kBool:
		if v.b {
			return st.exec(n.body)
		}
		return st.exec(n.alt)
	case kNull, kMissing:
		return st.exec(n.alt)
	case kArr:
		if arrLen(v.x) == 0 {
			return st.exec(n.alt)
		}
		return st.iterate(n, v)
	}
	return st.enter(n, v)
}

func (st *state) missing(x *expr) (value, error) {
	if st.t.strict && !x.lenient {
		return missing, st.fail(x.off, x.text, ErrMissing)
	}
	return missing, nil
}

func (st *state) eval(x *expr) (value, error) {
	switch x.kind {
	case xLit:
		return x.lit, nil
	case xPath:
		top := len(st.frames) - 1 - x.depth
		if top < 0 {
			return st.missing(x)
		}
		cur := st.frames[top].ctx
		if nd, ok := cur.(*jnode); ok && !x.walk {
			if m := st.member(x, nd, 0); m != nil {
				return m.value(), nil
			}
		}
		parts := x.parts
		if x.walk {
			found := false
			for i := top; i >= 0; i-- {
				if c, ok := lookup(st.frames[i].ctx, parts[0]); ok {
					cur, parts, found = c, parts[1:], true
					break
				}
			}
			if !found {
				return st.missing(x)
			}
		}
		return st.walk(x, cur, parts)
	case xRoot:
		return st.walk(x, st.root, x.parts)
	case xLocal:
		v := st.slots[x.slot]
		if len(x.parts) == 0 {
			if v.k == kMissing {
				return st.missing(x)
			}
			return v, nil
		}
		return st.walk(x, v.ctxAny(), x.parts)
	case xData:
		d := x.depth
		for i := len(st.frames) - 1; i >= 0; i-- {
			f := &st.frames[i]
			if !f.iter {
				continue
			}
			if d > 0 {
				d--
				continue
			}
			switch x.data {
			case dIndex:
				return numValue(float64(f.idx)), nil
			case dKey:
				if f.keyed {
					return strValue(f.key), nil
				}
				return numValue(float64(f.idx)), nil
			case dFirst:
				return boolValue(f.idx == 0), nil
			default:
				return boolValue(f.idx == f.n-1), nil
			}
		}
		return missing, nil
	case xCall:
		return st.call(x)
	case xDefault:
		a, err := st.eval(x.a)
		if err != nil || a.present() {
			return a, err
		}
		return st.eval(x.b)
	case xCmp:
		a, err := st.eval(x.a)
		if err != nil {
			return a, err
		}
		b, err := st.eval(x.b)
		if err != nil {
			return b, err
		}
		return boolValue(compareOp(x.cmp, a, b)), nil
	case xAnd, xOr:
		a, err := st.eval(x.a)
		if err != nil {
			return a, err
		}
		if a.truthy(false) != (x.kind == xAnd) {
			return boolValue(x.kind == xOr), nil
		}
		b, err := st.eval(x.b)
		if err != nil {
			return b, err
		}
		return boolValue(b.truthy(false)), nil
	case xNot:
		a, err := st.eval(x.a)
		if err != nil {
			return a, err
		}
		return boolValue(!a.truthy(false)), nil
	}
	return missing, nil
}

func (st *state) walk(x *expr, cur any, parts []string) (value, error) {
	for i, p := range parts {
		var ok bool
		switch c := cur.(type) {
		case map[string]any:
			cur, ok = c[p]
		case *jnode:
			return st.walkNode(x, c, parts[i:])
		case Object:
			if c.n != nil {
				return st.walkNode(x, c.n, parts[i:])
			}
		default:
			cur, ok = lookup(cur, p)
		}
		if !ok {
			return st.missing(x)
		}
	}
	return fromAny(cur), nil
}

// member is the common case of walk, kept small: the member x.parts[from:]
// names in a decoded object, through objects only, or nil for anything
// else (missing, an array, a string's length), which walk resolves. Each
// segment first tries the offset in its object where it was found last
// time: a template reads objects of the same shape recipient after
// recipient, element after element, so that is one string comparison
// instead of a scan. up proves the offset names a member, not a
// descendant of one.
func (st *state) member(x *expr, nd *jnode, from int) *jnode {
	hints := st.hints[x.hint+from : x.hint+len(x.parts)]
	for i, p := range x.parts[from:] {
		if nd.k != kObj {
			return nil
		}
		kids := nd.kids
		if h := hints[i]; uint(h) < uint(len(kids)) {
			if m := &kids[h]; m.up == h+1 && !m.dead && m.key == p {
				nd = m
				continue
			}
		}
		m, ok := nd.member(p)
		if !ok {
			return nil
		}
		hints[i] = m.up - 1
		nd = m
	}
	return nd
}

// walkNode is walk through a decoded document, member by member
// without boxing each step into an interface and switching on it again.
func (st *state) walkNode(x *expr, nd *jnode, parts []string) (value, error) {
	if m := st.member(x, nd, len(x.parts)-len(parts)); m != nil {
		return m.value(), nil
	}
	for i, p := range parts {
		if nd.k != kObj {
			c, ok := nd.lookup(p) // an array's element or length, a string's length
			if !ok {
				return st.missing(x)
			}
			return st.walk(x, c, parts[i+1:])
		}
		m, ok := nd.member(p)
		if !ok {
			return st.missing(x)
		}
		nd = m
	}
	return nd.value(), nil
}

func (st *state) call(x *expr) (value, error) {
	st.at = x.off
	base, hbase := len(st.args), len(st.hash)
	for _, a := range x.args {
		v, err := st.eval(a)
		if err != nil {
			return v, err
		}
		st.args = append(st.args, v)
	}
	for _, h := range x.hash {
		v, err := st.eval(h.x)
		if err != nil {
			return v, err
		}
		st.hash = append(st.hash, hashVal{key: h.key, v: v})
	}
	v, err := x.helper.fn(st, st.args[base:], st.hash[hbase:])
	st.args, st.hash = st.args[:base], st.hash[:hbase]
	if err != nil {
		return missing, st.fail(x.off, "", &HelperError{Helper: x.helper.name, Err: err})
	}
	return v, nil
}

// write appends v to the output, escaped if requested, within the cap.
func (st *state) write(v value, escape bool) error {
	switch v.k {
	case kMissing, kNull:
		return nil
	case kStr:
		return st.putString(v.s, escape)
	case kSafe:
		return st.put(v.s)
	case kNum:
		if v.s == "" {
			var tmp [32]byte
			return st.putBytes(appendNumber(tmp[:0], v.n))
		}
		// A number's literal text (JSON's, or one strconv.ParseFloat
		// took) has no byte that escaping changes.
		return st.put(v.s)
	}
	b, err := st.text(v)
	if err != nil {
		return err
	}
	if escape {
		return st.putEscapedBytes(b)
	}
	return st.putBytes(b)
}

// compareOp compares numbers numerically and strings lexically; equality
// across different kinds is false, except that missing equals null.
func compareOp(op cmpOp, a, b value) bool {
	c, ok := compare(a, b)
	switch op {
	case cmpEq:
		return ok && c == 0
	case cmpNe:
		return !ok || c != 0
	case cmpLt:
		return ok && c < 0
	case cmpLe:
		return ok && c <= 0
	case cmpGt:
		return ok && c > 0
	default:
		return ok && c >= 0
	}
}

// compare orders two values of the same kind; ok is false when they are not
// comparable. Only equality is meaningful for booleans and null.
func compare(a, b value) (int, bool) {
	nullish := func(v value) bool { return v.k == kMissing || v.k == kNull }
	switch {
	case nullish(a) && nullish(b):
		return 0, true
	case a.k == kNum && b.k == kNum:
		switch {
		case a.n < b.n:
			return -1, true
		case a.n > b.n:
			return 1, true
		case a.n == b.n:
			return 0, true
		}
		return 0, false // NaN
	case (a.k == kStr || a.k == kSafe) && (b.k == kStr || b.k == kSafe):
		switch {
		case a.s < b.s:
			return -1, true
		case a.s > b.s:
			return 1, true
		}
		return 0, true
	case a.k == kBool && b.k == kBool:
		switch {
		case a.b == b.b:
			return 0, true
		case !a.b:
			return -1, true
		}
		return 1, true
	}
	return 0, false
}
