package console_test

import (
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/console"
)

// Every file of static/ is served, with the type its extension names.
func TestEveryFileIsServedWithItsType(t *testing.T) {
	entries, err := os.ReadDir("static")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{".html": "text/html", ".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}
	for _, e := range entries {
		a, ok := console.Lookup(e.Name())
		if !ok {
			t.Errorf("%s is not served", e.Name())
			continue
		}
		ext := e.Name()[strings.LastIndex(e.Name(), "."):]
		if !strings.HasPrefix(a.ContentType, want[ext]) {
			t.Errorf("%s: Content-Type %q, want %s", e.Name(), a.ContentType, want[ext])
		}
		if len(a.ETag) < 10 || a.ETag[0] != '"' {
			t.Errorf("%s: ETag %q is not a strong tag", e.Name(), a.ETag)
		}
	}
	if !slices.Contains(console.Names(), console.Index) {
		t.Errorf("no %s", console.Index)
	}
}

// Lookup finds names, not paths: nothing outside the flat directory.
func TestLookupRefusesPaths(t *testing.T) {
	for _, name := range []string{"../console.go", "static/index.html", "..", "", "a\\b.js", "console.go"} {
		if _, ok := console.Lookup(name); ok {
			t.Errorf("Lookup(%q) found a file", name)
		}
	}
}

// The page runs no inline script and no handler attribute (the CSP would
// refuse them), and the scripts never parse HTML from strings: every
// value is inserted as text. The email preview's srcdoc is the one place
// HTML is shown, inside a sandbox without scripts.
func TestTheConsoleInsertsNoHTMLFromStrings(t *testing.T) {
	inline := regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]|\son[a-z]+\s*=`)
	forbidden := regexp.MustCompile(`\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|DOMParser|createContextualFragment`)
	err := fs.WalkDir(os.DirFS("static"), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile("static/" + p)
		if err != nil {
			return err
		}
		switch {
		case strings.HasSuffix(p, ".html"):
			if m := inline.Find(b); m != nil {
				t.Errorf("%s has inline script or a handler attribute: %q", p, m)
			}
		case strings.HasSuffix(p, ".js"):
			if m := forbidden.Find(b); m != nil {
				t.Errorf("%s uses %q", p, m)
			}
			if n := strings.Count(string(b), "srcdoc"); n > 0 && !strings.Contains(string(b), "sandbox: ''") {
				t.Errorf("%s sets srcdoc without a sandbox", p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The headers hold the page to its own scripts, keep it out of frames and
// stop type sniffing and referrers.
func TestHeadersAreStrict(t *testing.T) {
	a, _ := console.Lookup(console.Index)
	h := console.Headers(a)
	csp := h["Content-Security-Policy"]
	for _, want := range []string{"default-src 'none'", "script-src 'self';", "frame-ancestors 'none'", "base-uri 'none'", "connect-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-eval") || strings.Contains(strings.SplitN(strings.SplitN(csp, "script-src", 2)[1], ";", 2)[0], "unsafe-inline") {
		t.Errorf("CSP %q lets scripts run inline or eval", csp)
	}
	for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY", "Cache-Control": "no-cache"} {
		if h[k] != v {
			t.Errorf("%s = %q, want %q", k, h[k], v)
		}
	}
}
