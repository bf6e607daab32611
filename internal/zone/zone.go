// Package zone loads IANA time zones (profiles, campaigns' quiet hours,
// schedules, the template engine's formatDate) the way time.LoadLocation
// does when a program links time/tzdata — the system's zone database
// first, then a copy in the binary — with a copy about a fifth the size:
// the zones of the Go toolchain's database, deduplicated and compressed
// in blocks (zoneinfo.bin, written by ./gen). Lambda's provided.al2023
// image has no zone database, so the copy is what the functions read
// there. A function links the copy only if it can load a zone.
//
// Loaded zones are kept for the life of the process; names that are not
// zones are not kept, so no caller's input grows the cache.
package zone

import (
	"compress/flate"
	"errors"
	"io"
	"strings"
	"sync"
	"time"

	_ "embed"
)

//go:generate go run ./gen

//go:embed zoneinfo.bin
var database string

const magic = "herald-zones 1\n"

// system is the system's zone database (and the toolchain's, when
// GOROOT is there); a test replaces it with one that has no zone.
var system = time.LoadLocation

// loaded caches every zone loaded: time.LoadLocation reads the database
// on every call.
var loaded sync.Map // name → *time.Location

// Load returns the zone named name, as time.LoadLocation does ("" and
// "UTC" are UTC, "Local" the process's zone), from the system's
// database or else Herald's copy; its error is time.LoadLocation's.
func Load(name string) (*time.Location, error) {
	if l, ok := loaded.Load(name); ok {
		return l.(*time.Location), nil
	}
	loc, err := system(name)
	if err != nil {
		data, ok := embedded(name)
		if !ok {
			return nil, err
		}
		if loc, err = time.LoadLocationFromTZData(name, data); err != nil {
			return nil, err
		}
	}
	loaded.Store(name, loc)
	return loc, nil
}

// LoadNamed is Load for a name given as an IANA zone (a profile's, a
// configuration's, a schedule's): "Local", the process's own zone (UTC on
// Lambda, the machine's elsewhere), is not one and is refused.
func LoadNamed(name string) (*time.Location, error) {
	if name == "Local" {
		return nil, errLocal
	}
	return Load(name)
}

var errLocal = errors.New(`zone: "Local" is not an IANA zone name`)

// theDB is the copy's header, read once. (Not a sync.OnceValues in a
// package variable: its initialiser would link the copy into every
// program that imports the package, whether or not it loads a zone.)
func theDB() (db, error) {
	opened.once.Do(func() { opened.db, opened.err = open(database) })
	return opened.db, opened.err
}

var opened struct {
	once sync.Once
	db   db
	err  error
}

// embedded returns the TZif data of the zone named name from the copy.
func embedded(name string) ([]byte, bool) {
	d, err := theDB()
	if err != nil {
		return nil, false
	}
	e, ok := d.find(name)
	if !ok {
		return nil, false
	}
	block, err := d.inflate(e.block)
	if err != nil || e.offset+e.length > len(block) {
		return nil, false
	}
	return block[e.offset : e.offset+e.length], true
}

// db is the copy's layout (see ./gen): the blocks' lengths, the index
// of zones and the blocks' data.
type db struct {
	version string
	blocks  []blockLen
	zones   string // the index's records
	data    string // the blocks, one after the other
}

type blockLen struct{ compressed, inflated int }

type entry struct {
	block          int
	offset, length int
}

var errCorrupt = errors.New("zone: the embedded zone database is corrupt")

// open reads the copy's header and checks its index (no copy of the
// index is made).
func open(s string) (db, error) {
	var d db
	r, ok := strings.CutPrefix(s, magic)
	if !ok || len(r) < 1 || len(r) < 1+int(r[0]) {
		return d, errCorrupt
	}
	d.version, r = r[1:1+int(r[0])], r[1+int(r[0]):]
	if len(r) < 2 {
		return d, errCorrupt
	}
	nb := u16(r)
	r = r[2:]
	if len(r) < 8*nb {
		return d, errCorrupt
	}
	d.blocks = make([]blockLen, nb)
	for i := range d.blocks {
		d.blocks[i] = blockLen{compressed: u32(r[8*i:]), inflated: u32(r[8*i+4:])}
	}
	r = r[8*nb:]
	if len(r) < 2 {
		return d, errCorrupt
	}
	nz := u16(r)
	r = r[2:]
	start := r
	for range nz {
		var ok bool
		if _, _, r, ok = nextEntry(r); !ok {
			return d, errCorrupt
		}
	}
	d.zones, d.data = start[:len(start)-len(r)], r
	return d, nil
}

// nextEntry reads the index record at the head of r.
func nextEntry(r string) (name string, e entry, rest string, ok bool) {
	if len(r) < 1 || len(r) < 1+int(r[0])+9 {
		return "", e, r, false
	}
	n := int(r[0])
	name, r = r[1:1+n], r[1+n:]
	e.block = int(r[0])
	e.offset = u32(r[1:])
	e.length = u32(r[5:])
	return name, e, r[9:], true
}

func (d db) find(name string) (entry, bool) {
	for r := d.zones; len(r) > 0; {
		n, e, rest, ok := nextEntry(r)
		if !ok {
			return entry{}, false
		}
		if n == name {
			return e, true
		}
		r = rest
	}
	return entry{}, false
}

// inflate decompresses block i.
func (d db) inflate(i int) ([]byte, error) {
	if i >= len(d.blocks) {
		return nil, errCorrupt
	}
	start := 0
	for _, l := range d.blocks[:i] {
		start += l.compressed
	}
	end := start + d.blocks[i].compressed
	if end > len(d.data) {
		return nil, errCorrupt
	}
	fr := flate.NewReader(strings.NewReader(d.data[start:end]))
	defer fr.Close()
	b := make([]byte, d.blocks[i].inflated)
	if _, err := io.ReadFull(fr, b); err != nil {
		return nil, errCorrupt
	}
	return b, nil
}

// u16 and u32 read little-endian integers at the head of s (long enough).
func u16(s string) int { return int(s[0]) | int(s[1])<<8 }

func u32(s string) int {
	return int(s[0]) | int(s[1])<<8 | int(s[2])<<16 | int(s[3])<<24
}
