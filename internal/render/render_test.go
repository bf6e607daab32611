package render

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// data decodes JSON the way callers do, so tests use the real data model.
func data(t testing.TB, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad test data %s: %v", s, err)
	}
	return v
}

type renderCase struct {
	name string
	src  string
	data string
	want string
	mode Mode
	opts []Option
}

func runCases(t *testing.T, cases []renderCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := Parse(tc.src, tc.mode, tc.opts...)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.src, err)
			}
			d := any(nil)
			if tc.data != "" {
				d = data(t, tc.data)
			}
			got, err := tmpl.Render(d)
			if err != nil {
				t.Fatalf("Execute(%q): %v", tc.src, err)
			}
			if got != tc.want {
				t.Errorf("Execute(%q) mismatch (-want +got):\n-%q\n+%q", tc.src, tc.want, got)
			}
		})
	}
}

func TestInterpolation(t *testing.T) {
	runCases(t, []renderCase{
		{name: "a simple path is written", src: "Hi {{name}}!", data: `{"name":"Ann"}`, want: "Hi Ann!"},
		{name: "dotted and slashed paths are equivalent", src: "{{a.b.c}} {{a/b/c}}", data: `{"a":{"b":{"c":"x"}}}`, want: "x x"},
		{name: "this and dot refer to the current context", src: "{{#with a}}{{this.b}}{{./b}}{{.}}{{/with}}", data: `{"a":{"b":1}}`, want: "11[object Object]"},
		{name: "literal segments allow any key", src: "{{[first name]}} {{a.[b.c]}} {{a.[0]}}", data: `{"first name":"Ann","a":{"b.c":"dot","0":"zero"}}`, want: "Ann dot zero"},
		{name: "array indexes and length resolve", src: "{{list.1}} {{list.length}} {{s.length}}", data: `{"list":["a","b"],"s":"héllo"}`, want: "b 2 5"},
		{name: "missing values render empty", src: "[{{nope}}][{{a.b.c}}]", data: `{"a":1}`, want: "[][]"},
		{name: "null renders empty", src: "[{{n}}]", data: `{"n":null}`, want: "[]"},
		{name: "numbers render like JavaScript", src: "{{a}} {{b}} {{c}} {{d}} {{e}}", data: `{"a":1,"b":1.5,"c":-0.25,"d":1e21,"e":100000000}`, want: "1 1.5 -0.25 1e+21 100000000"},
		{name: "booleans render as words", src: "{{t}} {{f}}", data: `{"t":true,"f":false}`, want: "true false"},
		{name: "arrays render comma-joined", src: "{{a}}", data: `{"a":[1,"x",null]}`, want: "1,x,"},
		{name: "the triple stash does not escape", src: "{{{h}}} {{&h}}", data: `{"h":"<b>"}`, want: "<b> <b>"},
		{name: "html mode escapes like Handlebars", src: "{{h}}", data: "{\"h\":\"&<>\\\"'`=\"}", want: "&amp;&lt;&gt;&quot;&#x27;&#x60;&#x3D;"},
		{name: "text mode never escapes", src: "{{h}} {%= h %}", data: `{"h":"<a href='x'>&</a>"}`, want: "<a href='x'>&</a> <a href='x'>&</a>", mode: Text},
		{name: "escaped mustaches are literal", src: `\{{name}} \\{{name}}`, data: `{"name":"Ann"}`, want: `{{name}} \Ann`},
		{name: "escaped expression tags are literal", src: `\{%= x %}`, data: `{}`, want: `{%= x %}`},
		{name: "comments render nothing", src: "a{{! c }}b{{!-- has }} inside --}}c", want: "abc"},
		{name: "string, number, boolean and null literals can be output", src: `{{"s"}} {{1.5}} {{true}} {{null}}`, want: "s 1.5 true "},
		{name: "the root renders through @root", src: "{{#each a}}{{@root.t}}{{/each}}", data: `{"t":"T","a":[1,2]}`, want: "TT"},
		{name: "json.Number values render verbatim", src: "{{n}}", data: ``, want: ""},
		{name: "lone braces are literal text", src: "a { b } {x} %} c", want: "a { b } {x} %} c"},
	})
}

func TestJSONNumber(t *testing.T) {
	tmpl, err := Parse("{{n}} {{#if (gt n 1)}}big{{/if}}", HTML)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(`{"n": 12.50}`))
	dec.UseNumber()
	var d any
	if err := dec.Decode(&d); err != nil {
		t.Fatal(err)
	}
	got, err := tmpl.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	if want := "12.50 big"; got != want {
		t.Errorf("json.Number mismatch (-want +got):\n-%q\n+%q", want, got)
	}
}

func TestBlocks(t *testing.T) {
	runCases(t, []renderCase{
		{name: "if renders its body when truthy", src: "{{#if a}}yes{{/if}}", data: `{"a":"x"}`, want: "yes"},
		{name: "if renders else when falsy", src: "{{#if a}}yes{{else}}no{{/if}}", data: `{"a":""}`, want: "no"},
		{name: "empty arrays are falsy but empty objects truthy", src: "{{#if a}}A{{/if}}{{#if o}}O{{/if}}", data: `{"a":[],"o":{}}`, want: "O"},
		{name: "zero is falsy unless includeZero", src: "{{#if z}}a{{/if}}{{#if z includeZero=true}}b{{/if}}", data: `{"z":0}`, want: "b"},
		{name: "unless inverts if", src: "{{#unless a}}no a{{else}}a{{/unless}}", data: `{}`, want: "no a"},
		{name: "else if chains pick the first truthy branch", src: "{{#if a}}A{{else if b}}B{{else if c}}C{{else}}D{{/if}}", data: `{"c":1}`, want: "C"},
		{name: "else if chains fall through to else", src: "{{#if a}}A{{else if b}}B{{else}}D{{/if}}", data: `{}`, want: "D"},
		{name: "else unless chains work", src: "{{#if a}}A{{else unless b}}notB{{/if}}", data: `{}`, want: "notB"},
		{name: "each iterates arrays with data variables", src: "{{#each a}}{{@index}}:{{this}}{{#if @first}}F{{/if}}{{#if @last}}L{{/if}};{{/each}}", data: `{"a":["x","y","z"]}`, want: "0:xF;1:y;2:zL;"},
		{name: "each iterates objects in key order with @key", src: "{{#each o}}{{@key}}={{this}},{{/each}}", data: `{"o":{"b":2,"a":1}}`, want: "a=1,b=2,"},
		{name: "each renders else for empty and missing", src: "{{#each a}}x{{else}}empty{{/each}}|{{#each m}}x{{else}}none{{/each}}", data: `{"a":[]}`, want: "empty|none"},
		{name: "nested each reaches parents with ../ and keeps @index", src: "{{#each groups}}{{name}}:{{#each items}}{{../name}}{{@index}}{{this}}{{@../index}} {{/each}}|{{/each}}", data: `{"groups":[{"name":"g","items":["a","b"]},{"name":"h","items":["c"]}]}`, want: "g:g0a0 g1b0 |h:h0c1 |"},
		{name: "../ from an each reaches the outer context", src: "{{#each items}}{{../currency}}{{price}} {{/each}}", data: `{"currency":"$","items":[{"price":1},{"price":2}]}`, want: "$1 $2 "},
		{name: "../../ climbs two levels", src: "{{#with a}}{{#with b}}{{../../top}}{{../x}}{{/with}}{{/with}}", data: `{"top":"T","a":{"x":"X","b":{}}}`, want: "TX"},
		{name: "if does not add a context level", src: "{{#each a}}{{#if this}}{{../n}}{{/if}}{{/each}}", data: `{"n":"N","a":[1]}`, want: "N"},
		{name: "with changes the context and has else", src: "{{#with p}}{{name}}{{else}}nobody{{/with}}{{#with q}}x{{else}}nobody{{/with}}", data: `{"p":{"name":"Ann"}}`, want: "Annnobody"},
		{name: "each block params name the item and index", src: "{{#each items as |item i|}}{{i}}={{item.name}} {{/each}}", data: `{"items":[{"name":"a"},{"name":"b"}]}`, want: "0=a 1=b "},
		{name: "each block params over objects give the key", src: "{{#each o as |v k|}}{{k}}:{{v}} {{/each}}", data: `{"o":{"x":1}}`, want: "x:1 "},
		{name: "with block params name the value", src: "{{#with person as |p|}}{{p.name}}{{/with}}", data: `{"person":{"name":"Ann"}}`, want: "Ann"},
		{name: "outer block params stay visible in nested blocks", src: "{{#each a as |x|}}{{#each ../b as |y|}}{{x}}{{y}} {{/each}}{{/each}}", data: `{"a":[1,2],"b":["p","q"]}`, want: "1p 1q 2p 2q "},
		{name: "block params shadow data keys", src: "{{#each a as |name|}}{{name}}{{/each}}", data: `{"name":"no","a":["yes"]}`, want: "yes"},
		{name: "mustache sections enter objects", src: "{{#person}}{{name}}{{/person}}", data: `{"person":{"name":"Ann"}}`, want: "Ann"},
		{name: "mustache sections iterate arrays", src: "{{#list}}{{.}}{{/list}}", data: `{"list":[1,2]}`, want: "12"},
		{name: "mustache sections with true keep the context", src: "{{#ok}}{{name}}{{/ok}}", data: `{"ok":true,"name":"Ann"}`, want: "Ann"},
		{name: "inverted sections render for falsy values", src: "{{^list}}none{{/list}}{{^ok}}not ok{{/ok}}", data: `{"list":[],"ok":false}`, want: "nonenot ok"},
		{name: "sections accept else", src: "{{#x}}yes{{else}}no{{/x}}", data: `{}`, want: "no"},
		{name: "the ^ form of else works", src: "{{#if x}}yes{{^}}no{{/if}}", data: `{}`, want: "no"},
	})
}

func TestWhitespace(t *testing.T) {
	runCases(t, []renderCase{
		{name: "tilde strips whitespace on both sides", src: "a  {{~x~}}  b", data: `{"x":"X"}`, want: "aXb"},
		{name: "tilde strips newlines too", src: "<ul>\n  {{~#each a~}}\n  <li>{{.}}</li>\n  {{~/each~}}\n</ul>", data: `{"a":[1,2]}`, want: "<ul><li>1</li><li>2</li></ul>"},
		{name: "tilde works on triple stash", src: "a {{~{x}~}} b", data: `{"x":"<"}`, want: "a<b"},
		{name: "tilde works on comments and else", src: "a {{~! c ~}} b{{#if x}} y {{~else~}} z {{/if}}", data: `{}`, want: "abz "},
		{name: "standalone block lines are removed", src: "<ul>\n  {{#each a}}\n  <li>{{.}}</li>\n  {{/each}}\n</ul>\n", data: `{"a":[1,2]}`, want: "<ul>\n  <li>1</li>\n  <li>2</li>\n</ul>\n"},
		{name: "standalone else lines are removed", src: "{{#if x}}\nyes\n{{else}}\nno\n{{/if}}\n", data: `{}`, want: "no\n"},
		{name: "standalone expression tags are removed", src: "{% let g = \"hi\" %}\n{%#if true %}\n{{g}}\n{%/if%}\n", data: `{}`, want: "hi\n"},
		{name: "output tags are never standalone", src: "  {{x}}\n", data: `{"x":"X"}`, want: "  X\n"},
		{name: "two tags on a line are not standalone", src: "{{#if t}}{{/if}}\nx", data: `{"t":true}`, want: "\nx"},
	})
}

func TestExpressionTags(t *testing.T) {
	runCases(t, []renderCase{
		{name: "output writes the value", src: "{%= a.b %}", data: `{"a":{"b":"x"}}`, want: "x"},
		{name: "the default operator falls back when missing", src: `Hi {%= profile.person.name.firstName ?: "there" %}!`, data: `{}`, want: "Hi there!"},
		{name: "the default operator falls back for null and empty", src: `{%= a ?: "A" %}{%= b ?: "B" %}`, data: `{"a":null,"b":""}`, want: "AB"},
		{name: "the default operator keeps present values", src: `{%= n ?: 5 %}{%= z ?: 5 %}`, data: `{"n":"N","z":0}`, want: "N0"},
		{name: "default operators chain", src: `{%= a ?: b ?: "c" %}`, data: `{"b":"B"}`, want: "B"},
		{name: "output is escaped in html mode", src: `{%= x %}`, data: `{"x":"<i>"}`, want: "&lt;i&gt;"},
		{name: "if with comparisons", src: `{%#if n >= 3 %}big{%else if n > 1 %}mid{%else%}small{%/if%}`, data: `{"n":2}`, want: "mid"},
		{name: "equality on strings", src: `{%#if tier = "gold" %}G{%/if%}{%#if tier != "gold" %}X{%/if%}{%#if tier == "gold" %}g{%/if%}`, data: `{"tier":"gold"}`, want: "Gg"},
		{name: "less-than comparisons", src: `{%#if a < 1 %}a{%/if%}{%#if a <= 1 %}b{%/if%}{%#if s < "b" %}c{%/if%}`, data: `{"a":1,"s":"a"}`, want: "bc"},
		{name: "and, or, not and parentheses", src: `{%#if (a or b) and not c %}yes{%else%}no{%/if%}`, data: `{"b":true,"c":false}`, want: "yes"},
		{name: "not binds tighter than and", src: `{%#if not a and b %}yes{%/if%}`, data: `{"a":false,"b":true}`, want: "yes"},
		{name: "boolean and null literals", src: `{%#if flag = true %}T{%/if%}{%#if missing = null %}N{%/if%}`, data: `{"flag":true}`, want: "TN"},
		{name: "unless inverts the condition", src: `{%#unless vip %}regular{%else%}vip{%/unless%}`, data: `{"vip":false}`, want: "regular"},
		{name: "let binds a variable for later tags", src: `{% let name = profile.first ?: "friend" %}Hi {{name}}, {%= name %}!`, data: `{}`, want: "Hi friend, friend!"},
		{name: "let shadows data", src: `{% let x = "let" %}{{x}}`, data: `{"x":"data"}`, want: "let"},
		{name: "let variables work in conditions", src: `{% let n = count %}{%#if n > 2 %}many{%/if%}`, data: `{"count":3}`, want: "many"},
		{name: "let inside a block is scoped to it", src: `{{#each a}}{% let v = this %}{{v}}{{/each}}{{v}}`, data: `{"a":[1,2],"v":"outer"}`, want: "12outer"},
		{name: "mixing handlebars blocks and expression tags", src: `{{#each items}}{%#if price > 10 %}{{name}} {%/if%}{{/each}}`, data: `{"items":[{"name":"a","price":5},{"name":"b","price":20}]}`, want: "b "},
	})
}

func TestHelpers(t *testing.T) {
	runCases(t, []renderCase{
		{name: "upper", src: `{{upper s}}`, data: `{"s":"élan"}`, want: "ÉLAN"},
		{name: "lower", src: `{{lower "ABC"}}`, want: "abc"},
		{name: "capitalize", src: `{{capitalize "élan vital"}}`, want: "Élan vital"},
		{name: "trim", src: `[{{trim "  x  "}}]`, want: "[x]"},
		{name: "truncate cuts at rune boundaries", src: `{{truncate "héllo wörld" 7}}|{{truncate "héllo wörld" 7 "…"}}|{{truncate "short" 10 "…"}}`, want: "héllo w|héllo w…|short"},
		{name: "replace", src: `{{replace "a-b-c" "-" "+"}}`, want: "a+b+c"},
		{name: "concat", src: `{{concat "a" 1 true n}}`, data: `{"n":"z"}`, want: "a1truez"},
		{name: "default", src: `{{default name "friend"}} {{default "x" "y"}}`, data: `{}`, want: "friend x"},
		{name: "join", src: `{{join tags}}|{{join tags " / "}}`, data: `{"tags":["a","b"]}`, want: "a, b|a / b"},
		{name: "length", src: `{{length "héllo"}} {{length a}} {{length o}} {{length missing}}`, data: `{"a":[1,2,3],"o":{"k":1}}`, want: "5 3 1 0"},
		{name: "eq and ne", src: `{{eq 1 1}} {{eq "1" 1}} {{ne "a" "b"}}`, want: "true false true"},
		{name: "lt and gt compare numbers numerically", src: `{{lt 9 10}} {{gt 9 10}} {{lt "9" "10"}}`, want: "true false false"},
		{name: "and, or and not", src: `{{and 1 "x"}} {{and 1 0}} {{or 0 ""}} {{or 0 "x"}} {{not 0}}`, want: "true false false true true"},
		{name: "helpers nest through subexpressions", src: `{{#if (and (gt n 1) (not (eq s "x")))}}ok{{/if}} {{upper (concat "a" (lower "B"))}}`, data: `{"n":2,"s":"y"}`, want: "ok AB"},
		{name: "formatNumber with decimals", src: `{{formatNumber 1234.5 2}} {{formatNumber 2.005 0}} {{formatNumber n}}`, data: `{"n":0.1}`, want: "1234.50 2 0.1"},
		{name: "formatNumber with grouping and decimal separators", src: `{{formatNumber 1234567.891 2 grouping=","}} {{formatNumber -1234.5 2 grouping="." decimal=","}}`, want: "1,234,567.89 -1.234,50"},
		{name: "formatNumber accepts numeric strings", src: `{{formatNumber "42" 1}}`, want: "42.0"},
		{name: "formatDate with a time zone", src: `{{formatDate d "yyyy-MM-dd HH:mm" "Europe/Paris"}}`, data: `{"d":"2026-07-14T20:30:00Z"}`, want: "2026-07-14 22:30"},
		{name: "formatDate with names and literals", src: `{{formatDate d "EEEE d MMMM yyyy 'at' h:mm a"}}`, data: `{"d":"2026-01-05T09:07:00Z"}`, want: "Monday 5 January 2026 at 9:07 AM"},
		{name: "formatDate short names and offsets", src: `{{formatDate d "EEE, dd MMM yy HH:mm:ss.SSS Z XXX" "America/New_York"}}`, data: `{"d":"2026-01-05T09:07:08.123Z"}`, want: "Mon, 05 Jan 26 04:07:08.123 -0500 -05:00"},
		{name: "formatDate accepts dates without time", src: `{{formatDate d "dd/MM/yyyy XXX"}}`, data: `{"d":"2026-02-28"}`, want: "28/02/2026 Z"},
		{name: "formatDate accepts epoch milliseconds", src: `{{formatDate 0 "yyyy-MM-dd'T'HH:mm:ssXXX"}}`, want: "1970-01-01T00:00:00Z"},
		{name: "formatDate of missing is empty", src: `[{{formatDate d "yyyy"}}]`, data: `{}`, want: "[]"},
		{name: "urlEncode", src: `{{urlEncode "a b&c=d/é"}}`, want: "a+b%26c%3Dd%2F%C3%A9", mode: Text},
		{name: "json in text mode", src: `{{json o}}`, data: `{"o":{"a":[1,"x"]}}`, want: `{"a":[1,"x"]}`, mode: Text},
		{name: "json is escaped in html mode", src: `{{json o}}`, data: `{"o":{"a":"<b>"}}`, want: `{&quot;a&quot;:&quot;\u003cb\u003e&quot;}`},
		{name: "hash values can be paths", src: `{{formatNumber n 2 grouping=sep}}`, data: `{"n":1000,"sep":" "}`, want: "1 000.00"},
	})
}

func TestCustomHelpers(t *testing.T) {
	helpers := map[string]Helper{
		"greet": func(args []any, hash map[string]any) (any, error) {
			return "Hello, " + args[0].(string) + hash["punct"].(string), nil
		},
		"bold": func(args []any, _ map[string]any) (any, error) {
			return SafeString("<b>" + args[0].(string) + "</b>"), nil
		},
		"fail": func([]any, map[string]any) (any, error) { return nil, errors.New("boom") },
	}
	runCases(t, []renderCase{
		{name: "custom helpers receive args and hash", src: `{{greet name punct="!"}}`, data: `{"name":"<Ann>"}`, want: "Hello, &lt;Ann&gt;!", opts: []Option{WithHelpers(helpers)}},
		{name: "SafeString results are not escaped", src: `{{bold "x"}}`, want: "<b>x</b>", opts: []Option{WithHelpers(helpers)}},
	})
	tmpl, err := Parse(`{{fail 1}}`, HTML, WithHelpers(helpers))
	if err != nil {
		t.Fatal(err)
	}
	_, err = tmpl.Render(nil)
	var ee *ExecError
	if !errors.As(err, &ee) || !strings.Contains(err.Error(), "boom") || ee.Line != 1 || ee.Col != 3 {
		t.Errorf("helper error = %v, want *ExecError at line 1, col 3 mentioning boom", err)
	}
}

func TestHTMLInjection(t *testing.T) {
	evil := `<script>alert('x')</script>" onload="x` + "`="
	d := map[string]any{"v": evil, "list": []any{evil}, "o": map[string]any{"k": evil}}
	for _, src := range []string{
		`{{v}}`, `<a title="{{v}}">`, `{%= v %}`, `{%= missing ?: v %}`, `{{#each list}}{{this}}{{/each}}`,
		`{{#each o}}{{@key}}{{this}}{{/each}}`, `{{upper v}}`, `{{lower v}}`, `{{concat v v}}`, `{{default x v}}`,
		`{{join list}}`, `{{truncate v 100}}`, `{{replace v "x" "y"}}`, `{{json v}}`, `{{trim v}}`, `{{capitalize v}}`,
		`{{list}}`, `{% let a = v %}{{a}}`, `{{#with o}}{{k}}{{/with}}`, `{{#each list as |i|}}{{i}}{{/each}}`,
	} {
		t.Run("html mode escapes "+src, func(t *testing.T) {
			tmpl, err := Parse(src, HTML)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tmpl.Render(d)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(got, "<script") || strings.ContainsAny(got, "'`") || strings.Contains(got, "\" onload") || strings.Contains(got, "x=") {
				t.Errorf("Execute(%q) = %q: contains unescaped markup characters", src, got)
			}
		})
	}
	t.Run("the triple stash is the author's explicit opt-out", func(t *testing.T) {
		tmpl, err := Parse(`{{{v}}}`, HTML)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := tmpl.Render(d); got != evil {
			t.Errorf("triple stash mismatch (-want +got):\n-%q\n+%q", evil, got)
		}
	})
}

func TestSyntaxErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"an unclosed tag names what was expected", "Hi {{name", `line 1, col 4: unclosed tag: expected "}}"`},
		{"an unclosed block names its opener", "{{#if a}}\nx", `line 2, col 2: expected "{{/if}}" to close "{{#if}}" opened at line 1, col 1`},
		{"a mismatched close is reported where it is", "{{#each a}}\n  {{/if}}", `line 2, col 3: expected "{{/each}}" to close "{{#each}}" opened at line 1, col 1, found "{{/if}}"`},
		{"an unknown helper is a parse error", "\n  {{frobnicate x}}", `line 2, col 5: unknown helper "frobnicate"`},
		{"an unknown helper in a subexpression is a parse error", "{{upper (nope x)}}", `line 1, col 10: unknown helper "nope"`},
		{"wrong helper arity is a parse error", "{{upper a b}}", `line 1, col 3: helper "upper" expects 1 arguments, got 2`},
		{"a stray close is reported", "x{{/if}}", `line 1, col 2: unexpected "{{/if}}" with no open block`},
		{"a stray else is reported", "{{else}}", `line 1, col 1: unexpected "{{else}}" with no open block`},
		{"partials are rejected", "{{> header}}", `line 1, col 1: partials are not supported`},
		{"unknown data variables are rejected", "{{@foo}}", `line 1, col 3: unknown data variable @foo; expected @index, @key, @first, @last or @root`},
		{"an unterminated string is reported", `{{upper "abc}}`, `line 1, col 1: unclosed tag: expected "}}"`},
		{"an expression tag without operator", "{% foo %}", `line 1, col 4: expected "=", "#if", "#unless", "else", "/if", "/unless" or "let" in expression tag`},
		{"an incomplete expression names what was expected", "{%= a ?: %}", `line 1, col 9: expected value`},
		{"trailing junk in an expression", `{%= a b %}`, `line 1, col 7: expected "%}" after expression`},
		{"an expression block closed by a mustache close", "{%#if a %}x{{/if}}", `line 1, col 12: expected "{%/if%}" to close "{%#if%}" opened at line 1, col 1, found "{{/if}}"`},
		{"let needs a name", "{% let = 1 %}", `line 1, col 8: expected variable name after "let"`},
		{"an unknown block helper", "{{#repeat 3}}x{{/repeat}}", `line 1, col 4: unknown block helper "repeat"`},
		{"if takes one argument", "{{#if}}x{{/if}}", `line 1, col 4: #if expects 1 argument, got 0`},
		{"an unclosed comment", "{{!-- x }}", `line 1, col 1: unclosed comment: expected "--}}"`},
		{"an unclosed literal segment", "{{a.[b}}", `line 1, col 5: expected "]" to end path segment`},
		{"../ in the middle of a path", "{{a/../b}}", `line 1, col 5: "../" is only allowed at the start of a path`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.src, HTML)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error = %v, want *SyntaxError", tc.src, err)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("Parse(%q) error mismatch (-want +got):\n-%s\n+%s", tc.src, tc.want, got)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	t.Run("nesting deeper than the limit fails to parse", func(t *testing.T) {
		src := strings.Repeat("{{#if a}}", 65) + strings.Repeat("{{/if}}", 65)
		_, err := Parse(src, HTML)
		if err == nil || !strings.Contains(err.Error(), "nested deeper than 64") {
			t.Errorf("Parse error = %v, want nesting error", err)
		}
		if _, err := Parse(src, HTML, WithMaxDepth(100)); err != nil {
			t.Errorf("Parse with WithMaxDepth(100) = %v, want nil", err)
		}
	})
	t.Run("deep subexpressions fail to parse", func(t *testing.T) {
		src := "{{not " + strings.Repeat("(not ", 70) + "1" + strings.Repeat(")", 70) + "}}"
		if _, err := Parse(src, HTML); err == nil || !strings.Contains(err.Error(), "nested deeper") {
			t.Errorf("Parse error = %v, want nesting error", err)
		}
	})
	t.Run("output beyond the cap fails and writes nothing", func(t *testing.T) {
		tmpl, err := Parse("{{#each a}}{{#each @root.a}}{{#each @root.a}}xxxxxxxxxx{{/each}}{{/each}}{{/each}}", HTML, WithMaxOutput(1000))
		if err != nil {
			t.Fatal(err)
		}
		list := make([]any, 20)
		var b strings.Builder
		err = tmpl.Execute(&b, map[string]any{"a": list})
		if !errors.Is(err, ErrOutputLimit) || b.Len() != 0 {
			t.Errorf("Execute = %v with %d bytes written, want ErrOutputLimit and nothing written", err, b.Len())
		}
	})
	t.Run("silent nested loops hit the step limit", func(t *testing.T) {
		tmpl, err := Parse("{{#each a}}{{#each @root.a}}{{#each @root.a}}{{#if x}}{{/if}}{{/each}}{{/each}}{{/each}}", HTML, WithMaxSteps(10000))
		if err != nil {
			t.Fatal(err)
		}
		err = tmpl.Execute(&strings.Builder{}, map[string]any{"a": make([]any, 100)})
		if !errors.Is(err, ErrStepLimit) {
			t.Errorf("Execute = %v, want ErrStepLimit", err)
		}
	})
}

func TestStrict(t *testing.T) {
	for _, tc := range []struct {
		name, src, path string
	}{
		{"a missing output path is an error naming it", "Hi\n  {{profile.name.first}}", "profile.name.first"},
		{"a missing expression output is an error", "{%= context.offerCode %}", "context.offerCode"},
		{"a missing helper argument is an error", "{{upper nick}}", "nick"},
		{"a missing each target is an error", "{{#each items}}x{{/each}}", "items"},
		{"the last fallback of ?: must exist", `{%= a ?: b %}`, "b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := Parse(tc.src, HTML, WithStrict())
			if err != nil {
				t.Fatal(err)
			}
			_, err = tmpl.Render(map[string]any{"profile": map[string]any{}})
			var ee *ExecError
			if !errors.As(err, &ee) || !errors.Is(err, ErrMissing) || ee.Path != tc.path {
				t.Fatalf("Execute = %v, want *ExecError for %q", err, tc.path)
			}
		})
	}
	t.Run("the error message has position and path", func(t *testing.T) {
		tmpl, _ := Parse("Hi\n  {{profile.name}}", HTML, WithStrict())
		_, err := tmpl.Render(map[string]any{})
		if want := `line 2, col 5: missing value for "profile.name"`; err == nil || err.Error() != want {
			t.Errorf("error mismatch (-want +got):\n-%s\n+%v", want, err)
		}
	})
	runCases(t, []renderCase{
		{name: "conditions may test missing values in strict mode", src: `{{#if a.b}}x{{/if}}{%#if c = 1 %}y{%/if%}{{#d}}z{{/d}}{{^e}}e{{/e}}{{#if (eq f 1)}}f{{/if}}`, data: `{}`, want: "e", opts: []Option{WithStrict()}},
		{name: "defaults may test missing values in strict mode", src: `{%= a ?: "A" %}{{default b "B"}}`, data: `{}`, want: "AB", opts: []Option{WithStrict()}},
		{name: "null is present in strict mode", src: `[{{a}}]`, data: `{"a":null}`, want: "[]", opts: []Option{WithStrict()}},
	})
}

func TestCompat(t *testing.T) {
	runCases(t, []renderCase{
		{name: "without compat, names are not looked up in parent contexts", src: "{{#each a}}{{t}}{{/each}}", data: `{"t":"T","a":[{}]}`, want: ""},
		{name: "with compat, names fall back to parent contexts", src: "{{#each a}}{{t}}{{/each}}", data: `{"t":"T","a":[{}]}`, want: "T", opts: []Option{WithCompat()}},
	})
}

func TestVariables(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"plain paths are listed sorted and de-duplicated", "{{b.x}}{{a}}{{b.x}}{{b/y}}", []string{"a", "b.x", "b.y"}},
		{"each targets and element paths use []", "{{#each order.items}}{{name}}{{../order.id}}{{/each}}", []string{"order.id", "order.items", "order.items[].name"}},
		{"block params resolve to the iterated path", "{{#each order.items as |item i|}}{{item.name}}{{i}}{{/each}}", []string{"order.items", "order.items[].name"}},
		{"with resolves relative paths", "{{#with profile.person}}{{name.firstName}}{{/with}}", []string{"profile.person", "profile.person.name.firstName"}},
		{"@root and data variables", "{{#each a}}{{@root.x}}{{@index}}{{this}}{{/each}}", []string{"a", "a[]", "x"}},
		{"helper names are not paths but their arguments are", `{{upper p.name}}{{#if (eq tier "gold")}}{{/if}}`, []string{"p.name", "tier"}},
		{"expression tags and let", `{% let n = profile.first ?: context.fallback %}{{n}}{%#if a.b > 1 and not c %}{%/if%}`, []string{"a.b", "c", "context.fallback", "profile.first"}},
		{"sections are treated as objects", "{{#person}}{{name}}{{/person}}{{^x}}{{y}}{{/x}}", []string{"person", "person.name", "x", "y"}},
		{"odd segments are bracketed", "{{[first name]}}", []string{"[first name]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := Parse(tc.src, HTML)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(tmpl.Variables(), " ")
			if want := strings.Join(tc.want, " "); got != want {
				t.Errorf("Variables(%q) mismatch (-want +got):\n-%s\n+%s", tc.src, want, got)
			}
		})
	}
}

func TestConcurrentExecute(t *testing.T) {
	email, _, d := loadFixture(t)
	tmpl, err := Parse(email, HTML)
	if err != nil {
		t.Fatal(err)
	}
	want, err := tmpl.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 8)
	for range 8 {
		go func() {
			for range 200 {
				got, err := tmpl.Render(d)
				if err == nil && got != want {
					err = errors.New("concurrent render differs")
				}
				if err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
	}
	for range 8 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
}
