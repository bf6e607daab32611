package render

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Object is a JSON object decoded once for rendering: its members keep the
// order the JSON gave them, so {{#each}} over it iterates as Handlebars
// does (JavaScript's order: member names that are array indexes first,
// ascending, then the others in the order written), unlike a
// map[string]any, which the engine can only iterate in sorted order.
//
// A decoded object is one slice of nodes over one string (two
// allocations, whatever its depth), looked up without maps (but for
// objects of more than indexAt members, which get an index) and rendered
// without allocating. It is immutable and safe for concurrent use. Its
// zero value is no object at all (a JSON null, or a member that is
// absent); an empty object is "{}".
//
// Duplicate member names keep the last value at the first name's place,
// as JSON.parse does.
type Object struct{ n *jnode }

// jnode is one value of a decoded document: an object member (key set) or
// an array element, with its descendants following it in the slice.
type jnode struct {
	key  string
	s    string  // a string's value, a number's literal text
	n    float64 // a number's value
	kids []jnode // an object's members or an array's elements, with their descendants
	more *objectIndex
	raw  []byte // a decoded root's MarshalJSON, encoded once
	span int32  // nodes this one takes: itself and its descendants
	len  int32  // live members or elements
	k    kind   // kNull, kBool, kNum, kStr (also a number out of float64's range), kObj, kArr
	b    bool   // a kBool's value; for a kStr, that s has no byte HTML escaping changes (false: not known)
	dead bool   // a member whose name a later member has: the later one is the value
	num  bool   // kStr holding a JSON number that float64 cannot hold
	up   int32  // 1 + its offset in its parent's kids, 0 for a root (see state.member)

	// Offsets of key and s in the decoder's text, until the text is done.
	koff, klen, soff, slen int32
}

// objectIndex is what a large object or one whose iteration order is not
// the written order carries besides its members.
type objectIndex struct {
	index map[string]int32 // member name → offset of its live member in kids
	order []int32          // offsets in kids, in JavaScript's iteration order
}

// indexAt is the member count from which an object is looked up through a
// map rather than by comparing names.
const indexAt = 16

// Len returns the number of members (0 for the zero Object).
func (o Object) Len() int {
	if o.n == nil {
		return 0
	}
	return int(o.n.len)
}

// Equal reports whether o and p have the same members in the same order
// with equal values (go-cmp uses it).
func (o Object) Equal(p Object) bool {
	if o.n == nil || p.n == nil {
		return o.n == p.n
	}
	a, _ := o.MarshalJSON()
	b, _ := p.MarshalJSON()
	return string(a) == string(b)
}

// IsZero reports whether o is no object (JSON null or absent); an empty
// object is not zero. encoding/json's omitzero uses it.
func (o Object) IsZero() bool { return o.n == nil }

// Has reports whether o has a member named key.
func (o Object) Has(key string) bool {
	if o.n == nil {
		return false
	}
	_, ok := o.n.member(key)
	return ok
}

// String returns the member key when it is a JSON string (a number, say,
// is not one), without allocating.
func (o Object) String(key string) (string, bool) {
	if o.n == nil {
		return "", false
	}
	m, ok := o.n.member(key)
	if !ok || m.k != kStr || m.num {
		return "", false
	}
	return m.s, true
}

// Keys returns the member names in iteration order.
func (o Object) Keys() []string {
	if o.n == nil {
		return nil
	}
	out := make([]string, 0, o.n.len)
	for it := o.n.members(); ; {
		m, ok := it.next()
		if !ok {
			return out
		}
		out = append(out, m.key)
	}
}

// Map returns o in the encoding/json data model (nil for the zero
// Object): a copy, for code that needs a map.
func (o Object) Map() map[string]any {
	if o.n == nil {
		return nil
	}
	return o.n.plain().(map[string]any)
}

// Size is the length of o's JSON encoding as encoding/json writes it with
// SetEscapeHTML(false) (MarshalJSON's, and that of the map[string]any it
// would decode to): "null" for the zero Object.
func (o Object) Size() int {
	if o.n == nil {
		return len("null")
	}
	if o.n.raw != nil {
		return len(o.n.raw) // a decoded object's encoding, written once
	}
	return o.n.jsonLen(false)
}

// ParseObject decodes a JSON object. null gives the zero Object; any other
// value, or malformed JSON, is an error.
func ParseObject(b []byte) (Object, error) {
	var o Object
	err := o.UnmarshalJSON(b)
	return o, err
}

// MustParseObject is ParseObject for a literal known to be an object (in
// tests, say): it panics when s is not one.
func MustParseObject(s string) Object {
	o, err := ParseObject([]byte(s))
	if err != nil {
		panic("render.MustParseObject: " + err.Error())
	}
	return o
}

// ObjectOf converts a map in the encoding/json data model (as profiles and
// older callers hold data) into an Object, keys in sorted order, the order
// a map was iterated in before. nil gives the zero Object.
func ObjectOf(m map[string]any) (Object, error) {
	if m == nil {
		return Object{}, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return Object{}, err
	}
	return ParseObject(b)
}

// ErrNotObject is what decoding a JSON value that is not an object into an
// Object returns, wrapped in a message naming what it was ("must be an
// object, not a string").
var ErrNotObject = errors.New("not a JSON object")

type notObjectError struct{ what string }

func (e *notObjectError) Error() string { return "must be an object, not " + e.what }
func (e *notObjectError) Unwrap() error { return ErrNotObject }

// UnmarshalJSON decodes a JSON object (null: the zero Object). Strings are
// decoded as encoding/json decodes them (invalid UTF-8 and lone
// surrogates become U+FFFD); numbers keep their literal text.
func (o *Object) UnmarshalJSON(b []byte) error {
	d := decoder{src: b}
	d.space()
	if d.i >= len(b) {
		return errors.New("unexpected end of JSON input")
	}
	switch c := b[d.i]; {
	case c == '{':
	case c == 'n' && strings.TrimSpace(string(b[d.i:])) == "null":
		*o = Object{}
		return nil
	default:
		return &notObjectError{what: describeJSON(c)}
	}
	nodes, err := d.decode()
	if err != nil {
		return err
	}
	*o = Object{n: &nodes[0]}
	return nil
}

func describeJSON(c byte) string {
	switch {
	case c == '"':
		return "a string"
	case c == '[':
		return "an array"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	case c == '-' || (c >= '0' && c <= '9'):
		return "a number"
	}
	return "malformed JSON"
}

// MarshalJSON writes the object compactly, members in their order, strings
// escaped as encoding/json escapes them with SetEscapeHTML(false) (json.Marshal
// then escapes '<', '>' and '&' as it does in every Marshaler's output). A
// decoded object is encoded once, when it is decoded, and every call
// returns that encoding, as json.RawMessage returns itself: the caller must
// not modify it.
func (o Object) MarshalJSON() ([]byte, error) {
	if o.n == nil {
		return []byte("null"), nil
	}
	if o.n.raw != nil {
		return o.n.raw, nil
	}
	return o.n.appendJSON(make([]byte, 0, o.n.jsonLen(false)), false, nil), nil
}

// AppendCanonicalJSON appends what json.Marshal writes for the
// map[string]any o decodes to: members sorted by name, '<', '>' and '&'
// escaped, "null" for the zero Object. It is the member-order independent
// form of o, for hashing.
func (o Object) AppendCanonicalJSON(dst []byte) []byte {
	if o.n == nil {
		return append(dst, "null"...)
	}
	scratch := canonicalScratch.Get().(*[]int32)
	dst = o.n.appendJSON(dst, true, scratch)
	if cap(*scratch) <= maxPooledScratch {
		*scratch = (*scratch)[:0]
		canonicalScratch.Put(scratch)
	}
	return dst
}

// canonicalScratch holds AppendCanonicalJSON's stacks of sorted member
// offsets (one object's above its parent's), pooled: appendJSON recurses
// through a pointer to it, so a stack array of the caller's would move to
// the heap on every call.
var canonicalScratch = sync.Pool{New: func() any { s := make([]int32, 0, 64); return &s }}

// maxPooledScratch keeps one huge object from pinning its stack in the
// pool.
const maxPooledScratch = 4 << 10

// decoder reads one JSON object into a slice of nodes.
type decoder struct {
	src   []byte
	i     int
	nodes []jnode
	text  strings.Builder
	depth int
}

// maxDepth is encoding/json's nesting limit.
const maxDepth = 10000

func (d *decoder) decode() ([]jnode, error) {
	d.nodes = make([]jnode, 0, countValues(d.src[d.i:]))
	d.text.Grow(len(d.src))
	if err := d.value(); err != nil {
		return nil, err
	}
	d.space()
	if d.i != len(d.src) {
		return nil, d.syntax("after the object")
	}
	text := d.text.String()
	nodes := d.nodes
	for i := range nodes {
		nd := &nodes[i]
		nd.key = text[nd.koff : nd.koff+nd.klen]
		switch nd.k {
		case kStr:
			nd.s = text[nd.soff : nd.soff+nd.slen]
			if nd.num {
				if f, err := strconv.ParseFloat(nd.s, 64); err == nil {
					nd.k, nd.n, nd.num = kNum, f, false
				}
			}
			nd.b = nd.k == kStr && escapeIndex(nd.s) == len(nd.s)
		case kObj, kArr:
			nd.kids = nodes[i+1 : i+int(nd.span) : i+int(nd.span)]
		}
	}
	linkMembers(nodes)
	for i := range nodes {
		if nodes[i].k == kObj {
			nodes[i].indexMembers()
		}
	}
	root := &nodes[0]
	root.raw = root.appendJSON(make([]byte, 0, root.jsonLen(false)), false, nil)
	return nodes, nil
}

// countValues bounds the number of values in a JSON text: every value but
// the first follows a '[', a ',' or a ':' outside strings.
func countValues(b []byte) int {
	n := 1
	in := false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case in && c == '\\':
			i++
		case c == '"':
			in = !in
		case !in && (c == '[' || c == ',' || c == ':'):
			n++
		}
	}
	return n
}

func (d *decoder) syntax(what string) error {
	return fmt.Errorf("malformed JSON at byte %d: %s", d.i, what)
}

func (d *decoder) space() {
	for d.i < len(d.src) {
		switch d.src[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// value decodes one value into a jnode (its name, if a member, is set by
// the caller).
func (d *decoder) value() error {
	d.space()
	if d.i >= len(d.src) {
		return d.syntax("unexpected end")
	}
	at := len(d.nodes)
	d.nodes = append(d.nodes, jnode{span: 1})
	switch c := d.src[d.i]; {
	case c == '{':
		return d.container(at, kObj, '}')
	case c == '[':
		return d.container(at, kArr, ']')
	case c == '"':
		off, n, err := d.str()
		if err != nil {
			return err
		}
		nd := &d.nodes[at]
		nd.k, nd.soff, nd.slen = kStr, off, n
	case c == 't':
		return d.literal(at, "true", kBool, true)
	case c == 'f':
		return d.literal(at, "false", kBool, false)
	case c == 'n':
		return d.literal(at, "null", kNull, false)
	case c == '-' || (c >= '0' && c <= '9'):
		start := d.i
		for d.i < len(d.src) && strings.IndexByte("+-.eE0123456789", d.src[d.i]) >= 0 {
			d.i++
		}
		lit := d.src[start:d.i]
		if !validJSONNumber(string(lit)) {
			return d.syntax("invalid number")
		}
		off := int32(d.text.Len())
		d.text.Write(lit)
		nd := &d.nodes[at]
		// A kStr marked num until the text is done and it is parsed.
		nd.k, nd.num, nd.soff, nd.slen = kStr, true, off, int32(len(lit))
	default:
		return d.syntax("invalid character")
	}
	return nil
}

func (d *decoder) literal(at int, lit string, k kind, b bool) error {
	if len(d.src)-d.i < len(lit) || string(d.src[d.i:d.i+len(lit)]) != lit {
		return d.syntax("invalid literal")
	}
	d.i += len(lit)
	d.nodes[at].k, d.nodes[at].b = k, b
	return nil
}

func (d *decoder) container(at int, k kind, end byte) error {
	d.depth++
	if d.depth > maxDepth {
		return d.syntax("nested too deeply")
	}
	d.i++ // the opening bracket
	d.space()
	count := int32(0)
	if d.i < len(d.src) && d.src[d.i] == end {
		d.i++
	} else {
		for {
			d.space()
			var koff, klen int32
			if k == kObj {
				if d.i >= len(d.src) || d.src[d.i] != '"' {
					return d.syntax("expected a member name")
				}
				var err error
				if koff, klen, err = d.str(); err != nil {
					return err
				}
				d.space()
				if d.i >= len(d.src) || d.src[d.i] != ':' {
					return d.syntax("expected ':'")
				}
				d.i++
			}
			child := len(d.nodes)
			if err := d.value(); err != nil {
				return err
			}
			d.nodes[child].koff, d.nodes[child].klen = koff, klen
			count++
			d.space()
			if d.i >= len(d.src) {
				return d.syntax("unexpected end")
			}
			if d.src[d.i] == ',' {
				d.i++
				continue
			}
			if d.src[d.i] != end {
				return d.syntax("expected ',' or a closing bracket")
			}
			d.i++
			break
		}
	}
	d.depth--
	nd := &d.nodes[at]
	nd.k, nd.len, nd.span = k, count, int32(len(d.nodes)-at)
	return nil
}

// str decodes the string at d.i into the text, returning its offset and
// length there. A string without escapes, control characters or invalid
// UTF-8 is copied as it is; any other is decoded by encoding/json, so
// that it reads exactly as a map[string]any would hold it.
func (d *decoder) str() (int32, int32, error) {
	start := d.i
	d.i++
	plain := true
	for ; d.i < len(d.src); d.i++ {
		c := d.src[d.i]
		if c == '"' {
			break
		}
		if c == '\\' {
			plain = false
			d.i++
			continue
		}
		if c < 0x20 {
			return 0, 0, d.syntax("control character in string")
		}
		if c >= utf8.RuneSelf {
			plain = false
		}
	}
	if d.i >= len(d.src) {
		return 0, 0, d.syntax("unterminated string")
	}
	d.i++
	raw := d.src[start+1 : d.i-1]
	off := int32(d.text.Len())
	if plain || utf8.Valid(raw) && !hasBackslash(raw) {
		d.text.Write(raw)
		return off, int32(len(raw)), nil
	}
	var s string
	if err := json.Unmarshal(d.src[start:d.i], &s); err != nil {
		return 0, 0, d.syntax("invalid string")
	}
	d.text.WriteString(s)
	return off, int32(len(s)), nil
}

func hasBackslash(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
}

// indexMembers marks members shadowed by a later one of the same name
// and gives objects that need one an index or an iteration order.
func (nd *jnode) indexMembers() {
	kids := nd.kids
	var idx map[string]int32
	if nd.len > indexAt {
		idx = make(map[string]int32, nd.len)
	}
	dups, indexKeys := false, false
	for j := 0; j < len(kids); j += int(kids[j].span) {
		key := kids[j].key
		if arrayIndex(key) {
			indexKeys = true
		}
		if idx != nil {
			if prev, ok := idx[key]; ok {
				kids[prev].dead, dups = true, true
			}
			idx[key] = int32(j)
			continue
		}
		for p := 0; p < j; p += int(kids[p].span) {
			if !kids[p].dead && kids[p].key == key {
				kids[p].dead, dups = true, true
			}
		}
	}
	if dups {
		live := int32(0)
		for j := 0; j < len(kids); j += int(kids[j].span) {
			if !kids[j].dead {
				live++
			}
		}
		nd.len = live
	}
	if idx == nil && !dups && !indexKeys {
		return
	}
	nd.more = &objectIndex{index: idx}
	if !dups && !indexKeys {
		return
	}
	// JavaScript's order: array indexes ascending, then the other names
	// where each first appeared, with the last value given for it (a
	// large object finds both through its index, in linear time).
	order := make([]int32, 0, nd.len)
	var seen map[string]bool
	if idx != nil {
		seen = make(map[string]bool, nd.len)
	}
	for j := 0; j < len(kids); j += int(kids[j].span) {
		key := kids[j].key
		if idx != nil {
			if !seen[key] {
				seen[key] = true
				order = append(order, idx[key])
			}
			continue
		}
		first := true
		for _, o := range order {
			if kids[o].key == key {
				first = false
				break
			}
		}
		if !first {
			continue
		}
		last := int32(j)
		for q := j; q < len(kids); q += int(kids[q].span) {
			if kids[q].key == key {
				last = int32(q)
			}
		}
		order = append(order, last)
	}
	slices.SortStableFunc(order, func(a, b int32) int {
		ka, kb := kids[a].key, kids[b].key
		ia, ib := arrayIndex(ka), arrayIndex(kb)
		switch {
		case ia && ib:
			if len(ka) != len(kb) {
				return len(ka) - len(kb)
			}
			return strings.Compare(ka, kb)
		case ia:
			return -1
		case ib:
			return 1
		}
		return 0
	})
	nd.more.order = order
}

// arrayIndex reports whether key is an array index in JavaScript: the
// canonical decimal form of an integer from 0 to 2^32-2. Objects iterate
// those first, in numeric order.
func arrayIndex(key string) bool {
	if key == "" || len(key) > 10 || (key[0] == '0' && len(key) > 1) {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] < '0' || key[i] > '9' {
			return false
		}
	}
	n, err := strconv.ParseUint(key, 10, 64)
	return err == nil && n <= 1<<32-2
}

// linkMembers sets up on the members and elements of every container of
// a document whose kids are set.
func linkMembers(nodes []jnode) {
	for i := range nodes {
		if nd := &nodes[i]; nd.k == kObj || nd.k == kArr {
			kids := nd.kids
			for j := 0; j < len(kids); j += int(kids[j].span) {
				kids[j].up = int32(j) + 1
			}
		}
	}
}

// member looks key up in an object jnode.
func (nd *jnode) member(key string) (*jnode, bool) {
	if nd.k != kObj {
		return nil, false
	}
	if nd.more != nil && nd.more.index != nil {
		j, ok := nd.more.index[key]
		if !ok {
			return nil, false
		}
		return &nd.kids[j], true
	}
	kids := nd.kids
	for j := 0; j < len(kids); j += int(kids[j].span) {
		if kids[j].key == key && !kids[j].dead {
			return &kids[j], true
		}
	}
	return nil, false
}

// elem returns element i of an array jnode.
func (nd *jnode) elem(i int) (*jnode, bool) {
	if nd.k != kArr || i < 0 || i >= int(nd.len) {
		return nil, false
	}
	kids := nd.kids
	j := 0
	for ; i > 0; i-- {
		j += int(kids[j].span)
	}
	return &kids[j], true
}

// jnodeIter walks an object's live members in iteration order, or an
// array's elements.
type jnodeIter struct {
	nd *jnode
	i  int // members or elements returned so far
	j  int // offset of the next one in kids, without an order
}

func (nd *jnode) members() jnodeIter { return jnodeIter{nd: nd} }

func (it *jnodeIter) next() (*jnode, bool) {
	nd := it.nd
	if nd == nil || it.i >= int(nd.len) {
		return nil, false
	}
	if nd.more != nil && nd.more.order != nil {
		m := &nd.kids[nd.more.order[it.i]]
		it.i++
		return m, true
	}
	for nd.kids[it.j].dead {
		it.j += int(nd.kids[it.j].span)
	}
	m := &nd.kids[it.j]
	it.j += int(m.span)
	it.i++
	return m, true
}

// value is the jnode as the engine's value; containers and scalars alike
// keep the jnode, so that it can become a context without boxing.
func (nd *jnode) value() value {
	switch nd.k {
	case kNull:
		return nullVal
	case kBool:
		return value{k: kBool, b: nd.b, x: nd}
	case kNum:
		return value{k: kNum, n: nd.n, s: nd.s, x: nd}
	case kStr:
		return value{k: kStr, s: nd.s, x: nd}
	}
	return value{k: nd.k, x: nd}
}

// plain converts the jnode to the encoding/json data model (numbers as
// json.Number, as Decoder.UseNumber gives them).
func (nd *jnode) plain() any {
	switch nd.k {
	case kBool:
		return nd.b
	case kNum:
		if nd.s == "" {
			return nd.n
		}
		return json.Number(nd.s)
	case kStr:
		if nd.num {
			return json.Number(nd.s)
		}
		return nd.s
	case kObj:
		m := make(map[string]any, nd.len)
		for it := nd.members(); ; {
			c, ok := it.next()
			if !ok {
				return m
			}
			m[c.key] = c.plain()
		}
	case kArr:
		a := make([]any, 0, nd.len)
		for it := nd.members(); ; {
			c, ok := it.next()
			if !ok {
				return a
			}
			a = append(a, c.plain())
		}
	}
	return nil
}

// jsonLen is the length of the node's JSON as appendJSON writes it,
// members in their order: with html, '<', '>' and '&' escaped as
// json.Marshal escapes them (the json helper); without, as an encoder
// with SetEscapeHTML(false) writes them (MarshalJSON, Size).
func (nd *jnode) jsonLen(html bool) int {
	strLen := func(s string) int {
		if html {
			return jsonStringLen(s)
		}
		return jsonStringLenNoHTML(s)
	}
	switch nd.k {
	case kNull:
		return len("null")
	case kBool:
		if nd.b {
			return len("true")
		}
		return len("false")
	case kNum:
		if nd.s == "" {
			n, _ := jsonFloatLen(nd.n)
			return n
		}
		return len(nd.s)
	case kStr:
		if nd.num {
			return len(nd.s)
		}
		return strLen(nd.s)
	}
	n := 2 + max(int(nd.len)-1, 0)
	for it := nd.members(); ; {
		c, ok := it.next()
		if !ok {
			return n
		}
		if nd.k == kObj {
			n += strLen(c.key) + 1
		}
		n += c.jsonLen(html)
	}
}

// appendJSON appends the jnode's JSON: members in iteration order, or,
// with a scratch stack, by name as encoding/json writes a map; html
// escapes '<', '>' and '&' as json.Marshal does.
func (nd *jnode) appendJSON(dst []byte, html bool, scratch *[]int32) []byte {
	switch nd.k {
	case kNull:
		return append(dst, "null"...)
	case kBool:
		if nd.b {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case kNum:
		if nd.s == "" {
			return appendJSONFloat(dst, nd.n)
		}
		return append(dst, nd.s...)
	case kStr:
		if nd.num {
			return append(dst, nd.s...)
		}
		return appendJSONString(dst, nd.s, html)
	case kArr:
		dst = append(dst, '[')
		for it, i := nd.members(), 0; ; i++ {
			c, ok := it.next()
			if !ok {
				break
			}
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = c.appendJSON(dst, html, scratch)
		}
		return append(dst, ']')
	}
	dst = append(dst, '{')
	if scratch != nil {
		kids := nd.kids
		base := len(*scratch)
		for j := 0; j < len(kids); j += int(kids[j].span) {
			if !kids[j].dead {
				*scratch = append(*scratch, int32(j))
			}
		}
		slices.SortFunc((*scratch)[base:], func(a, b int32) int { return strings.Compare(kids[a].key, kids[b].key) })
		for i := base; i < len(*scratch); i++ {
			if i > base {
				dst = append(dst, ',')
			}
			c := &kids[(*scratch)[i]]
			dst = appendJSONString(dst, c.key, html)
			dst = append(dst, ':')
			dst = c.appendJSON(dst, html, scratch)
		}
		*scratch = (*scratch)[:base]
		return append(dst, '}')
	}
	for it, i := nd.members(), 0; ; i++ {
		c, ok := it.next()
		if !ok {
			break
		}
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, c.key, html)
		dst = append(dst, ':')
		dst = c.appendJSON(dst, html, nil)
	}
	return append(dst, '}')
}

// jsonStringLenNoHTML is the length of encoding/json's encoding of s with
// SetEscapeHTML(false): jsonStringLen less the 5 bytes it counts for each
// of '<', '>' and '&'.
func jsonStringLenNoHTML(s string) int {
	n := jsonStringLen(s)
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '<', '>', '&':
			n -= 5
		}
	}
	return n
}

// appendJSONString is writeJSONString for a byte slice, with or without
// the HTML escapes.
func appendJSONString(dst []byte, s string, html bool) []byte {
	return AppendJSONString(dst, s, html, false)
}

// AppendJSONString appends s as encoding/json writes a string: '"' and
// '\' escaped, control characters as \b \f \n \r \t or \u00XX,
// invalid UTF-8 as \ufffd, U+2028 and U+2029 as \u2028 and \u2029 —
// unless rawSeparators: then as themselves, valid JSON either way —, and
// with html '<', '>' and '&' as \u003c, \u003e and \u0026, as json.Marshal
// does (an Encoder with SetEscapeHTML(false) does not).
func AppendJSONString(dst []byte, s string, html, rawSeparators bool) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && (!html || c != '<' && c != '>' && c != '&') {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '\\', '"':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, `\b`...)
			case '\f':
				dst = append(dst, `\f`...)
			case '\n':
				dst = append(dst, `\n`...)
			case '\r':
				dst = append(dst, `\r`...)
			case '\t':
				dst = append(dst, `\t`...)
			default:
				dst = append(dst, `\u00`...)
				dst = append(dst, hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case (r == '\u2028' || r == '\u2029') && !rawSeparators:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\u202`...)
			dst = append(dst, hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
