package render

import (
	"strings"
	"testing"
)

// TestURLAttributes checks the safeUrl rule: in HTML mode a value that
// starts a URL attribute's value with a javascript:, vbscript: or data:
// scheme, as the browser reads it, is written as "#"; everything else is
// written as before.
func TestURLAttributes(t *testing.T) {
	const js = "javascript:alert(1)"
	d := `{"js":"javascript:alert(1)","ok":"https://example.com/a?b=c","vb":"VBScript:msgbox","data":"data:text/html;base64,PHNjcmlwdD4=",` +
		`"spaced":"  \t javascript:alert(1)","ctl":"\u0001\u0000javascript:alert(1)","mixed":"JaVaScRiPt:alert(1)","tabbed":"java\tscr\nipt:alert(1)",` +
		`"ent":"&#106;avascript:alert(1)","enthex":"&#x6A&#x61;vascript:alert(1)","colon":"javascript&colon;alert(1)","rel":"/path:x","java":"java","script":"script:alert(1)",` +
		`"list":["javascript:alert(1)"],"n":42}`
	runCases(t, []renderCase{
		{name: "a javascript URL in a double-quoted href becomes #", src: `<a href="{{js}}">x</a>`, data: d, want: `<a href="#">x</a>`},
		{name: "a javascript URL in a single-quoted href becomes #", src: `<a href='{{js}}'>x</a>`, data: d, want: `<a href='#'>x</a>`},
		{name: "a javascript URL in an unquoted href becomes #", src: `<a href={{js}}>x</a>`, data: d, want: `<a href=#>x</a>`},
		{name: "spaces around the equals sign do not hide the attribute", src: `<a class="c" href = "{{js}}" >x</a>`, data: d, want: `<a class="c" href = "#" >x</a>`},
		{name: "an https URL is written escaped as before", src: `<a href="{{ok}}">x</a>`, data: d, want: `<a href="https://example.com/a?b&#x3D;c">x</a>`},
		{name: "a vbscript URL becomes #", src: `<img src="{{vb}}">`, data: d, want: `<img src="#">`},
		{name: "a data URL becomes #", src: `<iframe src="{{data}}"></iframe>`, data: d, want: `<iframe src="#"></iframe>`},
		{name: "leading whitespace in the value does not hide the scheme", src: `<a href="{{spaced}}">`, data: d, want: `<a href="#">`},
		{name: "leading whitespace in the template does not hide the scheme", src: `<a href=" {{js}}">`, data: d, want: `<a href="#">`},
		{name: "leading control characters do not hide the scheme", src: `<a href="{{{ctl}}}">`, data: d, want: `<a href="#">`},
		{name: "the scheme is matched case-insensitively", src: `<a HREF="{{mixed}}">`, data: d, want: `<a HREF="#">`},
		{name: "tabs and newlines inside the scheme do not hide it", src: `<a href="{{tabbed}}">`, data: d, want: `<a href="#">`},
		{name: "an entity-encoded scheme becomes #", src: `<a href="{{ent}}">`, data: d, want: `<a href="#">`},
		{name: "an entity-encoded scheme in a triple stash becomes #", src: `<a href="{{{enthex}}}">`, data: d, want: `<a href="#">`},
		{name: "an entity-encoded colon becomes #", src: `<a href="{{{colon}}}">`, data: d, want: `<a href="#">`},
		{name: "a triple stash does not bypass the rule", src: `<a href="{{{js}}}">`, data: d, want: `<a href="#">`},
		{name: "the ampersand form of the raw output does not bypass the rule", src: `<a href="{{&js}}">`, data: d, want: `<a href="#">`},
		{name: "an expression tag is checked too", src: `<a href="{%= js %}">`, data: d, want: `<a href="#">`},
		{name: "a helper result is checked too", src: `<a href="{{default missing js}}">`, data: d, want: `<a href="#">`},
		{name: "an array that prints as a javascript URL becomes #", src: `<a href="{{list}}">`, data: d, want: `<a href="#">`},
		{name: "every URL attribute is checked", src: `<form action="{{js}}"><button formaction="{{js}}"></button></form><svg><a xlink:href="{{js}}"></a></svg><td background="{{js}}"><video poster="{{js}}"></video><q cite="{{js}}"></q><object data="{{js}}"></object>`, data: d,
			want: `<form action="#"><button formaction="#"></button></form><svg><a xlink:href="#"></a></svg><td background="#"><video poster="#"></video><q cite="#"></q><object data="#"></object>`},
		{name: "attributes that are not URLs are left alone", src: `<a title="{{js}}" data-x="{{js}}" hreflang="{{js}}">`, data: d, want: `<a title="javascript:alert(1)" data-x="javascript:alert(1)" hreflang="javascript:alert(1)">`},
		{name: "a value after the start of the URL is left alone", src: `<a href="https://x/?q={{js}}">`, data: d, want: `<a href="https://x/?q=javascript:alert(1)">`},
		{name: "a relative path from data is left alone", src: `<a href="{{rel}}">`, data: d, want: `<a href="/path:x">`},
		{name: "a scheme split over two values becomes #", src: `<a href="{{java}}{{script}}">`, data: d, want: `<a href="#">`},
		{name: "a scheme completed by a value after literal text becomes #", src: `<a href="java{{script}}">`, data: d, want: `<a href="#">`},
		{name: "a literal entity before a value counts", src: `<a href="&#106;{{{script}}}">`, data: `{"script":"avascript:alert(1)"}`, want: `<a href="#">`},
		{name: "a prefix written only on one branch is judged as written", src: `{{#each l}}<a href="{{#if safe}}https://x/{{/if}}{{u}}">{{/each}}`,
			data: `{"l":[{"safe":true,"u":"javascript:1"},{"safe":false,"u":"javascript:1"}]}`, want: `<a href="https://x/javascript:1"><a href="#">`},
		{name: "a value in a loop is checked at every iteration", src: `{{#each l}}<a href="{{this}}">{{/each}}`, data: `{"l":["https://a","javascript:b","/c"]}`, want: `<a href="https://a"><a href="#"><a href="/c">`},
		{name: "a number is left alone", src: `<a href="{{n}}">`, data: d, want: `<a href="42">`},
		{name: "text outside tags is left alone", src: `<p>{{js}}</p> href="{{js}}"`, data: d, want: `<p>javascript:alert(1)</p> href="javascript:alert(1)"`},
		{name: "attributes inside script text are not attributes", src: `<script>var s = '<a href="{{js}}">';</script><a href="{{js}}">`, data: d, want: `<script>var s = '<a href="javascript:alert(1)">';</script><a href="#">`},
		{name: "attributes inside comments are not attributes", src: `<!-- <a href="{{js}}"> --><a href="{{js}}">`, data: d, want: `<!-- <a href="javascript:alert(1)"> --><a href="#">`},
		{name: "a comment between the attribute and the value changes nothing", src: `<a href="{{! note }}{{js}}">`, data: d, want: `<a href="#">`},
		{name: "text mode is untouched", src: `<a href="{{js}}">`, data: d, want: `<a href="javascript:alert(1)">`, mode: Text},
	})
}

// TestURLAttributesKeepEscaping checks that a value checked by the rule
// is still escaped when it is safe.
func TestURLAttributesKeepEscaping(t *testing.T) {
	tmpl, err := Parse(`<a href="{{v}}">`, HTML)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tmpl.Render(map[string]any{"v": `x" onmouseover="alert(1)`})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(got, `" onmouseover`) {
		t.Errorf("Render = %q: the value left its attribute", got)
	}
}
