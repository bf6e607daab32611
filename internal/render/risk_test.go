package render

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRisks(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		want []string // "kind line:col"
	}{
		{name: "an ordinary email has none", src: "{{#each order.items}}<td>{{upper name}}</td><td>{{formatNumber price 2 grouping=\",\"}}</td>{{/each}}{{json context.data}}{{replace context.text \"\\n\" \"<br>\"}}"},
		{name: "loops over nested data have none", src: "{{#each orders as |o|}}{{#each o.items}}{{concat name sku}}{{/each}}{{#each lines}}{{#each this}}{{upper .}}{{/each}}{{/each}}{{/each}}"},
		{name: "seven nested replaces of literals are a growth risk where they first cross the output cap",
			src: nested("replace", `"aaaaaaaaaa"`, `"a" "aaaaaaaaaa"`, 7), want: []string{"growth 1:11"}},
		{name: "three nested replaces of data are a growth risk", src: nested("replace", "context.s", `"a" "aaaaaaaaaa"`, 3), want: []string{"growth 1:3"}},
		{name: "two nested replaces of data are not", src: nested("replace", "context.s", `"a" "aaaaaaaaaa"`, 2)},
		{name: "a replacement from data is a growth risk", src: `{{replace context.s "a" context.r}}`, want: []string{"growth 1:3"}},
		{name: "a join with a separator from data is a growth risk", src: `{{join context.l context.sep}}`, want: []string{"growth 1:3"}},
		{name: "growth through block params is followed", src: withs("context.s", `replace X "a" "aaaaaaaaaa"`, 3), want: []string{"growth 1:130"}},
		{name: "growth through this is followed", src: `{{#with (replace s "a" "aaaaaaaaaa")}}{{#with (replace this "a" "aaaaaaaaaa")}}{{replace . "a" "aaaaaaaaaa"}}{{/with}}{{/with}}`, want: []string{"growth 1:82"}},
		{name: "concat doubling through block params is a growth risk", src: withs("context.s", "concat X X", 12), want: []string{"growth 1:324"}},
		{name: "a helper in loops over unrelated data is a loop risk", src: `{{#each a}}{{#each @root.a}}{{#if (eq (replace @root.s "a" "bb") "x")}}{{/if}}{{/each}}{{/each}}`, want: []string{"loop 1:39"}},
		{name: "a helper in loops over a parent's array is a loop risk", src: `{{#each a}}{{#each ../b}}{{upper this}}{{/each}}{{/each}}`, want: []string{"loop 1:28"}},
		{name: "a section over unrelated data is a loop risk", src: `{{#each a}}{{#../b}}{{upper .}}{{/../b}}{{/each}}`, want: []string{"loop 1:23"}},
		{name: "comparisons in loops over unrelated data are not", src: `{{#each a}}{{#each @root.a}}{{#if (eq this "x")}}{{/if}}{{/each}}{{/each}}`},
		{name: "a call with both risks reports both", src: `{{#each a}}{{#each @root.b}}{{replace this "a" s}}{{/each}}{{/each}}`, want: []string{"loop 1:31", "growth 1:31"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := Parse(tc.src, HTML)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range tmpl.Risks() {
				got = append(got, fmt.Sprintf("%s %d:%d", r.Kind, r.Line, r.Col))
				t.Log(r)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Risks(%q) (-want +got):\n%s", tc.src, diff)
			}
		})
	}
}

func TestRiskMessages(t *testing.T) {
	tmpl, err := Parse("x\n  "+nested("replace", "context.s", `"a" "aaaaaaaaaa"`, 3), HTML)
	if err != nil {
		t.Fatal(err)
	}
	want := []Risk{{Line: 2, Col: 5, Kind: RiskGrowth, Msg: `helper "replace" may build a string 1000 times the size of its data`}}
	if diff := cmp.Diff(want, tmpl.Risks()); diff != "" {
		t.Errorf("Risks (-want +got):\n%s", diff)
	}
	if got, want := want[0].String(), `line 2, col 5: helper "replace" may build a string 1000 times the size of its data`; got != want {
		t.Errorf("String() mismatch (-want +got):\n-%s\n+%s", want, got)
	}
}
