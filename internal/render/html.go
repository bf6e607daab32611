package render

import "strings"

// URL attributes. Escaping keeps a value inside its attribute, but a value
// that is a whole URL decides where the link goes: "javascript:…" in an
// href runs script when clicked. So in HTML mode a value written at the
// start of a URL attribute's value is checked as a browser would read the
// attribute, and a javascript:, vbscript: or data: URL becomes "#" (the
// safeUrl rule of docs/personalization.md).
//
// The parser knows the literal text around each output tag: htmlScanner
// follows it through tags, attributes and their values, and marks the
// output tags that may start a URL attribute value (text nodes record
// where such a value begins). At run time writeURL looks at what the value
// holds so far, literal text and earlier values included, so a scheme
// spread over {{a}}{{b}}, or a prefix written only on some branch of an
// #if, is judged as the browser will see it.

// urlAttrs lists the attributes whose value a browser loads or navigates to.
var urlAttrs = map[string]bool{
	"href": true, "src": true, "action": true, "formaction": true, "xlink:href": true,
	"background": true, "poster": true, "cite": true, "data": true, "longdesc": true,
	"lowsrc": true, "dynsrc": true,
}

// rawTextTags hold text in which "<" opens no tag until their end tag.
var rawTextTags = map[string]bool{
	"script": true, "style": true, "textarea": true, "title": true, "xmp": true,
	"iframe": true, "noembed": true, "noframes": true, "noscript": true,
}

// Values of node.urlAt for text nodes.
const (
	urlKeep = -1 // the text leaves the URL attribute state as it was
	urlOff  = -2 // the text ends outside any URL attribute value
)

type htmlState uint8

const (
	hText          htmlState = iota
	hTagOpen                 // after "<"
	hTagName                 // in "<name"
	hEndTag                  // in "</…", up to ">"
	hMarkup                  // in "<!…" or "<?…", up to ">"
	hComment                 // in "<!--…", up to "-->"
	hInTag                   // between attributes
	hAttrName                // in an attribute name
	hAfterAttrName           // after a name, before "=" or the next name
	hBeforeValue             // after "="
	hValueDQ                 // in a "value"
	hValueSQ                 // in a 'value'
	hValueUnq                // in an unquoted value
	hRawText                 // in <script>, <style>… up to its end tag
)

// htmlScanner follows the literal text of an HTML template in source order.
// Block tags are transparent to it: it assumes each branch keeps the
// structure, which is what authors write, and writeURL checks at run time
// what it cannot know statically.
type htmlScanner struct {
	state   htmlState
	name    []byte // the tag or attribute name being read, lower-cased
	rawEnd  string // in a raw text tag (<script>…), "</script"
	url     bool   // the attribute being read is in urlAttrs
	settled bool   // the literal text of its value already ended a scheme
	inRef   bool   // that text is in a character reference
	match   int    // progress through "<!--", "-->" or "</tag"
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isHTMLSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

// feed scans one run of literal text and returns what its text node
// records: the offset in s where a URL attribute value still open at its
// end begins, urlKeep if that value began before s or if s neither begins
// nor ends one (so most text nodes do nothing), or urlOff if s ends one.
func (h *htmlScanner) feed(s string) int {
	start := -1
	wasURL := h.inURL()
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch h.state {
		case hText:
			if c != '<' {
				j := strings.IndexByte(s[i:], '<')
				if j < 0 {
					i = len(s)
					continue
				}
				i += j
			}
			h.state = hTagOpen
		case hTagOpen:
			switch {
			case 'a' <= lowerASCII(c) && lowerASCII(c) <= 'z':
				h.state, h.name = hTagName, append(h.name[:0], lowerASCII(c))
			case c == '/':
				h.state = hEndTag
			case c == '!':
				h.state, h.match = hMarkup, 0
			case c == '?':
				h.state, h.match = hMarkup, 3
			case c != '<':
				h.state = hText
			}
		case hTagName:
			switch {
			case isHTMLSpace(c) || c == '/':
				h.state, h.rawEnd = hInTag, ""
				if rawTextTags[string(h.name)] {
					h.rawEnd = "</" + string(h.name)
				}
			case c == '>':
				h.rawEnd = ""
				if rawTextTags[string(h.name)] {
					h.rawEnd = "</" + string(h.name)
				}
				h.endTag()
			default:
				h.name = append(h.name, lowerASCII(c))
			}
		case hEndTag:
			if c == '>' {
				h.state = hText
			}
		case hMarkup:
			switch {
			case c == '>':
				h.state = hText
			case c == '-' && h.match < 2:
				if h.match++; h.match == 2 {
					h.state, h.match = hComment, 0
				}
			default:
				h.match = 3
			}
		case hComment:
			switch {
			case c == '-':
				h.match++
			case c == '>' && h.match >= 2:
				h.state = hText
			default:
				h.match = 0
			}
		case hRawText:
			end := h.rawEnd
			if h.match == 0 && c != '<' {
				j := strings.IndexByte(s[i:], '<')
				if j < 0 {
					i = len(s)
					continue
				}
				i += j
				c = '<'
			}
			switch {
			case lowerASCII(c) == end[h.match]:
				if h.match++; h.match == len(end) {
					h.state, h.match = hEndTag, 0
				}
			case c == '<':
				h.match = 1
			default:
				h.match = 0
			}
		case hInTag:
			switch {
			case isHTMLSpace(c) || c == '/':
			case c == '>':
				h.endTag()
			default:
				h.state, h.name = hAttrName, append(h.name[:0], lowerASCII(c))
			}
		case hAttrName, hAfterAttrName:
			switch {
			case isHTMLSpace(c):
				if h.state == hAttrName {
					h.attr()
				}
				h.state = hAfterAttrName
			case c == '=':
				if h.state == hAttrName {
					h.attr()
				}
				h.state = hBeforeValue
			case c == '>':
				h.endTag()
			case c == '/':
				h.state = hInTag
			case h.state == hAfterAttrName:
				h.state, h.name = hAttrName, append(h.name[:0], lowerASCII(c))
			default:
				h.name = append(h.name, lowerASCII(c))
			}
		case hBeforeValue:
			switch {
			case isHTMLSpace(c):
			case c == '"':
				h.state, start = hValueDQ, i+1
			case c == '\'':
				h.state, start = hValueSQ, i+1
			case c == '>':
				h.endTag()
			default:
				h.state, start = hValueUnq, i
				h.settle(c)
			}
		case hValueDQ, hValueSQ:
			if c == '"' && h.state == hValueDQ || c == '\'' && h.state == hValueSQ {
				h.state, h.url = hInTag, false
			} else {
				h.settle(c)
			}
		case hValueUnq:
			switch {
			case isHTMLSpace(c):
				h.state, h.url = hInTag, false
			case c == '>':
				h.endTag()
			default:
				h.settle(c)
			}
		}
	}
	switch {
	case !h.inURL():
		if wasURL {
			return urlOff
		}
		return urlKeep
	case h.state == hBeforeValue:
		return len(s)
	case start >= 0:
		return start
	}
	return urlKeep
}

// inURL reports whether the scanner is in, or just before, the value of a
// URL attribute.
func (h *htmlScanner) inURL() bool {
	switch h.state {
	case hBeforeValue, hValueDQ, hValueSQ, hValueUnq:
		return h.url
	}
	return false
}

// attr ends an attribute name.
func (h *htmlScanner) attr() {
	h.url, h.settled, h.inRef = urlAttrs[string(h.name)], false, false
}

func (h *htmlScanner) endTag() {
	h.state, h.url, h.match = hText, false, 0
	if h.rawEnd != "" {
		h.state = hRawText
	}
}

// settle notes a literal character of an attribute value: once the
// template's own text has a ':', '/', '?' or '#', the scheme is the
// author's, and later values cannot change it.
// Characters of a character reference (&#58;) settle nothing: run-time
// decoding judges them.
func (h *htmlScanner) settle(c byte) {
	switch {
	case c == '&':
		h.inRef = true
	case h.inRef && (c == '#' || 'a' <= lowerASCII(c) && lowerASCII(c) <= 'z' || '0' <= c && c <= '9'):
	case c == ':' || c == '/' || c == '?' || c == '#':
		h.settled, h.inRef = true, false
	default:
		h.inRef = false
	}
}

// out notes an output tag and reports whether it may start, or help form,
// the scheme of a URL attribute value.
func (h *htmlScanner) out() bool {
	switch h.state {
	case hBeforeValue:
		h.state = hValueUnq
		return h.url && !h.settled
	case hValueDQ, hValueSQ, hValueUnq:
		return h.url && !h.settled
	}
	return false
}

// block notes a block tag: text inside a value may now be written or not,
// so the scheme is decided at run time.
func (h *htmlScanner) block() { h.settled = false }

// markURL records where the URL attribute value that text node n leaves
// open begins in the output.
func (st *state) markURL(n *node) {
	if n.urlAt == urlOff {
		st.mark = -1
		return
	}
	st.mark = len(st.buf) - len(n.text) + n.urlAt
}

// writeURL writes v where it may start a URL attribute value and replaces
// the whole value with "#" if it now starts with a scheme that runs code
// or embeds a document. The check reads the value as the browser will
// (entities decoded); for an escaped string it also decodes the string's
// own entities, which is stricter than the browser and harmless.
func (st *state) writeURL(v value, escape bool) error {
	before := len(st.buf)
	start := st.mark
	if start < 0 || start > before {
		start = before
	}
	if err := st.write(v, escape); err != nil {
		return err
	}
	var sc schemeScan
	feedHTML(&sc, st.buf[start:])
	bad := sc.bad
	if !bad && escape && v.k == kStr {
		sc = schemeScan{}
		if !feedHTML(&sc, st.buf[start:before]) {
			feedHTML(&sc, v.s)
		}
		bad = sc.bad
	}
	if bad {
		st.buf = append(st.buf[:start], '#')
	}
	return nil
}

// schemeScan reads the start of a URL as a browser parses it: leading
// spaces and control characters are skipped, tabs and newlines are
// ignored anywhere, the scheme is the letters (then letters, digits, + - .)
// before ':'.
type schemeScan struct {
	name          [10]byte // as long as "javascript", the longest refused
	n             int
	started, done bool
	bad           bool
}

// add feeds one decoded character and reports whether the scheme is
// decided.
func (s *schemeScan) add(r rune) bool {
	switch {
	case s.done:
		return true
	case r == '\t' || r == '\n' || r == '\r', !s.started && r <= ' ':
		return false
	}
	s.started = true
	switch {
	case r == ':':
		switch string(s.name[:s.n]) {
		case "javascript", "vbscript", "data":
			s.bad = true
		}
		s.done = true
	case 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || s.n > 0 && ('0' <= r && r <= '9' || r == '+' || r == '-' || r == '.'):
		if s.n == len(s.name) {
			s.done = true
			break
		}
		s.name[s.n] = byte(r) | 0x20 // lower-cases letters, keeps digits + - .
		s.n++
	default:
		s.done = true
	}
	return s.done
}

// feedHTML feeds text as found in an attribute value, decoding character
// references, until the scheme is decided.
func feedHTML[T string | []byte](sc *schemeScan, s T) bool {
	for i := 0; i < len(s); {
		var r rune
		switch c := s[i]; {
		case c == '&':
			r, i = decodeRef(s, i)
		case c >= 0x80:
			r, i = 0x80, i+1 // not in any scheme
		default:
			r, i = rune(c), i+1
		}
		if sc.add(r) {
			return true
		}
	}
	return false
}

// decodeRef decodes the character reference at s[i] == '&': numeric
// (&#106; &#x6A;, semicolon optional, as browsers accept) or one of the
// named references that matter to a scheme (&colon; &Tab; &NewLine;,
// matched case-insensitively, which is stricter than browsers). Anything
// else is a literal '&'.
func decodeRef[T string | []byte](s T, i int) (rune, int) {
	j := i + 1
	if j < len(s) && s[j] == '#' {
		j++
		base := 10
		if j < len(s) && s[j]|0x20 == 'x' {
			base = 16
			j++
		}
		digits, v := j, 0
		for ; j < len(s); j++ {
			d := digitVal(s[j], base)
			if d < 0 {
				break
			}
			if v <= 0x10FFFF {
				v = v*base + d
			}
		}
		if j == digits {
			return '&', i + 1
		}
		if j < len(s) && s[j] == ';' {
			j++
		}
		if v == 0 || v > 0x10FFFF {
			v = 0xFFFD
		}
		return rune(v), j
	}
	for _, ref := range [...]struct {
		name string
		r    rune
	}{{"colon", ':'}, {"tab", '\t'}, {"newline", '\n'}} {
		if j+len(ref.name) > len(s) {
			continue
		}
		k := 0
		for k < len(ref.name) && lowerASCII(s[j+k]) == ref.name[k] {
			k++
		}
		if k == len(ref.name) {
			j += k
			if j < len(s) && s[j] == ';' {
				j++
			}
			return ref.r, j
		}
	}
	return '&', i + 1
}

func digitVal(c byte, base int) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case base == 16 && 'a' <= c|0x20 && c|0x20 <= 'f':
		return int(c|0x20-'a') + 10
	}
	return -1
}
