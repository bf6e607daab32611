package render

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestKinds(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      string // "path:kind" sorted by path
	}{
		{"written paths are strings", "{{a}} {%= b %}", "a:string b:string"},
		{"formatNumber's value is a number and its decimals an integer", "{{formatNumber total d grouping=sep}}", "d:integer sep:string total:number"},
		{"formatDate's date is a date and its zone a time zone", `{{formatDate when "yyyy" tz}}`, "tz:timeZone when:date"},
		{"truncate's length is an integer", "{{truncate s n}}", "n:integer s:string"},
		{"comparisons with a number make numbers", `{{#if (gt n 10)}}{{/if}}{{#if (eq 1 m)}}{{/if}}{%#if p >= 100 and q = "x" %}{%/if%}`, "m:number n:number p:number q:string"},
		{"comparisons with a boolean make booleans", `{%#if vip = true %}{%/if%}`, "vip:boolean"},
		{"paths only tested are booleans, written ones strings", "{{#if a}}{{/if}}{{#unless b}}{{b}}{{/unless}}{%#if not c or d %}{%/if%}", "a:boolean b:string c:boolean d:boolean"},
		{"each targets are arrays of their element paths", "{{#each order.items}}{{name}} {{formatNumber price 2}}{{/each}}",
			"order:object order.items:array order.items[]:object order.items[].name:string order.items[].price:number"},
		{"block params and this follow the element", "{{#each xs as |x|}}{{formatNumber x.n}}{{/each}}{{#each ys}}{{formatNumber this}}{{/each}}",
			"xs:array xs[]:object xs[].n:number ys:array ys[]:number"},
		{"join takes an array", "{{join tags}}", "tags:array"},
		{"with enters an object, paths below make one", "{{#with a}}{{/with}}{{b.c}}{{#d}}{{e}}{{/d}}", "a:object b:object b.c:string d:object d.e:string"},
		{"the most demanding use wins", "{{total}} {{#if total}}{{/if}} {{formatNumber total}}", "total:number"},
		{"default and ?: pass the use to both sides", `{{formatNumber (default a b)}}{% let w = c ?: d %}{{formatDate w "yyyy"}}`, "a:number b:number c:date d:date"},
		{"let variables need what their uses need", `{% let t = order.total %}{{formatNumber t 2}}`, "order:object order.total:number"},
		{"odd segments stay whole", "{{[a.b].c}}{{x.[y z]}}", "[a.b]:object [a.b].c:string x:object x.[y z]:string"},
		{"custom helpers take strings", "{{shout a}}", "a:string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := Parse(tc.src, HTML, WithHelpers(map[string]Helper{"shout": func(a []any, _ map[string]any) (any, error) { return a[0], nil }}))
			if err != nil {
				t.Fatal(err)
			}
			kinds := tmpl.Kinds()
			var got []string
			for _, p := range slices.Sorted(maps.Keys(kinds)) {
				got = append(got, fmt.Sprintf("%s:%s", p, kinds[p]))
			}
			if diff := cmp.Diff(tc.want, strings.Join(got, " ")); diff != "" {
				t.Errorf("Kinds(%q) (-want +got):\n%s", tc.src, diff)
			}
			for _, v := range tmpl.Variables() {
				if _, ok := kinds[v]; !ok {
					t.Errorf("Kinds lacks variable %q", v)
				}
			}
		})
	}
}
