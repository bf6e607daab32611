package main

import (
	"bytes"
	"os"
	"testing"
)

// A library upgrade may change the data; cldr must then be regenerated,
// or it would write the old names.
func TestGeneratedTableIsUpToDate(t *testing.T) {
	want, err := generate()
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	got, err := os.ReadFile("../zz_generated_locales.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("internal/cldr/zz_generated_locales.go differs from what ./gen generates from github.com/go-playground/locales: run go generate ./internal/cldr")
	}
}
