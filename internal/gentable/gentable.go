// Package gentable is the frame of Herald's generated files — phonelib's
// numbering plans and cldr's locale data, each copied at build time out
// of a library no function links; the gzipped OpenAPI document —: a
// generator's main writes what its generate function returns, and its
// test fails when the file in the tree is no longer what it generates
// (the library was upgraded, say).
package gentable

import (
	"bytes"
	"flag"
	"log"
	"os"
	"testing"
)

// Main is a generator's main: it writes generate's source to the file
// named by -o (defaultOut when not given), or exits with its error.
func Main(defaultOut string, generate func() ([]byte, error)) {
	out := flag.String("o", defaultOut, "the file to write")
	flag.Parse()
	src, err := generate()
	if err != nil {
		log.Fatalf("gen: %v", err)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatalf("gen: %v", err)
	}
}

// CheckUpToDate fails t unless the file at path (as the generator's test
// sees it) is what generate returns now; the message names the table
// (name), where it comes from (from) and the command that regenerates it.
func CheckUpToDate(t testing.TB, path, name, from, command string, generate func() ([]byte, error)) {
	t.Helper()
	want, err := generate()
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from what ./gen generates from %s: run %s", name, from, command)
	}
}
