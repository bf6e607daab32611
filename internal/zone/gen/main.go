// Command gen writes zoneinfo.bin, the IANA time zone database the zone
// package embeds, from the Go toolchain's own copy
// ($GOROOT/lib/time/zoneinfo.zip, the one time/tzdata embeds): each
// zone's TZif data once (links share their target's), in blocks of
// about 32 KiB compressed with DEFLATE, behind an index of every name.
// The whole is about a fifth of time/tzdata's 400 KiB; loading a zone
// inflates one block. Run it with `go generate ./internal/zone` after a
// Go upgrade brings new zone data (its test fails until then).
//
// The format, integers little-endian:
//
//	"herald-zones 1\n"
//	version: 1-byte length, the data's IANA release ("2025c")
//	blocks: 2-byte count, then each block's 4-byte compressed and
//	        4-byte inflated lengths
//	zones: 2-byte count, then per zone: 1-byte name length, name,
//	       1-byte block, 4-byte offset and 4-byte length in the
//	       inflated block
//	the blocks' raw DEFLATE streams, one after the other
package main

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/heraldhq/herald/internal/gentable"
)

// magic opens the file (the zone package reads nothing else).
const magic = "herald-zones 1\n"

// blockSize is the inflated size a block is closed at (a zone is never
// split): larger blocks compress better, smaller ones load faster.
const blockSize = 32 << 10

func main() {
	gentable.Main("zoneinfo.bin", func() ([]byte, error) {
		goroot, err := goRoot()
		if err != nil {
			return nil, err
		}
		return generate(goroot)
	})
}

// goRoot is the running toolchain's GOROOT.
func goRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOROOT: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// dataVersion reads the IANA release of the toolchain's zoneinfo.zip
// from the script that builds it (its DATA= line).
func dataVersion(goroot string) (string, error) {
	script, err := os.ReadFile(filepath.Join(goroot, "lib", "time", "update.bash"))
	if err != nil {
		return "", err
	}
	m := regexp.MustCompile(`(?m)^DATA=(\S+)$`).FindSubmatch(script)
	if m == nil {
		return "", fmt.Errorf("no DATA= line in %s/lib/time/update.bash", goroot)
	}
	return string(m[1]), nil
}

// zones reads every zone of the toolchain's zoneinfo.zip by name.
func zones(goroot string) (map[string][]byte, error) {
	zr, err := zip.OpenReader(filepath.Join(goroot, "lib", "time", "zoneinfo.zip"))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	out := map[string][]byte{}
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
		out[f.Name] = b
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s/lib/time/zoneinfo.zip holds no zone", goroot)
	}
	return out, nil
}

type entry struct {
	block          int
	offset, length int
}

func generate(goroot string) ([]byte, error) {
	version, err := dataVersion(goroot)
	if err != nil {
		return nil, err
	}
	data, err := zones(goroot)
	if err != nil {
		return nil, err
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range data {
			if !yield(n) {
				return
			}
		}
	})
	// Zones in name order, each distinct TZif once, so that neighbours
	// (America/…, Europe/…) share a block and compress together.
	var blocks [][]byte
	var cur []byte
	placed := map[string]entry{} // TZif bytes → where they are
	index := map[string]entry{}
	for _, n := range names {
		b := data[n]
		if e, ok := placed[string(b)]; ok {
			index[n] = e
			continue
		}
		if len(cur) > 0 && len(cur)+len(b) > blockSize {
			blocks, cur = append(blocks, cur), nil
		}
		e := entry{block: len(blocks), offset: len(cur), length: len(b)}
		cur = append(cur, b...)
		placed[string(b)], index[n] = e, e
	}
	blocks = append(blocks, cur)
	if len(blocks) > 255 || len(names) > 65535 || len(version) > 255 {
		return nil, fmt.Errorf("%d blocks, %d zones: beyond the format", len(blocks), len(names))
	}

	var compressed [][]byte
	for _, b := range blocks {
		var buf bytes.Buffer
		fw, err := flate.NewWriter(&buf, flate.BestCompression)
		if err != nil {
			return nil, err
		}
		if _, err := fw.Write(b); err != nil {
			return nil, err
		}
		if err := fw.Close(); err != nil {
			return nil, err
		}
		compressed = append(compressed, buf.Bytes())
	}

	out := []byte(magic)
	out = append(out, byte(len(version)))
	out = append(out, version...)
	out = binary.LittleEndian.AppendUint16(out, uint16(len(compressed)))
	for i, c := range compressed {
		out = binary.LittleEndian.AppendUint32(out, uint32(len(c)))
		out = binary.LittleEndian.AppendUint32(out, uint32(len(blocks[i])))
	}
	out = binary.LittleEndian.AppendUint16(out, uint16(len(names)))
	for _, n := range names {
		if len(n) > 255 {
			return nil, fmt.Errorf("zone name %q is too long for the format", n)
		}
		e := index[n]
		out = append(out, byte(len(n)))
		out = append(out, n...)
		out = append(out, byte(e.block))
		out = binary.LittleEndian.AppendUint32(out, uint32(e.offset))
		out = binary.LittleEndian.AppendUint32(out, uint32(e.length))
	}
	for _, c := range compressed {
		out = append(out, c...)
	}
	return out, nil
}
