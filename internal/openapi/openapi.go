// Package openapi holds Herald's OpenAPI 3.1 document, the one
// description of every route (herald.openapi.json, edited by hand and
// reviewed like code). The Manage function serves the embedded bytes as
// they are at GET /openapi.json, so nothing parses them at start-up; the
// contract tests (infra/contract) validate the end-to-end suites' requests
// and responses against the same file.
package openapi

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"sync"
)

//go:embed herald.openapi.json
var document []byte

// etag is the document's strong entity tag: a hash of its bytes, so it
// changes exactly when the document does. It is computed on first use,
// not at init: only the Manage function serves the document, and a
// function that never calls ETag or Document links neither the hash nor
// the document's bytes.
var etag = sync.OnceValue(func() string {
	sum := sha256.Sum256(document)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
})

// Document returns the document's JSON bytes. The caller must not modify
// them.
func Document() []byte { return document }

// ETag returns the document's strong entity tag (quoted).
func ETag() string { return etag() }
