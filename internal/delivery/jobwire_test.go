package delivery

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testfill"
)

// encodeJSON is the reference appendJob is held to: an encoding/json
// Encoder with SetEscapeHTML(false), without its newline, line
// separators unescaped (EncodeJob before appendJob).
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return unescapeSeparators(bytes.TrimRight(buf.Bytes(), "\n")), nil
}

func TestAppendJobIsEncodingJSONs(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 2026))
	jobs := []Job{{}, {Recipients: []Recipient{}}, {Recipients: []Recipient{{Push: &PushTarget{}}}}}
	for range 400 {
		var j Job
		testfill.Random(t, r, reflect.ValueOf(&j).Elem(), reflect.TypeFor[time.Duration](), reflect.TypeFor[Receipt]())
		jobs = append(jobs, j)
	}
	for i, j := range jobs {
		want, err := encodeJSON(j)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendJob(nil, j)
		if err != nil {
			t.Fatalf("job %d: %v", i, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("job %d:\n got %s\nwant %s", i, got, want)
		}
		if n, err := EncodedJobSize(j); err != nil || n != len(want) {
			t.Fatalf("job %d: EncodedJobSize = %d, %v; want %d", i, n, err, len(want))
		}
	}
	late := Job{DeferUntil: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := encodeJSON(late); err == nil {
		t.Fatal("encoding/json took a year past 9999")
	}
	if _, err := EncodeJob(late); err == nil {
		t.Error("EncodeJob took a year past 9999, which encoding/json refuses")
	}
}

func FuzzAppendStringIsEncodingJSONs(f *testing.F) {
	for _, s := range testfill.TrickyStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := encodeJSON(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("appendString(%q) = %s, want %s", s, got, want)
		}
	})
}
