package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net/url"
	"strings"
	"testing"
	"unicode"
)

// FuzzParseExecute checks that no template and data can make Parse or
// Execute panic or run unbounded, that one Execute allocates no more than
// its budgets allow (the allocation budget, the output buffer, and a
// margin for its own bookkeeping), that errors have the documented types,
// and that what helpers charge before building matches what they build.
func FuzzParseExecute(f *testing.F) {
	seeds := []struct{ src, data string }{
		{"Hi {{name}}!", `{"name":"Ann"}`},
		{"{{#each a as |x i|}}{{i}}{{x.b}}{{../c}}{{else}}none{{/each}}", `{"a":[{"b":1},{"b":"<"}],"c":true}`},
		{"{{#if a}}A{{else if b}}B{{else}}C{{/if}}", `{"b":0}`},
		{"{%= p.first ?: \"there\" %}{%#if n > 2 and not x %}y{%else if n = 1%}z{%/if%}", `{"n":3}`},
		{"{% let g = a ?: 1 %}{{g}}{{#with o}}{{k}}{{/with}}", `{"o":{"k":"v"}}`},
		{"{{~#each o~}} {{@key}}={{this}} {{~/each~}}", `{"o":{"a":1,"b":[1,2]}}`},
		{"{{formatNumber n 2 grouping=\",\"}} {{formatDate d \"yyyy-MM-dd HH:mm XXX\" \"Europe/Paris\"}}", `{"n":1234.5,"d":"2026-01-01T00:00:00Z"}`},
		{"{{upper (concat a (lower b))}} {{truncate s 3 \"…\"}} {{json o}} {{join l}}", `{"a":"x","b":"Y","s":"héllo","o":{"k":[1]},"l":[1,2]}`},
		{"{{#list}}{{.}}{{/list}}{{^empty}}e{{/empty}}{{! c }}{{!-- c --}}\\{{x}}", `{"list":[1,2],"empty":[]}`},
		{"{{{raw}}}{{&raw}}{{[a b].c}}{{@root.x}}", `{"raw":"<b>","x":1}`},
		{nested("replace", `"aaaaaaaaaa"`, `"a" "aaaaaaaaaa"`, 7), `{}`},
		{withs("s", "concat X X", 30), `{"s":"ab<"}`},
		{`{{#each l}}{{#each @root.l}}{{#if (eq (replace @root.s "a" "bb") "x")}}{{/if}}{{/each}}{{/each}}`, `{"l":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20],"s":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}`},
		{`{{join l (json o)}}{{formatNumber 1e300 2 grouping=(urlEncode s)}}{{formatDate 0 s}}`, `{"l":[1,[2,null],"x"],"o":{"a":"\u2028<&>\u0001"},"s":"SSSSyyyy-MMMM"}`},
		{`<a href="{{u}}" title='{{u}}'>{{u}}</a><img src={{{u}}}><a href="java{{v}}">`, `{"u":" &#106;avascript:x","v":"script:y"}`},
		{`<script>"<a href='{{u}}'"</script><!-- <a href="{{u}}"> --><a href="{{#if t}}/{{/if}}{{u}}">`, `{"u":"data:x","t":false}`},
	}
	for _, s := range seeds {
		f.Add(s.src, s.data, uint8(0))
	}
	f.Fuzz(func(t *testing.T, src, rawData string, flags uint8) {
		const maxOutput = 1 << 16
		opts := []Option{WithMaxOutput(maxOutput), WithMaxSteps(1 << 16)}
		if flags&1 != 0 {
			opts = append(opts, WithStrict())
		}
		if flags&2 != 0 {
			opts = append(opts, WithCompat())
		}
		mode := HTML
		if flags&4 != 0 {
			mode = Text
		}
		tmpl, err := Parse(src, mode, opts...)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse error %T %v, want *SyntaxError", err, err)
			}
			return
		}
		_ = tmpl.Variables()
		_ = tmpl.Risks()
		var d any
		if json.Unmarshal([]byte(rawData), &d) != nil {
			d = map[string]any{"s": rawData}
		}
		checkMeasures(t, d, rawData)
		n := totalAlloc(func() { err = tmpl.Execute(discard{}, d) })
		if err != nil {
			var ee *ExecError
			if !errors.As(err, &ee) {
				t.Fatalf("Execute error %T %v, want *ExecError", err, err)
			}
		}
		// The budget, the output buffer (doubling up to the cap) and the
		// state's own stacks, which grow with the template and the data.
		limit := DefaultAllocFactor*maxOutput + 2*maxOutput + 64<<10 + 64*(len(src)+len(rawData))
		if n > uint64(limit) {
			t.Errorf("Execute allocated %d bytes (%v), want at most %d", n, err, limit)
		}
		// The same data decoded once into an Object, as Herald passes it:
		// the same bounds, the same measures, and, where member order
		// cannot show, the output of the map it decodes to.
		o, oerr := ParseObject([]byte(rawData))
		if oerr != nil || o.IsZero() {
			return
		}
		checkObjectMeasures(t, o)
		var out bytes.Buffer
		var errObj error
		n = totalAlloc(func() { errObj = tmpl.Execute(&out, o) })
		if n > uint64(limit) {
			t.Errorf("Execute with an Object allocated %d bytes (%v), want at most %d", n, errObj, limit)
		}
		if strings.Contains(src, "each") || strings.Contains(src, "json") {
			return
		}
		dec := json.NewDecoder(strings.NewReader(rawData))
		dec.UseNumber()
		var m map[string]any
		if dec.Decode(&m) != nil {
			return
		}
		want, errMap := tmpl.Render(m)
		if (errMap == nil) != (errObj == nil) || errMap == nil && want != out.String() {
			t.Errorf("with an Object: %q, %v; with its map: %q, %v", out.String(), errObj, want, errMap)
		}
	})
}

// checkObjectMeasures is checkMeasures for a decoded Object: what the json
// helper and the text of its values measure is what they build.
func checkObjectMeasures(t *testing.T, o Object) {
	t.Helper()
	n, ok := jsonLen(o)
	var sb strings.Builder
	new(state).writeJSON(&sb, o)
	if !ok || n != sb.Len() {
		t.Errorf("jsonLen = %d, %v; writeJSON gives %d bytes", n, ok, sb.Len())
	}
	if !json.Valid([]byte(sb.String())) {
		t.Errorf("writeJSON gives invalid JSON %s", sb.String())
	}
	for it := o.n.members(); ; {
		m, ok := it.next()
		if !ok {
			break
		}
		if v := m.value(); textLen(v) != len(appendText(nil, v)) {
			t.Errorf("textLen = %d, appendText gives %d bytes", textLen(v), len(appendText(nil, v)))
		}
	}
}

// checkMeasures checks that the engine's measurements, which are charged
// before building, are what building produces.
func checkMeasures(t *testing.T, d any, s string) {
	t.Helper()
	n, ok := jsonLen(d)
	b, err := json.Marshal(d)
	if !ok || err != nil || n != len(b) {
		t.Errorf("jsonLen = %d, %v; json.Marshal gives %d bytes, %v", n, ok, len(b), err)
	}
	var sb strings.Builder
	new(state).writeJSON(&sb, d)
	if sb.String() != string(b) {
		t.Errorf("writeJSON mismatch (-want +got):\n-%s\n+%s", b, sb.String())
	}
	if v := fromAny(d); textLen(v) != len(appendText(nil, v)) {
		t.Errorf("textLen = %d, appendText gives %d bytes", textLen(v), len(appendText(nil, v)))
	}
	if escapedLen(s) != len(appendEscaped(nil, s)) {
		t.Errorf("escapedLen = %d, appendEscaped gives %d bytes", escapedLen(s), len(appendEscaped(nil, s)))
	}
	st := &state{t: &Template{maxOutput: math.MaxInt32, maxAlloc: math.MaxInt}}
	for _, c := range []struct {
		name string
		f    func(*state, string) (string, error)
		want string
	}{
		{"upper", func(st *state, s string) (string, error) { return mapCase(st, s, strings.ToUpper, unicode.ToUpper) }, strings.ToUpper(s)},
		{"lower", func(st *state, s string) (string, error) { return mapCase(st, s, strings.ToLower, unicode.ToLower) }, strings.ToLower(s)},
		{"urlEncode", urlEncode, url.QueryEscape(s)},
	} {
		st.alloc = 0
		got, err := c.f(st, s)
		if err != nil || got != c.want {
			t.Errorf("%s = %q, %v; want %q", c.name, got, err, c.want)
		}
		if got != s && st.alloc < len(got) {
			t.Errorf("%s charged %d bytes and built %d", c.name, st.alloc, len(got))
		}
	}
}
