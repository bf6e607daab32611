package render

import (
	"strings"
)

// tagKind classifies a tag found by the scanner.
type tagKind uint8

const (
	tText       tagKind = iota
	tComment            // {{! }} {{!-- --}}
	tOut                // {{x}}
	tRaw                // {{{x}}} {{&x}}
	tOpen               // {{#x}}
	tInverse            // {{^x}}
	tElse               // {{else}} {{^}} {{else if x}}
	tClose              // {{/x}}
	tExprOut            // {%= expr %}
	tExprIf             // {%#if cond %}
	tExprUnless         // {%#unless cond %}
	tExprElse           // {%else%} {%else if cond %}
	tExprClose          // {%/if%} {%/unless%}
	tExprLet            // {% let name = expr %}
)

// token is a run of literal text or one tag. For tags, body is the trimmed
// content after the type character and bodyOff its offset in the source.
type token struct {
	kind    tagKind
	text    string
	body    string
	off     int // offset of the opening delimiter
	bodyOff int
	trimL   bool // {{~
	trimR   bool // ~}}
}

// standalone reports whether the tag kind is removed together with its line
// when it stands alone on it (mustache spec; Handlebars does the same).
func (k tagKind) standalone() bool {
	switch k {
	case tText, tOut, tRaw, tExprOut:
		return false
	}
	return true
}

type scanner struct {
	src  string
	toks []token
}

func (s *scanner) errorf(off int, format string, args ...any) error {
	return syntaxErrorf(s.src, off, format, args...)
}

// addText appends literal text, merging it with a preceding text token so
// that standalone detection sees whole lines.
func (s *scanner) addText(t string) {
	if t == "" {
		return
	}
	if n := len(s.toks); n > 0 && s.toks[n-1].kind == tText {
		s.toks[n-1].text += t
		return
	}
	s.toks = append(s.toks, token{kind: tText, text: t})
}

// scan splits src into text and tags.
func scan(src string) ([]token, error) {
	s := &scanner{src: src}
	i := 0
	textStart := 0
	for {
		j := strings.IndexByte(src[i:], '{')
		if j < 0 {
			break
		}
		j += i
		if j+1 >= len(src) || (src[j+1] != '{' && src[j+1] != '%') {
			i = j + 1
			continue
		}
		// \{{ is a literal {{; \\{{ is a backslash followed by a tag.
		if j > 0 && src[j-1] == '\\' {
			if j > 1 && src[j-2] == '\\' {
				s.addText(src[textStart : j-1])
			} else {
				s.addText(src[textStart : j-1])
				textStart = j
				i = j + 2
				continue
			}
		} else {
			s.addText(src[textStart:j])
		}
		var end int
		var err error
		if src[j+1] == '{' {
			end, err = s.mustache(j)
		} else {
			end, err = s.expression(j)
		}
		if err != nil {
			return nil, err
		}
		i, textStart = end, end
	}
	s.addText(src[textStart:])
	return s.toks, nil
}

// findClose returns the index of delim in src at or after i, skipping quoted
// strings, or -1.
func findClose(src string, i int, delim string) int {
	for i < len(src) {
		c := src[i]
		if c == '"' || c == '\'' {
			k := i + 1
			for k < len(src) && src[k] != c {
				if src[k] == '\\' {
					k++
				}
				k++
			}
			if k >= len(src) {
				return -1
			}
			i = k + 1
			continue
		}
		if strings.HasPrefix(src[i:], delim) {
			return i
		}
		i++
	}
	return -1
}

// mustache scans the {{ }} tag starting at j and returns the offset after it.
func (s *scanner) mustache(j int) (int, error) {
	src := s.src
	k := j + 2
	tok := token{off: j}
	if k < len(src) && src[k] == '~' {
		tok.trimL = true
		k++
	}
	if strings.HasPrefix(src[k:], "!--") {
		p := k + 3
		for {
			e := strings.Index(src[p:], "--")
			if e < 0 {
				break
			}
			e += p
			r := e + 2
			if r < len(src) && src[r] == '~' {
				r++
			}
			if strings.HasPrefix(src[r:], "}}") {
				tok.kind = tComment
				tok.trimR = src[r-1] == '~'
				s.toks = append(s.toks, tok)
				return r + 2, nil
			}
			p = e + 1
		}
		return 0, s.errorf(j, `unclosed comment: expected "--}}"`)
	}
	if k < len(src) && src[k] == '!' {
		e := strings.Index(src[k:], "}}")
		if e < 0 {
			return 0, s.errorf(j, `unclosed comment: expected "}}"`)
		}
		e += k
		tok.kind = tComment
		tok.trimR = src[e-1] == '~'
		s.toks = append(s.toks, tok)
		return e + 2, nil
	}
	closer := "}}"
	if k < len(src) {
		switch src[k] {
		case '{':
			tok.kind = tRaw
			closer = "}}}"
			k++
		case '&':
			tok.kind = tRaw
			k++
		case '#':
			tok.kind = tOpen
			k++
			if k < len(src) && (src[k] == '>' || src[k] == '*') {
				return 0, s.errorf(j, "partial blocks and decorators are not supported")
			}
		case '^':
			tok.kind = tInverse
			k++
		case '/':
			tok.kind = tClose
			k++
		case '>':
			return 0, s.errorf(j, "partials are not supported")
		case '*':
			return 0, s.errorf(j, "decorators are not supported")
		default:
			tok.kind = tOut
		}
	}
	e := findClose(src, k, closer)
	if tok.kind == tRaw && closer == "}}}" {
		// {{{x}~}} closes with "}~}}".
		e2 := findClose(src, k, "}~}}")
		if e2 >= 0 && (e < 0 || e2 < e) {
			tok.trimR = true
			body := src[k:e2]
			tok.bodyOff = k + len(body) - len(strings.TrimLeft(body, " \t\r\n"))
			tok.body = strings.TrimSpace(body)
			s.toks = append(s.toks, tok)
			return e2 + 4, nil
		}
	}
	if e < 0 {
		return 0, s.errorf(j, "unclosed tag: expected %q", closer)
	}
	body := src[k:e]
	if strings.HasSuffix(body, "~") {
		tok.trimR = true
		body = body[:len(body)-1]
	}
	tok.bodyOff = k + len(body) - len(strings.TrimLeft(body, " \t\r\n"))
	tok.body = strings.TrimSpace(body)
	switch tok.kind {
	case tInverse:
		if tok.body == "" {
			tok.kind = tElse
		}
	case tOut:
		if tok.body == "else" || strings.HasPrefix(tok.body, "else ") || strings.HasPrefix(tok.body, "else\t") || strings.HasPrefix(tok.body, "else\n") {
			tok.kind = tElse
			tok.bodyOff += 4
			rest := tok.body[4:]
			tok.bodyOff += len(rest) - len(strings.TrimLeft(rest, " \t\r\n"))
			tok.body = strings.TrimSpace(rest)
		}
	}
	s.toks = append(s.toks, tok)
	return e + len(closer), nil
}

// expression scans the {% %} tag starting at j.
func (s *scanner) expression(j int) (int, error) {
	src := s.src
	k := j + 2
	e := findClose(src, k, "%}")
	if e < 0 {
		return 0, s.errorf(j, `unclosed expression tag: expected "%%}"`)
	}
	tok := token{off: j}
	body := src[k:e]
	lead := len(body) - len(strings.TrimLeft(body, " \t\r\n"))
	tok.bodyOff = k + lead
	body = strings.TrimSpace(body)
	word := func(w string) bool {
		if !strings.HasPrefix(body, w) {
			return false
		}
		if len(body) == len(w) {
			return true
		}
		c := body[len(w)]
		return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '(' || c == '"' || c == '\''
	}
	rest := func(n int) {
		r := body[n:]
		tok.bodyOff += n + len(r) - len(strings.TrimLeft(r, " \t\r\n"))
		tok.body = strings.TrimSpace(r)
	}
	switch {
	case strings.HasPrefix(body, "="):
		tok.kind = tExprOut
		rest(1)
	case word("#if"):
		tok.kind = tExprIf
		rest(3)
	case word("#unless"):
		tok.kind = tExprUnless
		rest(7)
	case word("else"):
		tok.kind = tExprElse
		rest(4)
	case body == "/if" || body == "/unless":
		tok.kind = tExprClose
		tok.body = body[1:]
	case word("let"):
		tok.kind = tExprLet
		rest(3)
	default:
		return 0, s.errorf(tok.bodyOff, `expected "=", "#if", "#unless", "else", "/if", "/unless" or "let" in expression tag`)
	}
	s.toks = append(s.toks, tok)
	return e + 2, nil
}

// applyWhitespace implements standalone-line removal (mustache spec) and
// ~ whitespace control (Handlebars) on the token list, dropping comments.
// Decisions are taken on the original text, then all cuts are applied.
func applyWhitespace(toks []token) []token {
	type cut struct{ lo, hi int }
	cuts := make([]cut, len(toks))
	for i, t := range toks {
		cuts[i] = cut{0, len(t.text)}
	}
	for i, t := range toks {
		if t.kind == tText {
			continue
		}
		prevText := i > 0 && toks[i-1].kind == tText
		nextText := i+1 < len(toks) && toks[i+1].kind == tText
		if t.trimL && prevText {
			p := toks[i-1].text
			cuts[i-1].hi = min(cuts[i-1].hi, len(strings.TrimRight(p, " \t\r\n")))
		}
		if t.trimR && nextText {
			n := toks[i+1].text
			cuts[i+1].lo = max(cuts[i+1].lo, len(n)-len(strings.TrimLeft(n, " \t\r\n")))
		}
		if !t.kind.standalone() {
			continue
		}
		// Preceding text must end with a newline and blanks, or be blanks at
		// the start of the template.
		lineStart := -1
		switch {
		case i == 0:
			lineStart = 0
		case prevText:
			p := toks[i-1].text
			k := len(strings.TrimRight(p, " \t"))
			if k == 0 && i == 1 {
				lineStart = 0
			} else if k > 0 && p[k-1] == '\n' {
				lineStart = k
			}
		}
		if lineStart < 0 {
			continue
		}
		// Following text must start with blanks and a newline, or be blanks
		// to the end of the template.
		lineEnd := -1
		switch {
		case i == len(toks)-1:
			lineEnd = 0
		case nextText:
			n := toks[i+1].text
			k := len(n) - len(strings.TrimLeft(n, " \t"))
			switch {
			case k == len(n) && i+1 == len(toks)-1:
				lineEnd = k
			case strings.HasPrefix(n[k:], "\r\n"):
				lineEnd = k + 2
			case strings.HasPrefix(n[k:], "\n"):
				lineEnd = k + 1
			}
		}
		if lineEnd < 0 {
			continue
		}
		if prevText {
			cuts[i-1].hi = min(cuts[i-1].hi, lineStart)
		}
		if nextText {
			cuts[i+1].lo = max(cuts[i+1].lo, lineEnd)
		}
	}
	out := toks[:0]
	for i, t := range toks {
		switch t.kind {
		case tComment:
			continue
		case tText:
			c := cuts[i]
			if c.lo >= c.hi {
				continue
			}
			t.text = t.text[c.lo:c.hi]
		}
		out = append(out, t)
	}
	return out
}
