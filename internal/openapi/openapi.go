// Package openapi holds Herald's OpenAPI 3.1 document, the one
// description of every route (herald.openapi.json, edited by hand and
// reviewed like code). The package embeds the document gzipped
// (herald.openapi.json.gz, written by `go generate ./internal/openapi`:
// 255 KiB of JSON are 19 KiB so): the Manage function serves those bytes
// as they are at GET /openapi.json to a client that accepts gzip, and the
// JSON, decompressed on first use, to one that does not; nothing parses
// the document at start-up. The contract tests (infra/contract) validate
// the end-to-end suites' requests and responses against the same
// document.
package openapi

//go:generate go run ./gen

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"io"
	"sync"
)

//go:embed herald.openapi.json.gz
var compressed []byte

// document is the JSON, decompressed on first use. The embedded bytes
// are the build's own: a failure to read them is a broken build.
var document = sync.OnceValue(func() []byte {
	zr, err := gzip.NewReader(bytes.NewReader(compressed))
	if err != nil {
		panic("openapi: the embedded document: " + err.Error())
	}
	doc, err := io.ReadAll(zr)
	if err != nil {
		panic("openapi: the embedded document: " + err.Error())
	}
	return doc
})

// etag is the hash both entity tags are made of: of the embedded bytes,
// which change when the document does, so a client that takes gzip never
// has the JSON decompressed for it. It is computed on first use, not at
// init: only the Manage function serves the document, and a function that
// never calls ETag or Document links neither the hash nor the document's
// bytes.
var etag = sync.OnceValue(func() string {
	sum := sha256.Sum256(compressed)
	return hex.EncodeToString(sum[:12])
})

// Document returns the document's JSON bytes. The caller must not modify
// them.
func Document() []byte { return document() }

// Gzipped returns the document gzipped, as embedded. The caller must not
// modify them.
func Gzipped() []byte { return compressed }

// ETag returns the strong entity tag (quoted) of the JSON.
func ETag() string { return `"` + etag() + `"` }

// GzipETag returns the strong entity tag (quoted) of the gzipped
// representation: another representation, another tag (RFC 9110,
// section 8.8.3).
func GzipETag() string { return `"` + etag() + `-gzip"` }
