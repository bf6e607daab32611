// Package bench compares Herald's render engine with raymond (Handlebars for
// Go), text/template and html/template on the same order-confirmation email.
// It is a separate module so the main module stays free of third-party
// dependencies.
package bench

import (
	"bytes"
	"encoding/json"
	htmltemplate "html/template"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	texttemplate "text/template"

	"github.com/heraldhq/herald/internal/render"
	"github.com/mailgun/raymond/v2"
)

// raymond has no {%= %} tags: the same default as an if/else.
const heraldDefault = `{%= profile.person.name.firstName ?: "there" %}`
const raymondDefault = `{{#if profile.person.name.firstName}}{{profile.person.name.firstName}}{{else}}there{{/if}}`

func fixture(tb testing.TB) (herald, hbs, sms string, data map[string]any) {
	tb.Helper()
	dir := filepath.Join("..", "testdata")
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			tb.Fatal(err)
		}
		return string(b)
	}
	herald = read("email.hbs")
	if !strings.Contains(herald, heraldDefault) {
		tb.Fatal("fixture no longer contains the default expression")
	}
	hbs = strings.Replace(herald, heraldDefault, raymondDefault, 1)
	if err := json.Unmarshal([]byte(read("data.json")), &data); err != nil {
		tb.Fatal(err)
	}
	return herald, hbs, read("sms.txt"), data
}

// goTemplate is the fixture translated to Go template syntax.
func goTemplate(hbs string) string {
	r := strings.NewReplacer(
		raymondDefault, `{{with .profile.person.name.firstName}}{{.}}{{else}}there{{end}}`,
		"{{#each order.items}}", "{{range .order.items}}",
		"{{/each}}", "{{end}}",
		"{{../order.currency}}", "{{$.order.currency}}",
		"{{#if context.offerCode}}", "{{if .context.offerCode}}",
		"{{/if}}", "{{end}}",
		"{{sku}}", "{{.sku}}", "{{name}}", "{{.name}}", "{{quantity}}", "{{.quantity}}", "{{price}}", "{{.price}}",
	)
	s := r.Replace(hbs)
	// Remaining {{a.b}} paths become {{.a.b}}.
	var b strings.Builder
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i+2])
		s = s[i+2:]
		if len(s) > 0 && (s[0] >= 'a' && s[0] <= 'z') && !strings.HasPrefix(s, "range") && !strings.HasPrefix(s, "end") && !strings.HasPrefix(s, "if ") && !strings.HasPrefix(s, "with ") && !strings.HasPrefix(s, "else") {
			b.WriteByte('.')
		}
	}
	return b.String()
}

// TestSameOutput asserts the engines render the same email, so the
// benchmark compares equal work.
func TestSameOutput(t *testing.T) {
	herald, hbs, _, data := fixture(t)
	ht, err := render.Parse(herald, render.HTML)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ht.Render(data)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := raymond.Parse(hbs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := rt.Exec(data)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("raymond output differs (-herald +raymond):\n-%s\n+%s", want, got)
	}
	tt := texttemplate.Must(texttemplate.New("email").Parse(goTemplate(hbs)))
	var b bytes.Buffer
	if err := tt.Execute(&b, data); err != nil {
		t.Fatal(err)
	}
	if b.String() != stripStandalone(want, b.String()) {
		t.Errorf("text/template output differs (-herald +text/template):\n-%s\n+%s", want, b.String())
	}
}

// stripStandalone returns want when the two outputs have the same
// non-blank lines: Go templates do not remove standalone tag lines.
func stripStandalone(want, got string) string {
	norm := func(s string) string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			if strings.TrimSpace(l) != "" {
				out = append(out, l)
			}
		}
		return strings.Join(out, "\n")
	}
	if norm(want) == norm(got) {
		return got
	}
	return want
}

func BenchmarkHeraldEmail(b *testing.B) {
	herald, _, _, data := fixture(b)
	t, err := render.Parse(herald, render.HTML)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := t.Execute(io.Discard, data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHeraldSMS(b *testing.B) {
	_, _, sms, data := fixture(b)
	t, err := render.Parse(sms, render.Text)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := t.Execute(io.Discard, data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRaymondEmail(b *testing.B) {
	_, hbs, _, data := fixture(b)
	t, err := raymond.Parse(hbs)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		s, err := t.Exec(data)
		if err != nil {
			b.Fatal(err)
		}
		io.WriteString(io.Discard, s)
	}
}

func BenchmarkTextTemplateEmail(b *testing.B) {
	_, hbs, _, data := fixture(b)
	t := texttemplate.Must(texttemplate.New("email").Parse(goTemplate(hbs)))
	b.ReportAllocs()
	for b.Loop() {
		if err := t.Execute(io.Discard, data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHTMLTemplateEmail(b *testing.B) {
	_, hbs, _, data := fixture(b)
	t := htmltemplate.Must(htmltemplate.New("email").Parse(goTemplate(hbs)))
	b.ReportAllocs()
	for b.Loop() {
		if err := t.Execute(io.Discard, data); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSpeedupOverRaymond measures both engines in one run and requires
// Herald to be at least 8x faster. Skipped with -short: it takes seconds.
func TestSpeedupOverRaymond(t *testing.T) {
	if testing.Short() {
		t.Skip("timing comparison; run without -short")
	}
	herald := testing.Benchmark(BenchmarkHeraldEmail)
	ray := testing.Benchmark(BenchmarkRaymondEmail)
	ratio := float64(ray.NsPerOp()) / float64(max(herald.NsPerOp(), 1))
	t.Logf("herald %d ns/op, raymond %d ns/op: %.1fx", herald.NsPerOp(), ray.NsPerOp(), ratio)
	if ratio < 8 {
		t.Errorf("herald is %.1fx faster than raymond, want at least 8x", ratio)
	}
}
