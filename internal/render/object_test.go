package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustObject(t testing.TB, s string) Object {
	t.Helper()
	o, err := ParseObject([]byte(s))
	if err != nil {
		t.Fatalf("ParseObject(%s): %v", s, err)
	}
	return o
}

func render(t *testing.T, src string, mode Mode, data any) string {
	t.Helper()
	tmpl, err := Parse(src, mode)
	if err != nil {
		t.Fatal(err)
	}
	out, err := tmpl.Render(data)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEachOverAnObjectIteratesAsHandlebars is the spec of #each over an
// object: handlebars.js iterates Object.keys(context), which lists the
// names that are array indexes first, ascending, then the others in the
// order JSON.parse met them; a duplicated name keeps its first place and
// its last value. The expected orders are what node printed for
// Object.keys(JSON.parse(data)) (node v18, 2026-12-01).
func TestEachOverAnObjectIteratesAsHandlebars(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"members come in the order the JSON wrote them, not sorted",
			`{"o":{"zeta":1,"alpha":2,"mid":3}}`, "zeta=1,alpha=2,mid=3,"},
		{"array indexes come first, in numeric order",
			`{"o":{"b":1,"a":2,"10":3,"2":4,"01":6,"4294967295":7,"4294967294":8}}`,
			"2=4,10=3,4294967294=8,b=1,a=2,01=6,4294967295=7,"},
		{"a duplicated name keeps its first place and its last value",
			`{"o":{"b":1,"a":2,"b":3}}`, "b=3,a=2,"},
		{"a large object (looked up through an index) keeps its order too",
			`{"o":{"q":1,"p":2,"o":3,"n":4,"m":5,"l":6,"k":7,"j":8,"i":9,"h":10,"g":11,"f":12,"e":13,"d":14,"c":15,"b":16,"a":17,"q":0}}`,
			"q=0,p=2,o=3,n=4,m=5,l=6,k=7,j=8,i=9,h=10,g=11,f=12,e=13,d=14,c=15,b=16,a=17,"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := render(t, "{{#each o}}{{@key}}={{this}},{{/each}}", Text, mustObject(t, tt.data))
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			// The block params and @index follow the same order.
			got = render(t, "{{#each o as |v k|}}{{k}}={{v}},{{/each}}", Text, mustObject(t, tt.data))
			if got != tt.want {
				t.Errorf("with block params: got %q, want %q", got, tt.want)
			}
		})
	}
}

// numberMap is data as the map[string]any encoding/json decodes it to,
// numbers kept as written: what an Object must render and encode as.
func numberMap(t *testing.T, data string) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestObjectRendersAsTheMapItDecodesTo(t *testing.T) {
	data := `{"name":"Zoë \u003c\"x\"\u003e","n":42.50,"big":1e400,"t":true,"z":null,"l":[1,"a",{"k":"v"},[]],` +
		`"o":{"k":"v","e":{}},"s":"a\/b\u2028c\ud800","esc":"tab\there"}`
	m := numberMap(t, data)
	o := mustObject(t, data)
	for _, src := range []string{
		"{{name}} {{n}} {{big}} {{t}} {{z}} {{l}} {{l.length}} {{l.[2].k}} {{o.k}} {{s}} {{s.length}} {{esc}}",
		"{{#if o.e}}empty objects are truthy{{/if}}{{#if l.[3]}}{{else}}empty arrays are not{{/if}}",
		"{{#with o}}{{k}}{{/with}}{{#each l}}[{{@index}}:{{this}}{{#if @last}}!{{/if}}]{{/each}}",
		"{{length l}} {{length o}} {{join l \"|\"}} {{upper name}} {{#if (eq n 42.5)}}eq{{/if}}",
		"{{json l}} {{json s}} {{json n}} {{json big}} {{json o.e}}",
		"{{#each o.e}}x{{else}}no members{{/each}}{{#l}}<{{.}}>{{/l}}",
	} {
		for _, mode := range []Mode{HTML, Text} {
			want := render(t, src, mode, m)
			if got := render(t, src, mode, o); got != want {
				t.Errorf("%s (%v):\n got %q\nwant %q", src, mode, got, want)
			}
		}
	}
	if got, want := o.Size(), jsonSizeOf(t, m); got != want {
		t.Errorf("Size() = %d, want %d (encoding/json's)", got, want)
	}
	want, _ := json.Marshal(m)
	if got := o.AppendCanonicalJSON(nil); !bytes.Equal(got, want) {
		t.Errorf("AppendCanonicalJSON:\n got %s\nwant %s", got, want)
	}
	if diff := cmp.Diff(m, o.Map()); diff != "" {
		t.Errorf("Map() (-want +got):\n%s", diff)
	}
}

func jsonSizeOf(t *testing.T, v any) int {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.Len() - 1
}

func TestObjectJSONRoundTrip(t *testing.T) {
	in := `{ "b" : [1, 2.50, {"x": null}], "a": "<&>", "u": "\u00e9\u2029" }`
	o := mustObject(t, in)
	got, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	// Members keep their order; json.Marshal escapes HTML in a
	// Marshaler's output as everywhere.
	want := `{"b":[1,2.50,{"x":null}],"a":"\u003c\u0026\u003e","u":"é\u2029"}`
	if string(got) != want {
		t.Errorf("json.Marshal = %s, want %s", got, want)
	}
	raw, _ := o.MarshalJSON()
	if len(raw) != o.Size() {
		t.Errorf("MarshalJSON is %d bytes, Size() %d", len(raw), o.Size())
	}
	var back Object
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(o.Keys(), back.Keys()); diff != "" {
		t.Errorf("keys after a round trip (-want +got):\n%s", diff)
	}
}

func TestParseObjectRefusesWhatIsNotAnObject(t *testing.T) {
	for in, want := range map[string]string{
		`"s"`:   "must be an object, not a string",
		`[1]`:   "must be an object, not an array",
		`12`:    "must be an object, not a number",
		`false`: "must be an object, not a boolean",
	} {
		_, err := ParseObject([]byte(in))
		if err == nil || err.Error() != want || !errors.Is(err, ErrNotObject) {
			t.Errorf("ParseObject(%s) = %v, want %q", in, err, want)
		}
	}
	for _, in := range []string{`{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":tru}`, `{"a":01}`, `{"a":"x}`, `{} {}`, "{\"a\":\"\x01\"}"} {
		if _, err := ParseObject([]byte(in)); err == nil {
			t.Errorf("ParseObject(%q) accepted malformed JSON", in)
		}
	}
	o, err := ParseObject([]byte(" null "))
	if err != nil || !o.IsZero() {
		t.Errorf("ParseObject(null) = %v, %v; want the zero Object", o, err)
	}
	if o := mustObject(t, "{}"); o.IsZero() || o.Len() != 0 {
		t.Errorf("{} is zero or has members")
	}
}

func TestMergeLaysTheOverrideOnTop(t *testing.T) {
	base := map[string]any{"tier": "gold", "person": map[string]any{"name": map[string]any{"first": "Jane", "last": "Doe"}, "age": 40.0},
		"email": "j@example.com", "2": "two"}
	over := mustObject(t, `{"person":{"name":{"first":"J"},"nick":"JJ"},"email":{"work":"w@example.com"},"added":true}`)
	data := Merge(base, over)
	got := render(t, "{{person.name.first}} {{person.name.last}} {{person.age}} {{person.nick}} {{email.work}} {{tier}} {{added}}", Text, data)
	if want := "J Doe 40 JJ w@example.com gold true"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	got = render(t, "{{#each this}}{{@key}},{{/each}}|{{#each person}}{{@key}},{{/each}}", Text, data)
	if want := "2,email,person,tier,added,|age,name,nick,"; got != want {
		t.Errorf("order: got %q, want %q", got, want)
	}
	if base["person"].(map[string]any)["name"].(map[string]any)["first"] != "Jane" {
		t.Error("Merge modified base")
	}
	if got := Merge(base, Object{}); got == nil {
		t.Error("Merge without an override lost base")
	}
	if got := render(t, "{{tier}}", Text, Merge(nil, over)); got != "" {
		t.Errorf("Merge(nil, over) rendered %q", got)
	}
}

func TestFieldsAreAnObject(t *testing.T) {
	data := Fields{{"profile", map[string]any{"a": "1"}}, {"context", mustObject(t, `{"x":"<y>"}`)}}
	got := render(t, "{{profile.a}}{{context.x}}{{#each this}}{{@key}};{{/each}}{{json this}}", HTML, data)
	want := "1&lt;y&gt;profile;context;{&quot;profile&quot;:{&quot;a&quot;:&quot;1&quot;},&quot;context&quot;:{&quot;x&quot;:&quot;\\u003cy\\u003e&quot;}}"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestCustomHelpersSeeTheDataModel(t *testing.T) {
	var seen any
	tmpl, err := Parse("{{peek o}}", Text, WithHelpers(map[string]Helper{"peek": func(args []any, _ map[string]any) (any, error) {
		seen = args[0]
		return "", nil
	}}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tmpl.Render(mustObject(t, `{"o":{"n":1,"l":["a"]}}`)); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"n": json.Number("1"), "l": []any{"a"}}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("helper argument (-want +got):\n%s", diff)
	}
}

// TestExecuteWithObjectDataAllocatesNothing holds the bench email at zero
// allocations when its data is a decoded Object, or Fields over one.
func TestExecuteWithObjectDataAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	email, _, data := loadFixture(t)
	raw, _ := json.Marshal(data)
	o := mustObject(t, string(raw))
	tmpl, err := Parse(email, HTML)
	if err != nil {
		t.Fatal(err)
	}
	for name, d := range map[string]any{"Object": o, "Merge": Merge(map[string]any{"unused": "x"}, o)} {
		allocs := testing.AllocsPerRun(100, func() {
			if err := tmpl.Execute(discard{}, d); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocs per Execute, want 0", name, allocs)
		}
	}
}

// FuzzParseObject holds the decoder to encoding/json: it accepts exactly
// the JSON objects encoding/json accepts, to the same data (numbers as
// json.Number), its Size is encoding/json's and its canonical form
// json.Marshal's.
func FuzzParseObject(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":[1,2.5e3,{"b":null}],"c":"\u00e9\ud83d\ude00\ud800","a":true}`, `{"x":"\xff"}`, ` { "k" : -0.0 } `, `[1]`, `{"a":1e999}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want map[string]any
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		werr := dec.Decode(&want)
		if werr == nil {
			if _, err := dec.Token(); err == nil || err.Error() != "EOF" {
				werr = errors.New("more than one value")
			}
		}
		o, err := ParseObject(b)
		if (err == nil) != (werr == nil && want != nil) && !(werr == nil && want == nil && o.IsZero()) {
			t.Fatalf("ParseObject(%q) = %v; encoding/json: %v", b, err, werr)
		}
		if err != nil || o.IsZero() {
			return
		}
		if diff := cmp.Diff(want, o.Map()); diff != "" {
			t.Fatalf("ParseObject(%q) (-json +got):\n%s", b, diff)
		}
		if got, want := o.Size(), jsonSizeOf(t, want); got != want {
			t.Fatalf("Size(%q) = %d, want %d", b, got, want)
		}
		canon, _ := json.Marshal(want)
		if got := o.AppendCanonicalJSON(nil); !bytes.Equal(got, canon) {
			t.Fatalf("AppendCanonicalJSON(%q) = %s, want %s", b, got, canon)
		}
	})
}

// TestCachedMemberOffsetsFollowTheData renders templates, whose paths
// remember where they found each member last time, over objects of
// changing shapes, one after the other: a remembered offset that now
// holds another member, a member of a nested object with the same name,
// a shadowed duplicate, an indexed object, an array or a string where an
// object was. Each output must be the one the data's map gives.
func TestCachedMemberOffsetsFollowTheData(t *testing.T) {
	const src = `{{a}}|{{x.a}}|{{x.y.a}}|{{#each l}}{{a}},{{b.a}};{{/each}}|{{#if x.a}}t{{/if}}|{{@root.a}}|{{x.length}}|{{{x.a}}}`
	const inFields = `{{p.a}}|{{p.x.a}}|{{p.x.y.a}}|{{#with p}}{{x.a}}{{/with}}`
	many := func(a string) string {
		var b strings.Builder
		for i := range 20 {
			b.WriteString(`"k` + string(rune('a'+i)) + `":0,`)
		}
		return `{` + b.String() + `"a":` + a + `,"x":{"a":"m"}}`
	}
	datas := []string{
		`{"a":"1","x":{"a":"<2>","y":{"a":3}},"l":[{"a":"p","b":{"a":"q"}},{"b":{"a":"r"},"a":"s"}]}`,
		`{"x":{"y":{"a":"deep"},"a":"&"},"a":"first"}`,
		`{"x":{"b":{"a":"nested, not x.a"}},"a":{"a":"an object"}}`,
		`{"a":"dup1","x":{"a":"d1","a":"d2"},"a":"dup2"}`,
		many(`"indexed"`),
		`{"a":[1,2],"x":[{"a":1}],"l":[{"a":{"a":"o"}},{"c":{"a":"no a"}},"str",{"a":"z","b":"not an object"}]}`,
		`{"a":"1","x":"a string","l":[]}`,
		`{"x":{"y":{"a":"ok"},"a":""},"a":null}`,
	}
	tmpl, err := Parse(src, HTML)
	if err != nil {
		t.Fatal(err)
	}
	fields, err := Parse(inFields, HTML)
	if err != nil {
		t.Fatal(err)
	}
	for round := range 2 {
		for _, data := range datas {
			m := numberMap(t, data)
			o := mustObject(t, data)
			for _, c := range []struct {
				name string
				tmpl *Template
				data any
				want string
			}{
				{"an Object", tmpl, o, render(t, src, HTML, m)},
				{"a merged Object", tmpl, Merge(map[string]any{"zz": "base"}, o), render(t, src, HTML, m)},
				{"Fields over an Object", fields, Fields{{"p", o}}, render(t, inFields, HTML, map[string]any{"p": m})},
			} {
				got, err := c.tmpl.Render(c.data)
				if err != nil || got != c.want {
					t.Errorf("round %d, %s, %s: got %q, %v; want %q", round, data, c.name, got, err, c.want)
				}
			}
		}
	}
}

// AppendCanonicalJSON's member stacks are pooled: objects wider and
// deeper than a stack's first capacity, written from many goroutines at
// once, must each still be exactly json.Marshal's form of their map.
func TestCanonicalJSONOfWideAndDeepObjectsConcurrently(t *testing.T) {
	objects := make([]Object, 8)
	wants := make([][]byte, len(objects))
	for i := range objects {
		var b strings.Builder
		b.WriteString("{")
		for m := range 100 + 37*i {
			if m > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `"k%03d_%d":{"z":%d,"a":[{"y":1,"b":"<%d>"}],"m":{}}`, (m*7919)%1000, m, m, i)
		}
		b.WriteString(`,"deep":` + strings.Repeat(`{"b":1,"a":`, 40) + "null" + strings.Repeat("}", 40) + "}")
		o, err := ParseObject([]byte(b.String()))
		if err != nil {
			t.Fatal(err)
		}
		objects[i] = o
		wants[i], _ = json.Marshal(o.Map())
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for r := range 50 {
				i := (g + r) % len(objects)
				if got := objects[i].AppendCanonicalJSON(nil); !bytes.Equal(got, wants[i]) {
					t.Errorf("object %d: AppendCanonicalJSON differs from json.Marshal of its map", i)
					return
				}
			}
		})
	}
	wg.Wait()
}
