package render

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func loadFixture(tb testing.TB) (email, sms string, data any) {
	tb.Helper()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	if err := json.Unmarshal(read("data.json"), &data); err != nil {
		tb.Fatal(err)
	}
	return string(read("email.hbs")), string(read("sms.txt")), data
}

func benchExecute(b *testing.B, src string, mode Mode, data any) {
	tmpl, err := Parse(src, mode)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := tmpl.Execute(io.Discard, data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExecuteEmail(b *testing.B) {
	email, _, data := loadFixture(b)
	benchExecute(b, email, HTML, data)
}

// BenchmarkExecuteEmailObject is BenchmarkExecuteEmail with the data as
// Herald passes it: decoded once into an Object.
func BenchmarkExecuteEmailObject(b *testing.B) {
	email, _, data := loadFixture(b)
	raw, err := json.Marshal(data)
	if err != nil {
		b.Fatal(err)
	}
	o, err := ParseObject(raw)
	if err != nil {
		b.Fatal(err)
	}
	benchExecute(b, email, HTML, o)
}

func BenchmarkExecuteSMS(b *testing.B) {
	_, sms, data := loadFixture(b)
	benchExecute(b, sms, Text, data)
}

func BenchmarkParseEmail(b *testing.B) {
	email, _, _ := loadFixture(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(email, HTML); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExecuteEmailParallel(b *testing.B) {
	email, _, data := loadFixture(b)
	tmpl, err := Parse(email, HTML)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := tmpl.Execute(io.Discard, data); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
