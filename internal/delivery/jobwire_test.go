package delivery

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/render"
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

// trickyStrings are what a call may carry: quotes, backslashes, control
// characters, HTML, line separators raw and as text, invalid UTF-8,
// characters of every width.
var trickyStrings = []string{"", "plain", `say "hi"`, `C:\path\u2028`, "tab\there\nnew\rline\b\f\x00\x1f\x7f",
	"<b>&amp;</b>", "line\u2028sep\u2029arator", "\xff\xfe invalid \xc3", "\xe2\x80", "é漢字🙂", "\u2028", `\`, "\ufffd"}

func randomString(r *rand.Rand) string {
	var b strings.Builder
	for range r.IntN(4) {
		b.WriteString(trickyStrings[r.IntN(len(trickyStrings))])
	}
	return b.String()
}

func randomObject(t *testing.T, r *rand.Rand, depth int) render.Object {
	t.Helper()
	o, err := render.ParseObject(randomJSONObject(r, depth))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func randomJSONObject(r *rand.Rand, depth int) []byte {
	m := map[string]any{}
	for range r.IntN(5) {
		var v any
		switch r.IntN(6) {
		case 0:
			v = randomString(r)
		case 1:
			v = json.Number([]string{"0", "-1.5e3", "12345678901234567890", "19.990"}[r.IntN(4)])
		case 2:
			v = r.IntN(2) == 0
		case 3:
			v = nil
		case 4:
			if depth > 0 {
				v = json.RawMessage(randomJSONObject(r, depth-1))
			}
		case 5:
			v = []any{randomString(r), json.Number("1")}
		}
		m[randomString(r)] = v
	}
	b, _ := json.Marshal(m)
	return b
}

// fill sets every field of v (a pointer) to a random value, or leaves it
// zero one time in three, so that omitted and written fields both come
// up. A field of a kind it does not know fails the test: appendJob must
// then learn the new field too.
func fill(t *testing.T, r *rand.Rand, v reflect.Value) {
	t.Helper()
	switch v.Type() {
	case reflect.TypeFor[render.Object]():
		v.Set(reflect.ValueOf(randomObject(t, r, 2)))
		return
	case reflect.TypeFor[time.Time]():
		v.Set(reflect.ValueOf(time.Unix(r.Int64N(4e9), r.Int64N(1e9)).In(time.FixedZone("", 3600*(r.IntN(25)-12)))))
		return
	case reflect.TypeFor[time.Duration](), reflect.TypeFor[Receipt]():
		return // not part of the message
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(randomString(r))
	case reflect.Int:
		v.SetInt(r.Int64N(1<<40) - 1<<39)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(t, r, v.Elem())
	case reflect.Slice:
		n := r.IntN(4)
		v.Set(reflect.MakeSlice(v.Type(), n, n))
		for i := range n {
			fill(t, r, v.Index(i))
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if r.IntN(3) > 0 {
				fill(t, r, v.Field(i))
			}
		}
	default:
		t.Fatalf("fill: a field of kind %s (%s): teach appendJob and this test", v.Kind(), v.Type())
	}
}

func TestAppendJobIsEncodingJSONs(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 2026))
	jobs := []Job{{}, {Recipients: []Recipient{}}, {Recipients: []Recipient{{Push: &PushTarget{}}}}}
	for range 400 {
		var j Job
		fill(t, r, reflect.ValueOf(&j).Elem())
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
	for _, s := range trickyStrings {
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
