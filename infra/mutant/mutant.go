// Package mutant derives hostile variants of valid API requests, for the
// tests that prove bad input is a 4xx and never a 5xx (issue 10): numbers
// beyond DynamoDB's range, empty and control-character keys, invalid
// UTF-8 and lone surrogates, U+2028 floods, deep nesting, wrong types,
// truncated and corrupted bodies, hostile path and query parameters.
//
// A Mutator is deterministic: the same seed and the same requests give the
// same mutants, so a failure is reproduced by its seed and its index.
package mutant

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
)

// Request is one API call: a route key as API Gateway names it
// ("PUT /profiles/{namespace}/{id}"), its path and query parameters and
// its body (any bytes: a mutant need not be JSON, nor UTF-8).
type Request struct {
	Route  string            `json:"route"`
	Params map[string]string `json:"params,omitempty"`
	Query  map[string]string `json:"query,omitempty"`
	Body   json.RawMessage   `json:"body,omitempty"`
	// Own asks for a fixture of its own: the route changes or deletes
	// what other routes' requests use (DELETE, stop, activate...).
	Own bool `json:"own,omitempty"`
	// Before are requests sent, each of which must succeed, on the
	// seed's own fixture before the seed and its mutants: a create of a
	// resource the fixture already holds (the tenant's one feedback
	// webhook) deletes it first. A seed with Before has its own fixture.
	Before []Request `json:"before,omitempty"`
}

// Clone returns a deep copy of r.
func (r Request) Clone() Request {
	r.Params, r.Query = maps.Clone(r.Params), maps.Clone(r.Query)
	r.Body = bytes.Clone(r.Body)
	if r.Before != nil {
		before := make([]Request, len(r.Before))
		for i, b := range r.Before {
			before[i] = b.Clone()
		}
		r.Before = before
	}
	return r
}

// Mutator makes mutants.
type Mutator struct {
	rng *rand.Rand
	// Description of the last mutation, for failure messages.
	last []string
}

// New returns a mutator seeded with seed.
func New(seed uint64) *Mutator {
	return &Mutator{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Describe says what the last Mutate did.
func (m *Mutator) Describe() string { return strings.Join(m.last, "; ") }

// Mutate returns a copy of r with one to three mutations.
func (m *Mutator) Mutate(r Request) Request {
	out := r.Clone()
	m.last = m.last[:0]
	for n := 1 + m.rng.IntN(3); n > 0; n-- {
		switch k := m.rng.IntN(20); {
		case k < 13 && len(out.Body) > 0:
			out.Body = m.mutateJSON(out.Body)
		case k < 15 && len(out.Body) > 0:
			out.Body = m.mutateBytes(out.Body)
		case k < 18 && len(out.Params) > 0:
			m.mutateMap(out.Params, false)
		default:
			if out.Query == nil {
				out.Query = map[string]string{}
			}
			m.mutateMap(out.Query, true)
		}
	}
	return out
}

func (m *Mutator) note(format string, args ...any) {
	m.last = append(m.last, fmt.Sprintf(format, args...))
}

func pick[T any](m *Mutator, list []T) T { return list[m.rng.IntN(len(list))] }

// hostileStrings are values that broke, or could break, a handler.
var hostileStrings = []string{
	"", " ", "a", "0", "-1", "null", "true", "x@example.com", "+14155550100", "crmId", "email", "sms", "push",
	"transactional", "marketing", "live", "draft", "APNS", "GCM", "y", "n", "manual", "Europe/Paris", "Local", "fr-FR",
	strings.Repeat("a", 257), strings.Repeat("x", 1100), strings.Repeat("é", 3000), strings.Repeat("\u2028", 20000), strings.Repeat("<&>", 60000),
	"\u2028", "\u2029", "\u0085", "\x00", "\v", "\t", "\x1b[31m", "\x7f", "a\r\nBcc: x@example.com", "\ufffd", "🎉",
	"../../x", "#", "T#other#prod#CAMP#x", "%00", "%ff", "\\", `"`, "'", "<script>alert(1)</script>", "javascript:alert(1)",
	"{{", "}}", "{{#each context.x}}{{/each}}", "{{{context.x}}}", "{{> partial}}", "{% let x = 1 %}", "{%= context.x %}",
	"2026-13-45T99:99:99Z", "2026-01-01T00:00:00Z", "2099-01-01T00:00:00Z", "1970-01-01T00:00:00Z",
	"cron(0 12 * * ? *)", "cron(* * * * * *)", "cron(0 0 31 2 ? *)", "rate(1 minute)", "rate(0 minutes)", "rate(99999999999 days)",
	"at(2099-01-01T00:00:00)", "arn:aws:sns:us-east-1:123456789012:app/APNS/x", "arn:aws:sns:us-east-1:123456789012:topic",
	"https://example.com/u", "mailto:x@example.com", "data:text/html,x",
}

// raw markers are replaced after encoding by text encoding/json would
// never write: invalid UTF-8 and unpaired surrogate escapes.
var rawTexts = []string{"\xff\xfe", "\xc0", "f\xff\xfez@example.com", `\ud800`, `\udc00`, `x\ud83d`, `\ud83d\ud83d`, `\ud83d\ude00`}

const rawMarker = "@@MUTANT-RAW-"

// hostileNumbers span DynamoDB's range and Go's integer types.
var hostileNumbers = []string{
	"0", "-0", "1", "-1", "1.5", "1e308", "-1e308", "1e-131", "-1e-131", "1e-130", "1e126", "9.9999999999999999999999999999999999999e125",
	"123456789012345678901234567890123456789", "1e999", "2147483648", "9223372036854775807", "9223372036854775808",
	"-9223372036854775809", "1e400", "0.0000000000000000000000000000000000000000001", "1E+2", "100000000000000000000000000000000000000000",
}

func (m *Mutator) hostileValue(depth int) any {
	switch k := m.rng.IntN(16); {
	case k < 6:
		return pick(m, hostileStrings)
	case k < 8:
		return rawMarker + fmt.Sprint(m.rng.IntN(len(rawTexts))) + "@@"
	case k < 11:
		return json.Number(pick(m, hostileNumbers))
	case k == 11:
		return pick(m, []any{nil, true, false, []any{}, map[string]any{}})
	case k == 12:
		return nest(40)
	case k == 13:
		obj := map[string]any{}
		for i := range 40 {
			obj[fmt.Sprintf("k%d", i)] = json.Number("1")
		}
		obj[""] = "empty key"
		return obj
	case k == 14 && depth < 2:
		list := make([]any, 1+m.rng.IntN(60))
		for i := range list {
			list[i] = m.hostileValue(depth + 1)
		}
		return list
	default:
		return map[string]any{pick(m, hostileStrings): m.hostileValue(depth + 1)}
	}
}

func nest(depth int) any {
	var v any = "leaf"
	for i := range depth {
		if i%2 == 0 {
			v = []any{v}
		} else {
			v = map[string]any{"n": v}
		}
	}
	return v
}

// node is one place in a parsed document: a container and the key or
// index of a value in it.
type node struct {
	obj   map[string]any
	arr   []any
	key   string
	index int
}

func collect(v any, out *[]node) {
	switch v := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			*out = append(*out, node{obj: v, key: k})
			collect(v[k], out)
		}
	case []any:
		for i, e := range v {
			*out = append(*out, node{arr: v, index: i})
			collect(e, out)
		}
	}
}

func (m *Mutator) mutateJSON(body []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return m.mutateBytes(body)
	}
	var nodes []node
	collect(doc, &nodes)
	switch {
	case len(nodes) == 0 || m.rng.IntN(12) == 0:
		doc = m.hostileValue(0)
		m.note("body replaced")
	default:
		n := pick(m, nodes)
		switch op := m.rng.IntN(10); {
		case n.obj != nil && op == 0:
			delete(n.obj, n.key)
			m.note("deleted %q", n.key)
		case n.obj != nil && op == 1:
			k := pick(m, hostileStrings)
			if m.rng.IntN(3) == 0 {
				k = rawMarker + fmt.Sprint(m.rng.IntN(len(rawTexts))) + "@@"
			}
			n.obj[k] = n.obj[n.key]
			delete(n.obj, n.key)
			m.note("renamed %q", n.key)
		case n.obj != nil && op == 2:
			n.obj[pick(m, hostileStrings)] = m.hostileValue(0)
			m.note("added a key beside %q", n.key)
		case n.arr != nil && op < 3:
			for i := range n.arr {
				n.arr[i] = n.arr[n.index]
			}
			m.note("copied element %d over its array", n.index)
		case n.obj != nil:
			n.obj[n.key] = m.hostileValue(0)
			m.note("replaced %q", n.key)
		default:
			n.arr[n.index] = m.hostileValue(0)
			m.note("replaced element %d", n.index)
		}
	}
	return encode(doc)
}

// encode writes doc as JSON, then swaps the raw markers for their text.
func encode(doc any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return []byte(fmt.Sprint(doc)) // not JSON: a mutant too
	}
	out := bytes.TrimRight(b.Bytes(), "\n")
	for i, raw := range rawTexts {
		out = bytes.ReplaceAll(out, []byte(rawMarker+fmt.Sprint(i)+"@@"), []byte(raw))
	}
	return out
}

func (m *Mutator) mutateBytes(body []byte) []byte {
	b := bytes.Clone(body)
	i := m.rng.IntN(len(b) + 1)
	switch m.rng.IntN(5) {
	case 0:
		m.note("truncated at %d", i)
		return b[:i]
	case 1:
		m.note("inserted a byte at %d", i)
		return slices.Insert(b, i, byte(m.rng.IntN(256)))
	case 2:
		j := i + m.rng.IntN(len(b)-i+1)
		m.note("deleted bytes %d-%d", i, j)
		return slices.Delete(b, i, j)
	case 3:
		m.note("inserted raw text at %d", i)
		return slices.Insert(b, i, []byte(pick(m, rawTexts))...)
	default:
		if len(b) == 0 {
			return b
		}
		i = min(i, len(b)-1)
		m.note("flipped byte %d", i)
		b[i] ^= byte(1 << m.rng.IntN(8))
		return b
	}
}

func (m *Mutator) mutateMap(p map[string]string, query bool) {
	keys := slices.Sorted(maps.Keys(p))
	switch {
	case query && (len(keys) == 0 || m.rng.IntN(4) == 0):
		k := pick(m, []string{"limit", "cursor", "channel", "status", "type", "category", "tag", "name", "token", "unknown"})
		p[k] = m.hostileParam()
		m.note("query %s set", k)
	case query && m.rng.IntN(5) == 0:
		k := pick(m, keys)
		delete(p, k)
		m.note("query %s deleted", k)
	case len(keys) > 0:
		k := pick(m, keys)
		p[k] = m.hostileParam()
		m.note("parameter %s replaced", k)
	}
}

func (m *Mutator) hostileParam() string {
	switch m.rng.IntN(6) {
	case 0:
		return pick(m, hostileNumbers)
	case 1:
		return pick(m, []string{"\xff", "a\xc0b", strings.Repeat("x", 3000), "eyJwayI6IlQjb3RoZXIjcHJvZCJ9", "AAAA", "!!!",
			"eyJwayI6IiIsInNrIjoiIn0", "-5", "0", "100000", "%2F", "a/b"})
	default:
		return pick(m, hostileStrings)
	}
}
