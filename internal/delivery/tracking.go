package delivery

import (
	"cmp"
	"strings"
)

// ConfigurationSets are the SES configuration sets Herald's own template
// makes, one per tracking choice. A deployment that names its own set
// passes that one name for all three, and its event destinations decide
// what is tracked.
type ConfigurationSets struct {
	// Tracked publishes every event type, OPEN and CLICK included: SES
	// adds the open pixel and rewrites links.
	Tracked string
	// Clicks publishes every type but OPEN: links are rewritten, no pixel.
	Clicks string
	// Untracked publishes neither OPEN nor CLICK.
	Untracked string
}

// chooseConfigurationSet picks the set an email is sent through for the
// tracking wanted, and whether its links must be marked ses:no-track.
// A configuration's own set (own) is used as is; so is a deployment's
// one set, which the three names then all are. Either may track clicks,
// so links are marked whenever clicks are off. An empty Clicks or
// Untracked name falls back to Tracked, marked the same way.
func chooseConfigurationSet(sets ConfigurationSets, own string, opens, clicks bool) (name string, noTrack bool) {
	if own != "" {
		return own, !clicks
	}
	switch {
	case opens:
		// Opens only: SES has no set that adds the pixel without
		// rewriting links, so the links opt out one by one.
		return sets.Tracked, !clicks
	case clicks:
		return cmp.Or(sets.Clicks, sets.Tracked), false
	default:
		u := cmp.Or(sets.Untracked, sets.Tracked)
		return u, u == sets.Tracked
	}
}

// noTrackAttr is SES's per-link opt-out from click tracking.
const noTrackAttr = "ses:no-track"

// markNoTrack adds the ses:no-track attribute to every <a> start tag with
// an href in html, right after the tag name, unless the tag has it
// already. Text, comments, other tags and the contents of raw-text
// elements (script, style, title, textarea) are left as they are, as is a
// tag cut off at the end.
func markNoTrack(html string) string {
	var b strings.Builder
	last := 0 // html[last:] is not yet copied to b
	for i := 0; i < len(html); {
		lt := strings.IndexByte(html[i:], '<')
		if lt < 0 {
			break
		}
		i += lt
		rest := html[i:]
		switch {
		case strings.HasPrefix(rest, "<!--"):
			i = skipPast(html, i+4, "-->")
			continue
		case len(rest) > 1 && (rest[1] == '!' || rest[1] == '?' || rest[1] == '/'):
			i = skipPast(html, i+2, ">")
			continue
		case len(rest) < 2 || !isASCIILetter(rest[1]):
			// A '<' in text.
			i++
			continue
		}
		name, attrs, end, ok := scanStartTag(html, i)
		if !ok {
			break
		}
		if name == "a" && attrs.href && !attrs.noTrack {
			at := i + 1 + len(name)
			b.WriteString(html[last:at])
			b.WriteString(" " + noTrackAttr)
			last = at
		}
		i = end
		if rawText[name] {
			i = skipRawText(html, i, name)
		}
	}
	if last == 0 {
		return html
	}
	b.WriteString(html[last:])
	return b.String()
}

// rawText are the elements whose content HTML reads as text up to their
// end tag, where a "<a href>" is no link.
var rawText = map[string]bool{"script": true, "style": true, "title": true, "textarea": true, "xmp": true}

// scanStartTag reads the start tag at html[i] ('<' and a letter): its
// lower-case name, whether it has the attributes markNoTrack looks for
// (names read in lower case), and the index after its '>'. ok is false when the tag does not end.
func scanStartTag(html string, i int) (name string, attrs tagAttrs, end int, ok bool) {
	j := i + 1
	for j < len(html) && !isHTMLSpace(html[j]) && html[j] != '/' && html[j] != '>' {
		j++
	}
	name = strings.ToLower(html[i+1 : j])
	for {
		for j < len(html) && (isHTMLSpace(html[j]) || html[j] == '/') {
			j++
		}
		if j >= len(html) {
			return "", tagAttrs{}, 0, false
		}
		if html[j] == '>' {
			return name, attrs, j + 1, true
		}
		k := j
		// An attribute name runs to a space, '/', '>' or '=' (a leading
		// '=' belongs to the name, as HTML reads it).
		for j++; j < len(html) && !isHTMLSpace(html[j]) && html[j] != '/' && html[j] != '>' && html[j] != '='; j++ {
		}
		switch strings.ToLower(html[k:j]) { // allocates only for upper case
		case "href":
			attrs.href = true
		case noTrackAttr:
			attrs.noTrack = true
		}
		for j < len(html) && isHTMLSpace(html[j]) {
			j++
		}
		if j >= len(html) || html[j] != '=' {
			continue
		}
		for j++; j < len(html) && isHTMLSpace(html[j]); j++ {
		}
		if j >= len(html) {
			return "", tagAttrs{}, 0, false
		}
		if q := html[j]; q == '"' || q == '\'' {
			c := strings.IndexByte(html[j+1:], q)
			if c < 0 {
				return "", tagAttrs{}, 0, false
			}
			j += c + 2
			continue
		}
		for j < len(html) && !isHTMLSpace(html[j]) && html[j] != '>' {
			j++
		}
	}
}

// tagAttrs are the attributes of a start tag that markNoTrack looks for.
type tagAttrs struct{ href, noTrack bool }

// skipPast returns the index after the first sep at or after i, or
// len(s) when there is none.
func skipPast(s string, i int, sep string) int {
	if k := strings.Index(s[i:], sep); k >= 0 {
		return i + k + len(sep)
	}
	return len(s)
}

// skipRawText returns the index of the end tag of the raw-text element
// name (script, style) whose content starts at i, or len(s).
func skipRawText(s string, i int, name string) int {
	for j := i; j < len(s); j++ {
		if s[j] == '<' && j+2+len(name) <= len(s) && s[j+1] == '/' && strings.EqualFold(s[j+2:j+2+len(name)], name) {
			return j
		}
	}
	return len(s)
}

func isASCIILetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

func isHTMLSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}
