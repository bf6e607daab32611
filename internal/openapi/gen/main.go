// Command gen compresses herald.openapi.json into herald.openapi.json.gz,
// the bytes the openapi package embeds and the Manage function serves
// (gzip, best compression, no name or time in the header, so the same
// document compresses to the same file). Run it with
// `go generate ./internal/openapi` after editing the document;
// openapi.TestEmbeddedDocumentIsTheEditedOne fails until then.
package main

import (
	"bytes"
	"compress/gzip"
	"os"

	"github.com/heraldhq/herald/internal/gentable"
)

func main() {
	gentable.Main("herald.openapi.json.gz", func() ([]byte, error) {
		doc, err := os.ReadFile("herald.openapi.json")
		if err != nil {
			return nil, err
		}
		var out bytes.Buffer
		zw, err := gzip.NewWriterLevel(&out, gzip.BestCompression)
		if err != nil {
			return nil, err
		}
		if _, err := zw.Write(doc); err != nil {
			return nil, err
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
		return out.Bytes(), nil
	})
}
