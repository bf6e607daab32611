// Package console holds the Herald Console: a web page, same origin as the
// API, that walks a campaign's seven steps with a live preview, lists
// executions and (under the local runner) the local outbox.
//
// It is plain HTML, CSS and ES modules embedded with embed.FS: no build
// step and no data in the page itself. Every API call the page makes
// carries the bearer token the person signed in with, so the files are
// public (httpapi serves them at GET /console/ and GET /console/{file}).
//
// The page's safety rests on Headers: a Content-Security-Policy that runs
// only the console's own scripts (no inline script, no eval), frames only
// the sandboxed srcdoc preview (which inherits the policy, so an email's
// scripts never run), and is itself never framed.
package console

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"path"
	"strings"
	"sync"
)

//go:embed static
var static embed.FS

// Index is the file served at the console's root (GET /console/).
const Index = "index.html"

// Asset is one file of the console, ready to serve.
type Asset struct {
	Name        string
	Body        []byte
	ContentType string
	// ETag is a strong tag of the body, for If-None-Match.
	ETag string
}

// contentTypes are the console's file types; a file of another type is
// not served.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
}

var assets = sync.OnceValue(func() map[string]Asset {
	out := map[string]Asset{}
	entries, err := fs.ReadDir(static, "static")
	if err != nil {
		panic(err) // embedded at build time: cannot fail
	}
	for _, e := range entries {
		ct, ok := contentTypes[path.Ext(e.Name())]
		if e.IsDir() || !ok {
			continue
		}
		b, err := static.ReadFile("static/" + e.Name())
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(b)
		out[e.Name()] = Asset{Name: e.Name(), Body: b, ContentType: ct, ETag: `"` + hex.EncodeToString(sum[:12]) + `"`}
	}
	return out
})

// Lookup returns the asset called name ("app.js"); ok is false for a name
// the console has not (paths with a slash included: the files are flat).
func Lookup(name string) (a Asset, ok bool) {
	if strings.ContainsAny(name, `/\`) {
		return Asset{}, false
	}
	a, ok = assets()[name]
	return a, ok
}

// Names lists the console's files.
func Names() []string {
	var out []string
	for n := range assets() {
		out = append(out, n)
	}
	return out
}

// CSP is the console's Content-Security-Policy. Scripts, styles' files,
// fetches and fonts come from the console's own origin only; no inline
// script and no eval. style-src allows inline styles because the email
// preview (an srcdoc iframe, which inherits this policy) must show the
// email's own styles; the console never builds styles from API values.
// img-src allows https: so that an email's images show in its preview.
// The preview frame is sandboxed without allow-scripts, and the console
// itself may not be framed (clickjacking).
const CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; " +
	"connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// Headers are the response headers of an asset: its type, the security
// headers and revalidation on every load (Cache-Control no-cache with the
// ETag), so a deployment's new console is picked up at once and an
// unchanged file costs a 304.
func Headers(a Asset) map[string]string {
	return map[string]string{
		"Content-Type":               a.ContentType,
		"ETag":                       a.ETag,
		"Cache-Control":              "no-cache",
		"Content-Security-Policy":    CSP,
		"X-Content-Type-Options":     "nosniff",
		"Referrer-Policy":            "no-referrer",
		"X-Frame-Options":            "DENY",
		"Cross-Origin-Opener-Policy": "same-origin",
	}
}
