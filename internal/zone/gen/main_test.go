package main

import (
	"os"
	"testing"

	"github.com/heraldhq/herald/internal/gentable"
)

// A Go upgrade may bring new zone data; zoneinfo.bin must then be
// regenerated. A toolchain with another IANA release than the copy's
// (CI's Go may be another patch release) is not this test's concern: the
// copy is whole and consistent on its own (zone's tests).
func TestGeneratedDatabaseIsUpToDate(t *testing.T) {
	goroot, err := goRoot()
	if err != nil {
		t.Skip(err)
	}
	version, err := dataVersion(goroot)
	if err != nil {
		t.Fatal(err)
	}
	embedded, err := os.ReadFile("../zoneinfo.bin")
	if err != nil {
		t.Fatal(err)
	}
	if got := embeddedVersion(embedded); got != version {
		t.Skipf("the toolchain's zones are IANA %s, the copy's %s: run go generate ./internal/zone to take the toolchain's", version, got)
	}
	gentable.CheckUpToDate(t, "../zoneinfo.bin", "internal/zone/zoneinfo.bin", "the toolchain's lib/time/zoneinfo.zip", "go generate ./internal/zone",
		func() ([]byte, error) { return generate(goroot) })
}

// embeddedVersion reads the version in a generated file's header.
func embeddedVersion(b []byte) string {
	if len(b) <= len(magic) {
		return ""
	}
	n := int(b[len(magic)])
	if len(b) < len(magic)+1+n {
		return ""
	}
	return string(b[len(magic)+1 : len(magic)+1+n])
}
