package zone

import (
	"archive/zip"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// version is the IANA release of the copy ("2025c"); the tests read
// it, nothing else does.
func version() string {
	d, _ := theDB()
	return d.version
}

// names lists every zone of the copy, in order.
func names() []string {
	d, _ := theDB()
	var out []string
	for r := d.zones; len(r) > 0; {
		n, _, rest, ok := nextEntry(r)
		if !ok {
			break
		}
		out, r = append(out, n), rest
	}
	return out
}

// noSystem stands for Lambda's image: no zone database but the copy.
func noSystem(t *testing.T) {
	t.Helper()
	prev := system
	system = func(name string) (*time.Location, error) {
		if name == "" || name == "UTC" {
			return time.UTC, nil
		}
		return nil, errors.New("unknown time zone " + name)
	}
	loaded.Clear()
	t.Cleanup(func() { system = prev; loaded.Clear() })
}

// offsetAt is the zone's UTC offset at t, in minutes.
func offsetAt(t *testing.T, loc *time.Location, at time.Time) int {
	t.Helper()
	_, off := at.In(loc).Zone()
	return off / 60
}

func TestZonesLoadFromTheCopyWithoutASystemDatabase(t *testing.T) {
	noSystem(t)
	summer := time.Date(2025, 7, 1, 12, 0, 0, 0, time.UTC)
	winter := time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name           string
		summer, winter int // minutes east of UTC
	}{
		{"America/New_York", -4 * 60, -5 * 60},
		{"Europe/Paris", 2 * 60, 60},
		{"Asia/Kolkata", 5*60 + 30, 5*60 + 30},
		{"America/St_Johns", -(2*60 + 30), -(3*60 + 30)},
		{"Australia/Lord_Howe", 10*60 + 30, 11 * 60},
		{"Pacific/Chatham", 12*60 + 45, 13*60 + 45},
		{"US/Eastern", -4 * 60, -5 * 60}, // a link: its target's data
		{"Zulu", 0, 0},
	} {
		loc, err := Load(c.name)
		if err != nil {
			t.Errorf("Load(%q): %v", c.name, err)
			continue
		}
		if loc.String() != c.name {
			t.Errorf("Load(%q) is named %q", c.name, loc)
		}
		if got := offsetAt(t, loc, summer); got != c.summer {
			t.Errorf("%s on 2025-07-01: UTC%+d min, want %+d", c.name, got, c.summer)
		}
		if got := offsetAt(t, loc, winter); got != c.winter {
			t.Errorf("%s on 2025-01-15: UTC%+d min, want %+d", c.name, got, c.winter)
		}
	}
}

func TestNamesThatAreNotZonesAreRefusedAndNotKept(t *testing.T) {
	noSystem(t)
	for _, name := range []string{"Not/AZone", "america/new_york", "../../etc/passwd", "/etc/localtime", "Europe/Paris\x00", strings.Repeat("A", 300)} {
		if _, err := Load(name); err == nil {
			t.Errorf("Load(%q) succeeded", name)
		}
	}
	n := 0
	loaded.Range(func(any, any) bool { n++; return true })
	if n != 0 {
		t.Errorf("%d names kept after refusals", n)
	}
}

func TestLocalIsNoNamedZone(t *testing.T) {
	if _, err := LoadNamed("Local"); err == nil {
		t.Error(`LoadNamed("Local") succeeded: the process's zone is no IANA name`)
	}
	if loc, err := Load("Local"); err != nil || loc != time.Local {
		t.Errorf(`Load("Local") = %v, %v; want time.Local, as time.LoadLocation`, loc, err)
	}
	if loc, err := LoadNamed("Europe/Paris"); err != nil || loc.String() != "Europe/Paris" {
		t.Errorf(`LoadNamed("Europe/Paris") = %v, %v`, loc, err)
	}
}

func TestASystemZoneIsPreferredAndKept(t *testing.T) {
	calls := 0
	prev := system
	system = func(name string) (*time.Location, error) { calls++; return time.FixedZone(name, 3600), nil }
	loaded.Clear()
	t.Cleanup(func() { system = prev; loaded.Clear() })
	for range 3 {
		loc, err := Load("Europe/Paris")
		if err != nil {
			t.Fatal(err)
		}
		if got := offsetAt(t, loc, time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)); got != 60 {
			t.Fatalf("offset %d: the copy was read, not the system's zone", got)
		}
	}
	if calls != 1 {
		t.Errorf("the system was asked %d times for one zone, want once", calls)
	}
}

// Every zone of the copy loads (every block inflates, every record
// points inside its block), and the copy holds the zones programs name
// most.
func TestEveryZoneOfTheCopyLoads(t *testing.T) {
	all := names()
	if len(all) < 500 {
		t.Fatalf("the copy names %d zones", len(all))
	}
	for _, want := range []string{"UTC", "Etc/UTC", "America/Sao_Paulo", "Asia/Tokyo", "Africa/Lagos", "Europe/Kyiv"} {
		if _, ok := embedded(want); !ok {
			t.Errorf("the copy has no %s", want)
		}
	}
	for _, n := range all {
		data, ok := embedded(n)
		if !ok {
			t.Errorf("%s: not readable", n)
			continue
		}
		if _, err := time.LoadLocationFromTZData(n, data); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
	if v := version(); len(v) != 5 || !strings.HasPrefix(v, "20") {
		t.Errorf("version() = %q, want an IANA release such as 2025c", v)
	}
}

// When the toolchain's zoneinfo.zip is the copy's release, the copy
// holds exactly its zones, byte for byte.
func TestTheCopyIsTheToolchainsDatabase(t *testing.T) {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skip("no go command")
	}
	lib := filepath.Join(strings.TrimSpace(string(out)), "lib", "time")
	if script, err := exec.Command("grep", "-x", "DATA="+version(), filepath.Join(lib, "update.bash")).Output(); err != nil || len(script) == 0 {
		t.Skipf("the toolchain's zones are not IANA %s", version())
	}
	zr, err := zip.OpenReader(filepath.Join(lib, "zoneinfo.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if got, want := len(names()), len(zr.File); got != want {
		t.Errorf("the copy names %d zones, the toolchain %d", got, want)
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		want, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		got, ok := embedded(f.Name)
		if !ok || string(got) != string(want) {
			t.Errorf("%s: the copy's data differs from the toolchain's", f.Name)
		}
	}
}

func TestACorruptCopyIsNeverRead(t *testing.T) {
	good, err := open(database)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "herald-zones 2\n", magic, magic + "\x05202", database[:len(magic)+20], database[:len(database)-len(good.data)-3]} {
		if _, err := open(bad); err == nil {
			t.Errorf("open(%q…) accepted a truncated database", bad[:min(len(bad), 24)])
		}
	}
	truncated := good
	truncated.data = truncated.data[:len(truncated.data)/2]
	if _, err := truncated.inflate(len(truncated.blocks) - 1); err == nil {
		t.Error("a block past the data inflated")
	}
}

// BenchmarkLoadFromTheCopy is the first load of a zone on Lambda (no
// system database): one block inflated.
func BenchmarkLoadFromTheCopy(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		data, ok := embedded("America/New_York")
		if !ok {
			b.Fatal("no America/New_York")
		}
		if _, err := time.LoadLocationFromTZData("America/New_York", data); err != nil {
			b.Fatal(err)
		}
	}
}
