package render

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// noParentLookup is why Handlebars, without its compat option, renders these
// cases differently from mustache.
const noParentLookup = "Handlebars resolves a name only in the current context; mustache also searches enclosing contexts (Handlebars' compat mode, WithCompat, does, and passes this case)"

// specSkips lists the mustache spec cases that default (non-compat)
// Handlebars semantics deliberately render differently, with the reason.
// With WithCompat, the option Handlebars itself runs the spec with, every
// case of the four suites runs and passes.
var specSkips = map[string]string{
	"sections/Parent contexts":        noParentLookup,
	"sections/Variable test":          noParentLookup,
	"sections/List Contexts":          noParentLookup,
	"sections/Deeply Nested Contexts": noParentLookup,
}

// specDir finds <repo>/../shared/reference/mustache-spec by walking up from
// the working directory to the directory holding the root go.mod.
func specDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			cand := filepath.Join(filepath.Dir(dir), "shared", "reference", "mustache-spec")
			if st, err := os.Stat(cand); err == nil && st.IsDir() {
				return cand
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

type specFile struct {
	Tests []struct {
		Name     string `json:"name"`
		Desc     string `json:"desc"`
		Data     any    `json:"data"`
		Template string `json:"template"`
		Expected string `json:"expected"`
	} `json:"tests"`
}

func TestMustacheSpec(t *testing.T) {
	dir := specDir(t)
	if dir == "" {
		t.Skip("mustache spec not found: expected <repo>/../shared/reference/mustache-spec next to the directory holding go.mod")
	}
	for _, mode := range []struct {
		name  string
		opts  []Option
		skips map[string]string
	}{
		{"compat", []Option{WithCompat()}, nil},
		{"default", nil, specSkips},
	} {
		t.Run(mode.name, func(t *testing.T) { runSpec(t, dir, mode.opts, mode.skips) })
	}
}

func runSpec(t *testing.T, dir string, opts []Option, skips map[string]string) {
	var ran, skipped int
	for _, suite := range []string{"interpolation", "sections", "inverted", "comments"} {
		raw, err := os.ReadFile(filepath.Join(dir, suite+".json"))
		if err != nil {
			t.Fatalf("read %s suite: %v", suite, err)
		}
		var f specFile
		if err := json.Unmarshal(raw, &f); err != nil {
			t.Fatalf("decode %s suite: %v", suite, err)
		}
		for _, tc := range f.Tests {
			name := suite + "/" + tc.Name
			t.Run(name, func(t *testing.T) {
				if reason, ok := skips[name]; ok {
					skipped++
					t.Skip(reason)
				}
				ran++
				tmpl, err := Parse(tc.Template, HTML, opts...)
				if err != nil {
					t.Fatalf("Parse(%q): %v", tc.Template, err)
				}
				got, err := tmpl.Render(tc.Data)
				if err != nil {
					t.Fatalf("Execute: %v", err)
				}
				if got != tc.Expected {
					t.Errorf("%s\ntemplate: %q\nmismatch (-want +got):\n-%q\n+%q", tc.Desc, tc.Template, tc.Expected, got)
				}
			})
		}
	}
	t.Logf("mustache spec: %d run, %d skipped", ran, skipped)
	if ran+skipped != 110 {
		t.Errorf("mustache spec: %d cases, want 110", ran+skipped)
	}
}
