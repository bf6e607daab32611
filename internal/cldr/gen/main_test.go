package main

import (
	"testing"

	"github.com/heraldhq/herald/internal/gentable"
)

// A library upgrade may change the data; cldr must then be regenerated,
// or it would write the old names.
func TestGeneratedTableIsUpToDate(t *testing.T) {
	gentable.CheckUpToDate(t, "../zz_generated_locales.go", "internal/cldr/zz_generated_locales.go", "github.com/go-playground/locales", "go generate ./internal/cldr", generate)
}
