package render

import (
	"fmt"
	"strconv"
	"strings"
)

type opcode uint8

const (
	opText    opcode = iota
	opOut            // write x, escaped if escape
	opIf             // body if x is truthy (falsy when negate), else alt
	opEach           // body per element of x, alt if empty
	opWith           // body with x as context, alt if falsy
	opSection        // mustache section: dispatch on x's type
	opLet            // slots[slot1] = x
)

// node is one compiled instruction. Blocks hold their bodies inline so the
// executor walks a tree without maps or interface dispatch.
type node struct {
	op          opcode
	escape      bool
	negate      bool
	includeZero bool
	url         bool // opOut: may start a URL attribute value (see html.go)
	cross       bool // opEach, opSection: iterates data unrelated to the enclosing loop's element
	slot1       int  // block param / let slot, -1 if none
	slot2       int
	urlAt       int // opText: see urlKeep
	off         int // source offset, for errors
	text        string
	x           *expr
	body, alt   []node
}

type exprKind uint8

const (
	xLit     exprKind = iota
	xPath             // relative to the context depth levels up
	xRoot             // @root.parts
	xLocal            // a block param or let variable, then parts
	xData             // @index @key @first @last
	xCall             // helper call
	xDefault          // a ?: b
	xCmp              // a <op> b
	xAnd
	xOr
	xNot
)

type dataKind uint8

const (
	dIndex dataKind = iota
	dKey
	dFirst
	dLast
)

type cmpOp uint8

const (
	cmpEq cmpOp = iota
	cmpNe
	cmpLt
	cmpLe
	cmpGt
	cmpGe
)

// expr is a compiled expression: paths are pre-split into segments and
// helpers pre-resolved.
type expr struct {
	kind    exprKind
	lenient bool // strict mode: may be missing (conditions, ?: left side)
	walk    bool // compat mode: look the first segment up in enclosing contexts
	data    dataKind
	cmp     cmpOp
	depth   int
	slot    int
	off     int
	hint    int // first of the state's hints for parts (see state.member)
	lit     value
	parts   []string
	text    string // source text of a path, for errors
	static  string // data path a path reads, when statically known (for Kinds)
	helper  *helperDef
	args    []*expr
	hash    []hashExpr
	a, b    *expr
}

type hashExpr struct {
	key string
	x   *expr
}

// local is a name bound by a block param or {% let %}, visible to the end of
// its block.
type local struct {
	name   string
	slot   int
	static string // data path it stands for, for Variables
	known  bool
}

// sctx is the statically known data path of a context level.
type sctx struct {
	path  string
	known bool
}

type parser struct {
	src    string
	mode   Mode
	cfg    *config
	toks   []token
	pos    int
	locals []local
	ctx    []sctx
	vars   map[string]struct{}
	nslots int
	nhints int // member offsets cached per path segment (see state.member)
	depth  int
	html   *htmlScanner // nil in Text mode
	loops  []sctx       // element contexts of the enclosing #each and sections
}

func newParser(src string, mode Mode, cfg *config) *parser {
	p := &parser{src: src, mode: mode, cfg: cfg, vars: map[string]struct{}{}, ctx: []sctx{{known: true}}}
	if mode == HTML {
		p.html = &htmlScanner{}
	}
	return p
}

// block tells the HTML scanner that a block tag was crossed.
func (p *parser) block() {
	if p.html != nil {
		p.html.block()
	}
}

func syntaxErrorf(src string, off int, format string, args ...any) error {
	line, col := position(src, off)
	return &SyntaxError{Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) errorf(off int, format string, args ...any) error {
	return syntaxErrorf(p.src, off, format, args...)
}

func (p *parser) parseTemplate() ([]node, error) {
	toks, err := scan(p.src)
	if err != nil {
		return nil, err
	}
	p.toks = applyWhitespace(toks)
	nodes, term, err := p.parseNodes()
	if err != nil {
		return nil, err
	}
	if term != nil {
		return nil, p.errorf(term.off, "unexpected %s with no open block", describe(term))
	}
	return nodes, nil
}

func describe(t *token) string {
	switch t.kind {
	case tElse:
		return `"{{else}}"`
	case tClose:
		return fmt.Sprintf(`"{{/%s}}"`, t.body)
	case tExprElse:
		return `"{%else%}"`
	case tExprClose:
		return fmt.Sprintf(`"{%%/%s%%}"`, t.body)
	}
	return "tag"
}

// addText appends literal text, merging it into a preceding text node
// (text on both sides of a comment); urlAt is what the HTML scanner said
// of s.
func addText(nodes []node, s string, urlAt int) []node {
	if n := len(nodes); n > 0 && nodes[n-1].op == opText {
		prev := &nodes[n-1]
		switch {
		case urlAt >= 0:
			prev.urlAt = len(prev.text) + urlAt
		case urlAt == urlOff:
			prev.urlAt = urlOff
		}
		prev.text += s
		return nodes
	}
	return append(nodes, node{op: opText, text: s, urlAt: urlAt, slot1: -1, slot2: -1})
}

// parseNodes parses until an else/close tag, which it returns unconsumed,
// or the end of input (nil).
func (p *parser) parseNodes() ([]node, *token, error) {
	var nodes []node
	p.block()
	for p.pos < len(p.toks) {
		t := &p.toks[p.pos]
		switch t.kind {
		case tText:
			urlAt := urlKeep
			if p.html != nil {
				urlAt = p.html.feed(t.text)
			}
			nodes = addText(nodes, t.text, urlAt)
			p.pos++
		case tOut, tRaw:
			p.pos++
			e := p.exprParser(t)
			x, _, err := e.statement(false)
			if err != nil {
				return nil, nil, err
			}
			url := p.html != nil && p.html.out()
			nodes = append(nodes, node{op: opOut, x: x, off: t.off, escape: t.kind == tOut && p.mode == HTML, url: url, slot1: -1, slot2: -1})
		case tExprOut:
			p.pos++
			e := p.exprParser(t)
			x, err := e.ajoTop()
			if err != nil {
				return nil, nil, err
			}
			url := p.html != nil && p.html.out()
			nodes = append(nodes, node{op: opOut, x: x, off: t.off, escape: p.mode == HTML, url: url, slot1: -1, slot2: -1})
		case tExprLet:
			p.pos++
			n, err := p.parseLet(t)
			if err != nil {
				return nil, nil, err
			}
			nodes = append(nodes, n)
		case tOpen, tInverse, tExprIf, tExprUnless:
			p.pos++
			n, err := p.parseBlock(t)
			if err != nil {
				return nil, nil, err
			}
			p.block()
			nodes = append(nodes, n)
		default:
			p.block()
			return nodes, t, nil
		}
	}
	return nodes, nil, nil
}

func (p *parser) parseLet(t *token) (node, error) {
	e := p.exprParser(t)
	e.skipWS()
	start := e.i
	for e.i < len(e.s) && isAJOChar(e.s[e.i], e.i == start) {
		e.i++
	}
	name := e.s[start:e.i]
	if name == "" {
		return node{}, e.errorf(`expected variable name after "let"`)
	}
	if isKeyword(name) {
		return node{}, e.errorf("%q is a reserved word", name)
	}
	e.skipWS()
	if !e.consume("=") {
		return node{}, e.errorf(`expected "=" after "let %s"`, name)
	}
	x, err := e.ajoTop()
	if err != nil {
		return node{}, err
	}
	slot := p.nslots
	p.nslots++
	p.locals = append(p.locals, local{name: name, slot: slot})
	return node{op: opLet, x: x, slot1: slot, slot2: -1, off: t.off}, nil
}

// blockHead is the parsed opening tag of a block.
type blockHead struct {
	op          opcode
	negate      bool
	includeZero bool
	ajo         bool
	inverted    bool // {{^x}}
	x           *expr
	static      sctx
	params      []string
	closeName   string
	tok         *token
}

func (p *parser) parseBlock(open *token) (node, error) {
	head, err := p.parseHead(open, false)
	if err != nil {
		return node{}, err
	}
	n, term, err := p.parseBlockBody(head)
	if err != nil {
		return node{}, err
	}
	wantKind := tClose
	if head.ajo {
		wantKind = tExprClose
	}
	if term == nil {
		return node{}, p.errorf(len(p.src), "expected %s to close %s opened at %s", closeTag(head), openTag(head), p.at(open.off))
	}
	if term.kind != wantKind || term.body != head.closeName {
		return node{}, p.errorf(term.off, "expected %s to close %s opened at %s, found %s", closeTag(head), openTag(head), p.at(open.off), describe(term))
	}
	p.pos++
	return n, nil
}

func (p *parser) at(off int) string {
	l, c := position(p.src, off)
	return fmt.Sprintf("line %d, col %d", l, c)
}

func closeTag(h blockHead) string {
	if h.ajo {
		return fmt.Sprintf(`"{%%/%s%%}"`, h.closeName)
	}
	return fmt.Sprintf(`"{{/%s}}"`, h.closeName)
}

func openTag(h blockHead) string {
	if h.ajo {
		return fmt.Sprintf(`"{%%#%s%%}"`, h.closeName)
	}
	if h.inverted {
		return fmt.Sprintf(`"{{^%s}}"`, h.closeName)
	}
	return fmt.Sprintf(`"{{#%s}}"`, h.closeName)
}

// parseHead parses an opening tag, or the "if x" of an {{else if x}}.
func (p *parser) parseHead(t *token, chained bool) (blockHead, error) {
	h := blockHead{tok: t}
	e := p.exprParser(t)
	switch t.kind {
	case tExprIf, tExprUnless, tExprElse:
		h.ajo = true
		h.op = opIf
		h.closeName = "if"
		if t.kind == tExprUnless {
			h.negate = true
			h.closeName = "unless"
		}
		if t.kind == tExprElse {
			// "else if cond": the body starts with "if".
			e.skipWS()
			if !e.word("if") {
				return h, e.errorf(`expected "if" after "else"`)
			}
		}
		x, err := e.ajoTop()
		if err != nil {
			return h, err
		}
		h.x = markLenient(x)
		return h, nil
	case tInverse:
		rp, err := e.path(isHBSChar)
		if err != nil {
			return h, err
		}
		x, st := p.resolve(rp)
		e.skipWS()
		if !e.eof() {
			return h, e.errorf(`expected "}}" after section name`)
		}
		h.op, h.x, h.inverted, h.closeName = opSection, markLenient(x), true, t.body
		h.static = st
		return h, nil
	}
	e.skipWS()
	name := e.peekWord()
	switch name {
	case "if", "unless", "each", "with":
		e.i += len(name)
	default:
		if chained {
			return h, e.errorf(`expected "if", "unless", "each" or "with" after "else"`)
		}
		rp, err := e.path(isHBSChar)
		if err != nil {
			return h, err
		}
		e.skipWS()
		if !e.eof() {
			if _, ok := p.cfg.helpers[name]; ok && name != "" {
				return h, p.errorf(t.bodyOff, "helper %q cannot open a block; only if, unless, each and with can", name)
			}
			return h, p.errorf(t.bodyOff, "unknown block helper %q", name)
		}
		x, st := p.resolve(rp)
		h.op, h.x, h.closeName, h.static = opSection, markLenient(x), t.body, st
		return h, nil
	}
	h.closeName = name
	args, hash, params, err := e.callArgs(true)
	if err != nil {
		return h, err
	}
	if len(args) != 1 {
		return h, p.errorf(t.bodyOff, "#%s expects 1 argument, got %d", name, len(args))
	}
	h.x = args[0].x
	h.static = args[0].static
	maxParams := 0
	switch name {
	case "if", "unless":
		h.op = opIf
		h.negate = name == "unless"
		h.x = markLenient(h.x)
		for _, kv := range hash {
			if kv.key != "includeZero" || kv.x.kind != xLit || kv.x.lit.k != kBool {
				return h, p.errorf(t.bodyOff, "#%s accepts only includeZero=true|false", name)
			}
			h.includeZero = kv.x.lit.b
		}
	case "each":
		h.op = opEach
		maxParams = 2
	case "with":
		h.op = opWith
		maxParams = 1
	}
	if h.op != opIf && len(hash) > 0 {
		return h, p.errorf(t.bodyOff, "#%s accepts no hash arguments", name)
	}
	if len(params) > maxParams {
		return h, p.errorf(t.bodyOff, "#%s accepts at most %d block params", name, maxParams)
	}
	h.params = params
	return h, nil
}

// parseBlockBody parses the body, else chain and alternative of a block,
// returning the closing token unconsumed.
func (p *parser) parseBlockBody(h blockHead) (node, *token, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > p.cfg.maxDepth {
		return node{}, nil, p.errorf(h.tok.off, "blocks nested deeper than %d", p.cfg.maxDepth)
	}
	n := node{op: h.op, x: h.x, negate: h.negate, includeZero: h.includeZero, off: h.tok.off, slot1: -1, slot2: -1}
	nlocals, nctx, nloops := len(p.locals), len(p.ctx), len(p.loops)
	switch h.op {
	case opEach:
		elem := sctx{path: h.static.path + "[]", known: h.static.known && h.static.path != ""}
		n.cross = p.crosses(h.static)
		p.loops = append(p.loops, elem)
		p.ctx = append(p.ctx, elem)
		if len(h.params) > 0 {
			n.slot1 = p.newLocal(h.params[0], elem)
		}
		if len(h.params) > 1 {
			n.slot2 = p.newLocal(h.params[1], sctx{})
		}
	case opWith:
		p.ctx = append(p.ctx, h.static)
		if len(h.params) > 0 {
			n.slot1 = p.newLocal(h.params[0], h.static)
		}
	case opSection:
		if !h.inverted {
			// A section iterates when its value is an array.
			n.cross = p.crosses(h.static)
			p.loops = append(p.loops, h.static)
			p.ctx = append(p.ctx, h.static)
		}
	}
	body, term, err := p.parseNodes()
	p.locals, p.ctx, p.loops = p.locals[:nlocals], p.ctx[:nctx], p.loops[:nloops]
	if err != nil {
		return node{}, nil, err
	}
	elseKind := tElse
	if h.ajo {
		elseKind = tExprElse
	}
	var alt []node
	if term != nil && term.kind == elseKind {
		p.pos++
		if term.body == "" {
			alt, term, err = p.parseNodes()
			p.locals = p.locals[:nlocals]
			if err != nil {
				return node{}, nil, err
			}
		} else {
			ch, err := p.parseHead(term, true)
			if err != nil {
				return node{}, nil, err
			}
			ch.closeName = h.closeName
			cn, t2, err := p.parseBlockBody(ch)
			if err != nil {
				return node{}, nil, err
			}
			alt, term = []node{cn}, t2
		}
	}
	if h.inverted {
		body, alt = alt, body
	}
	n.body, n.alt = body, alt
	return n, term, nil
}

// crosses reports whether a loop over target, opened here, runs once per
// element of the enclosing loop over data unrelated to that element, so
// that the iterations multiply (as in {{#each a}}{{#each @root.a}}) rather
// than walk nested data (as in {{#each orders}}{{#each items}}), whose
// total is bounded by the data. Unknown paths are assumed unrelated.
func (p *parser) crosses(target sctx) bool {
	if len(p.loops) == 0 {
		return false
	}
	outer := p.loops[len(p.loops)-1]
	if !target.known || !outer.known || outer.path == "" {
		return true
	}
	t, o := target.path, outer.path
	return !(t == o || strings.HasPrefix(t, o+".") || strings.HasPrefix(t, o+"["))
}

func (p *parser) newLocal(name string, st sctx) int {
	slot := p.nslots
	p.nslots++
	p.locals = append(p.locals, local{name: name, slot: slot, static: st.path, known: st.known})
	return slot
}

// markLenient marks the paths of a condition as allowed to be missing in
// strict mode.
func markLenient(x *expr) *expr {
	if x == nil {
		return nil
	}
	c := *x
	c.lenient = true
	c.a, c.b = markLenient(c.a), markLenient(c.b)
	if len(c.args) > 0 {
		c.args = make([]*expr, len(x.args))
		for i, a := range x.args {
			c.args[i] = markLenient(a)
		}
	}
	return &c
}

// rawPath is a path as written, before resolution against scopes.
type rawPath struct {
	data    bool
	this    bool
	bracket bool // first segment was [literal]
	depth   int
	parts   []string
	text    string
	off     int
}

// resolve compiles a raw path and records the data path it reads.
func (p *parser) resolve(rp rawPath) (*expr, sctx) {
	x := &expr{kind: xPath, depth: rp.depth, parts: rp.parts, text: rp.text, off: rp.off, hint: p.nhints}
	p.nhints += len(rp.parts)
	if rp.data {
		// Callers have validated the name.
		switch rp.parts[0] {
		case "root":
			x.kind, x.parts = xRoot, rp.parts[1:]
			st := sctx{path: joinPath("", x.parts), known: true}
			p.record(st.path)
			x.static = st.path
			return x, st
		case "index":
			x.kind, x.data = xData, dIndex
		case "key":
			x.kind, x.data = xData, dKey
		case "first":
			x.kind, x.data = xData, dFirst
		case "last":
			x.kind, x.data = xData, dLast
		}
		return x, sctx{}
	}
	if !rp.this && rp.depth == 0 && len(rp.parts) > 0 {
		for i := len(p.locals) - 1; i >= 0; i-- {
			l := p.locals[i]
			if l.name != rp.parts[0] {
				continue
			}
			x.kind, x.slot, x.parts = xLocal, l.slot, rp.parts[1:]
			if !l.known {
				return x, sctx{}
			}
			st := sctx{path: joinPath(l.static, x.parts), known: true}
			p.record(st.path)
			x.static = st.path
			return x, st
		}
	}
	x.walk = p.cfg.compat && !rp.this && rp.depth == 0 && len(rp.parts) > 0
	i := len(p.ctx) - 1 - rp.depth
	if i < 0 || !p.ctx[i].known {
		return x, sctx{}
	}
	st := sctx{path: joinPath(p.ctx[i].path, rp.parts), known: true}
	p.record(st.path)
	x.static = st.path
	return x, st
}

func (p *parser) record(path string) {
	if path != "" {
		p.vars[path] = struct{}{}
	}
}

func joinPath(base string, parts []string) string {
	var b strings.Builder
	b.WriteString(base)
	for _, s := range parts {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		if s == "" || strings.ContainsAny(s, ".[] \t\r\n/") {
			b.WriteByte('[')
			b.WriteString(s)
			b.WriteByte(']')
		} else {
			b.WriteString(s)
		}
	}
	return b.String()
}

// exprParser parses the body of one tag.
type exprParser struct {
	p    *parser
	s    string
	i    int
	base int
	nest int
}

func (p *parser) exprParser(t *token) *exprParser {
	return &exprParser{p: p, s: t.body, base: t.bodyOff}
}

func (e *exprParser) errorf(format string, args ...any) error {
	return e.p.errorf(e.base+e.i, format, args...)
}

func (e *exprParser) skipWS() {
	for e.i < len(e.s) {
		switch e.s[e.i] {
		case ' ', '\t', '\r', '\n':
			e.i++
		default:
			return
		}
	}
}

func (e *exprParser) eof() bool { return e.i >= len(e.s) }

func (e *exprParser) consume(tok string) bool {
	if strings.HasPrefix(e.s[e.i:], tok) {
		e.i += len(tok)
		return true
	}
	return false
}

// isHBSChar reports whether c may appear in a Handlebars identifier.
func isHBSChar(c byte, _ bool) bool {
	if c <= ' ' {
		return false
	}
	return !strings.ContainsRune("!\"#%&'()*+,./;<=>@[\\]^`{|}~", rune(c))
}

// isAJOChar reports whether c may appear in an expression-tag identifier.
func isAJOChar(c byte, first bool) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == '$', c >= 0x80:
		return true
	case c >= '0' && c <= '9', c == '-':
		return !first
	}
	return false
}

func isKeyword(w string) bool {
	switch w {
	case "and", "or", "not", "true", "false", "null", "let", "if", "else":
		return true
	}
	return false
}

// peekWord returns the Handlebars identifier at the cursor.
func (e *exprParser) peekWord() string {
	j := e.i
	for j < len(e.s) && isHBSChar(e.s[j], j == e.i) {
		j++
	}
	return e.s[e.i:j]
}

// word consumes the keyword w if it is at the cursor as a whole word.
func (e *exprParser) word(w string) bool {
	if !strings.HasPrefix(e.s[e.i:], w) {
		return false
	}
	j := e.i + len(w)
	if j < len(e.s) && isAJOChar(e.s[j], false) {
		return false
	}
	e.i = j
	return true
}

// path parses a path such as a.b/c, ../x, this.[odd key], @root.x, @index.
func (e *exprParser) path(idChar func(byte, bool) bool) (rawPath, error) {
	start := e.i
	rp := rawPath{off: e.base + e.i}
	if e.consume("@") {
		rp.data = true
	}
	for {
		if e.eof() {
			return rp, e.errorf("expected path segment")
		}
		switch {
		case e.s[e.i] == '[':
			j := strings.IndexByte(e.s[e.i:], ']')
			if j < 0 {
				return rp, e.errorf(`expected "]" to end path segment`)
			}
			if len(rp.parts) == 0 && !rp.this && rp.depth == 0 {
				rp.bracket = true
			}
			rp.parts = append(rp.parts, e.s[e.i+1:e.i+j])
			e.i += j + 1
		case strings.HasPrefix(e.s[e.i:], ".."):
			if len(rp.parts) > 0 || rp.this {
				return rp, e.errorf(`"../" is only allowed at the start of a path`)
			}
			rp.depth++
			e.i += 2
		case e.s[e.i] == '.':
			if len(rp.parts) > 0 || rp.this {
				return rp, e.errorf("expected path segment")
			}
			rp.this = true
			e.i++
		default:
			j := e.i
			for j < len(e.s) && idChar(e.s[j], j == e.i) {
				j++
			}
			if j == e.i {
				return rp, e.errorf("expected path, found %q", e.s[e.i:e.i+1])
			}
			seg := e.s[e.i:j]
			e.i = j
			if seg == "this" && len(rp.parts) == 0 && !rp.this && !rp.data {
				rp.this = true
			} else {
				rp.parts = append(rp.parts, seg)
			}
		}
		if e.i+1 < len(e.s) && (e.s[e.i] == '.' || e.s[e.i] == '/') {
			c := e.s[e.i+1]
			if idChar(c, false) || c == '[' || c == '.' {
				e.i++
				continue
			}
		}
		break
	}
	rp.text = e.s[start:e.i]
	if rp.data {
		if len(rp.parts) == 0 {
			return rp, e.p.errorf(rp.off, "expected data variable after \"@\"")
		}
		switch rp.parts[0] {
		case "root":
			if rp.depth > 0 {
				return rp, e.p.errorf(rp.off, "@root cannot follow ../")
			}
		case "index", "key", "first", "last":
			if len(rp.parts) > 1 {
				return rp, e.p.errorf(rp.off, "@%s has no properties", rp.parts[0])
			}
		default:
			return rp, e.p.errorf(rp.off, "unknown data variable @%s; expected @index, @key, @first, @last or @root", rp.parts[0])
		}
	}
	return rp, nil
}

// operand is a parsed argument with the static data path it reads.
type operand struct {
	x      *expr
	static sctx
	raw    *rawPath // set when the operand is a plain path
}

// literalAt parses a string, number or keyword literal, if one is at the cursor.
func (e *exprParser) literalAt(idChar func(byte, bool) bool) (*expr, bool, error) {
	if e.eof() {
		return nil, false, nil
	}
	c := e.s[e.i]
	off := e.base + e.i
	if c == '"' || c == '\'' {
		var b strings.Builder
		j := e.i + 1
		for ; j < len(e.s) && e.s[j] != c; j++ {
			if e.s[j] == '\\' && j+1 < len(e.s) && (e.s[j+1] == c || e.s[j+1] == '\\') {
				j++
			}
			b.WriteByte(e.s[j])
		}
		if j >= len(e.s) {
			return nil, false, e.errorf("unterminated string literal")
		}
		e.i = j + 1
		return &expr{kind: xLit, lit: strValue(b.String()), off: off}, true, nil
	}
	if c == '-' || (c >= '0' && c <= '9') {
		j := e.i
		if c == '-' {
			j++
		}
		d := j
		for j < len(e.s) && e.s[j] >= '0' && e.s[j] <= '9' {
			j++
		}
		if j > d {
			if j+1 < len(e.s) && e.s[j] == '.' && e.s[j+1] >= '0' && e.s[j+1] <= '9' {
				j++
				for j < len(e.s) && e.s[j] >= '0' && e.s[j] <= '9' {
					j++
				}
			}
			if j == len(e.s) || !idChar(e.s[j], false) && e.s[j] != '.' && e.s[j] != '[' {
				f, err := strconv.ParseFloat(e.s[e.i:j], 64)
				if err != nil {
					return nil, false, e.errorf("invalid number %q", e.s[e.i:j])
				}
				e.i = j
				return &expr{kind: xLit, lit: numValue(f), off: off}, true, nil
			}
		}
	}
	for _, kw := range [...]string{"true", "false", "null", "undefined"} {
		if strings.HasPrefix(e.s[e.i:], kw) {
			j := e.i + len(kw)
			if j < len(e.s) && (idChar(e.s[j], false) || e.s[j] == '.' || e.s[j] == '/' || e.s[j] == '[') {
				continue
			}
			e.i = j
			var v value
			switch kw {
			case "true":
				v = trueVal
			case "false":
				v = falseVal
			case "null":
				v = nullVal
			}
			return &expr{kind: xLit, lit: v, off: off}, true, nil
		}
	}
	return nil, false, nil
}

// operand parses a Handlebars argument: literal, path or (subexpression).
func (e *exprParser) operand() (operand, error) {
	if e.eof() {
		return operand{}, e.errorf("expected argument")
	}
	if e.s[e.i] == '(' {
		off := e.base + e.i
		e.i++
		e.nest++
		if e.nest > e.p.cfg.maxDepth {
			return operand{}, e.errorf("subexpressions nested deeper than %d", e.p.cfg.maxDepth)
		}
		e.skipWS()
		name := e.peekWord()
		if name == "" {
			return operand{}, e.errorf("expected helper name after \"(\"")
		}
		h, ok := e.p.cfg.helpers[name]
		if !ok {
			return operand{}, e.errorf("unknown helper %q", name)
		}
		e.i += len(name)
		args, hash, _, err := e.callArgs(false)
		if err != nil {
			return operand{}, err
		}
		e.skipWS()
		if !e.consume(")") {
			return operand{}, e.errorf(`expected ")" to close subexpression`)
		}
		e.nest--
		x, err := e.call(h, args, hash, off)
		return operand{x: x}, err
	}
	lit, ok, err := e.literalAt(isHBSChar)
	if err != nil {
		return operand{}, err
	}
	if ok {
		return operand{x: lit}, nil
	}
	rp, err := e.path(isHBSChar)
	if err != nil {
		return operand{}, err
	}
	x, st := e.p.resolve(rp)
	return operand{x: x, static: st, raw: &rp}, nil
}

// callArgs parses positional and hash arguments and, for block heads,
// "as |a b|" block params, up to the end of the tag or a ")".
func (e *exprParser) callArgs(blockParams bool) ([]operand, []hashExpr, []string, error) {
	var args []operand
	var hash []hashExpr
	for {
		e.skipWS()
		if e.eof() || e.s[e.i] == ')' {
			return args, hash, nil, nil
		}
		if blockParams && e.atBlockParams() {
			params, err := e.blockParams()
			if err != nil {
				return nil, nil, nil, err
			}
			e.skipWS()
			if !e.eof() {
				return nil, nil, nil, e.errorf(`expected "}}" after block params`)
			}
			return args, hash, params, nil
		}
		// key=value
		j := e.i
		for j < len(e.s) && isHBSChar(e.s[j], j == e.i) {
			j++
		}
		if j > e.i && j < len(e.s) && e.s[j] == '=' {
			key := e.s[e.i:j]
			e.i = j + 1
			e.skipWS()
			v, err := e.operand()
			if err != nil {
				return nil, nil, nil, err
			}
			hash = append(hash, hashExpr{key: key, x: v.x})
			continue
		}
		if len(hash) > 0 {
			return nil, nil, nil, e.errorf("positional argument after hash arguments")
		}
		v, err := e.operand()
		if err != nil {
			return nil, nil, nil, err
		}
		args = append(args, v)
		if !e.eof() && !strings.ContainsRune(" \t\r\n)", rune(e.s[e.i])) {
			return nil, nil, nil, e.errorf("expected space between arguments, found %q", e.s[e.i:e.i+1])
		}
	}
}

func (e *exprParser) atBlockParams() bool {
	if !strings.HasPrefix(e.s[e.i:], "as") {
		return false
	}
	j := e.i + 2
	for j < len(e.s) && (e.s[j] == ' ' || e.s[j] == '\t' || e.s[j] == '\n' || e.s[j] == '\r') {
		j++
	}
	return j < len(e.s) && e.s[j] == '|'
}

func (e *exprParser) blockParams() ([]string, error) {
	e.i += 2
	e.skipWS()
	e.i++ // '|'
	var params []string
	for {
		e.skipWS()
		if e.consume("|") {
			break
		}
		name := e.peekWord()
		if name == "" {
			return nil, e.errorf(`expected block param name or "|"`)
		}
		params = append(params, name)
		e.i += len(name)
	}
	if len(params) == 0 {
		return nil, e.errorf("expected at least one block param")
	}
	return params, nil
}

func (e *exprParser) call(h *helperDef, args []operand, hash []hashExpr, off int) (*expr, error) {
	if len(args) < h.min || (h.max >= 0 && len(args) > h.max) {
		want := fmt.Sprintf("%d", h.min)
		switch {
		case h.max < 0:
			want = fmt.Sprintf("at least %d", h.min)
		case h.max != h.min:
			want = fmt.Sprintf("%d to %d", h.min, h.max)
		}
		return nil, e.p.errorf(off, "helper %q expects %s arguments, got %d", h.name, want, len(args))
	}
	x := &expr{kind: xCall, helper: h, hash: hash, off: off}
	for i, a := range args {
		if i == 0 && h.lenientFirst {
			a.x = markLenient(a.x)
		}
		x.args = append(x.args, a.x)
	}
	return x, nil
}

// statement parses the body of {{ }}: a value, or a helper call.
func (e *exprParser) statement(blockParams bool) (*expr, []string, error) {
	e.skipWS()
	if e.eof() {
		return nil, nil, e.errorf("expected expression")
	}
	off := e.base + e.i
	if name := e.peekWord(); name != "" && e.i+len(name) < len(e.s) && strings.IndexByte(" \t\r\n", e.s[e.i+len(name)]) >= 0 {
		save := e.i
		e.i += len(name)
		e.skipWS()
		more := !e.eof() && !(blockParams && e.atBlockParams())
		e.i = save
		if more {
			h, ok := e.p.cfg.helpers[name]
			if !ok {
				return nil, nil, e.p.errorf(off, "unknown helper %q", name)
			}
			e.i += len(name)
			return e.finishCall(h, off, blockParams)
		}
	}
	first, err := e.operand()
	if err != nil {
		return nil, nil, err
	}
	e.skipWS()
	if e.eof() {
		return first.x, nil, nil
	}
	return nil, nil, e.errorf(`expected "}}" after expression`)
}

func (e *exprParser) finishCall(h *helperDef, off int, blockParams bool) (*expr, []string, error) {
	args, hash, params, err := e.callArgs(blockParams)
	if err != nil {
		return nil, nil, err
	}
	if !e.eof() {
		return nil, nil, e.errorf(`expected "}}" after arguments`)
	}
	x, err := e.call(h, args, hash, off)
	return x, params, err
}

// ajoTop parses a whole expression-tag expression.
func (e *exprParser) ajoTop() (*expr, error) {
	x, err := e.ajoOr()
	if err != nil {
		return nil, err
	}
	e.skipWS()
	if !e.eof() {
		return nil, e.errorf(`expected "%%}" after expression`)
	}
	return x, nil
}

func (e *exprParser) ajoOr() (*expr, error) {
	x, err := e.ajoAnd()
	if err != nil {
		return nil, err
	}
	for {
		e.skipWS()
		if !e.word("or") && !e.consume("||") {
			return x, nil
		}
		y, err := e.ajoAnd()
		if err != nil {
			return nil, err
		}
		x = &expr{kind: xOr, a: x, b: y}
	}
}

func (e *exprParser) ajoAnd() (*expr, error) {
	x, err := e.ajoNot()
	if err != nil {
		return nil, err
	}
	for {
		e.skipWS()
		if !e.word("and") && !e.consume("&&") {
			return x, nil
		}
		y, err := e.ajoNot()
		if err != nil {
			return nil, err
		}
		x = &expr{kind: xAnd, a: x, b: y}
	}
}

func (e *exprParser) ajoNot() (*expr, error) {
	e.skipWS()
	bang := strings.HasPrefix(e.s[e.i:], "!") && !strings.HasPrefix(e.s[e.i:], "!=")
	if bang || e.word("not") {
		if bang {
			e.i++
		}
		e.nest++
		if e.nest > e.p.cfg.maxDepth {
			return nil, e.errorf("expression nested deeper than %d", e.p.cfg.maxDepth)
		}
		x, err := e.ajoNot()
		e.nest--
		if err != nil {
			return nil, err
		}
		return &expr{kind: xNot, a: x}, nil
	}
	return e.ajoCmp()
}

func (e *exprParser) ajoCmp() (*expr, error) {
	x, err := e.ajoDefault()
	if err != nil {
		return nil, err
	}
	e.skipWS()
	ops := [...]struct {
		tok string
		op  cmpOp
	}{{"==", cmpEq}, {"!=", cmpNe}, {"<=", cmpLe}, {">=", cmpGe}, {"=", cmpEq}, {"<", cmpLt}, {">", cmpGt}}
	for _, o := range ops {
		if e.consume(o.tok) {
			y, err := e.ajoDefault()
			if err != nil {
				return nil, err
			}
			return &expr{kind: xCmp, cmp: o.op, a: x, b: y}, nil
		}
	}
	return x, nil
}

func (e *exprParser) ajoDefault() (*expr, error) {
	x, err := e.ajoPrimary()
	if err != nil {
		return nil, err
	}
	for {
		e.skipWS()
		if !e.consume("?:") {
			return x, nil
		}
		y, err := e.ajoPrimary()
		if err != nil {
			return nil, err
		}
		x = &expr{kind: xDefault, a: markLenient(x), b: y}
	}
}

func (e *exprParser) ajoPrimary() (*expr, error) {
	e.skipWS()
	if e.eof() {
		return nil, e.errorf("expected value")
	}
	if e.consume("(") {
		e.nest++
		if e.nest > e.p.cfg.maxDepth {
			return nil, e.errorf("expression nested deeper than %d", e.p.cfg.maxDepth)
		}
		x, err := e.ajoOr()
		if err != nil {
			return nil, err
		}
		e.skipWS()
		if !e.consume(")") {
			return nil, e.errorf(`expected ")"`)
		}
		e.nest--
		return x, nil
	}
	lit, ok, err := e.literalAt(isAJOChar)
	if err != nil {
		return nil, err
	}
	if ok {
		return lit, nil
	}
	c := e.s[e.i]
	if !isAJOChar(c, true) && c != '@' && c != '[' && c != '.' {
		return nil, e.errorf("expected value, found %q", e.s[e.i:e.i+1])
	}
	w := e.peekAJOWord()
	if w == "and" || w == "or" || w == "not" {
		return nil, e.errorf("expected value, found %q", w)
	}
	rp, err := e.path(isAJOChar)
	if err != nil {
		return nil, err
	}
	x, _ := e.p.resolve(rp)
	return x, nil
}

func (e *exprParser) peekAJOWord() string {
	j := e.i
	for j < len(e.s) && isAJOChar(e.s[j], j == e.i) {
		j++
	}
	return e.s[e.i:j]
}
