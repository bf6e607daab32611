// Package testfill fills values with random data for the tests that hold
// a hand-written JSON encoder (delivery's jobs, the idempotency hash's
// canonical request) to encoding/json's output: every field, set or left
// zero, with the strings and objects a call may carry. Only tests import
// it.
package testfill

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/render"
)

// TrickyStrings are what a call may carry: quotes, backslashes, control
// characters, HTML, line separators raw and as text, invalid UTF-8,
// characters of every width.
var TrickyStrings = []string{"", "plain", `say "hi"`, `C:\path\u2028`, "tab\there\nnew\rline\b\f\x00\x1f\x7f",
	"<b>&amp;</b>", "line\u2028sep\u2029arator", "\xff\xfe invalid \xc3", "\xe2\x80", "é漢字🙂", "\u2028", `\`, "\ufffd"}

// String is up to three tricky strings end to end.
func String(r *rand.Rand) string {
	var b strings.Builder
	for range r.IntN(4) {
		b.WriteString(TrickyStrings[r.IntN(len(TrickyStrings))])
	}
	return b.String()
}

// Object is a random object up to depth levels deep: tricky names and
// strings, numbers float64 cannot hold, booleans, nulls, arrays.
func Object(t testing.TB, r *rand.Rand, depth int) render.Object {
	t.Helper()
	o, err := render.ParseObject(objectJSON(r, depth))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func objectJSON(r *rand.Rand, depth int) []byte {
	m := map[string]any{}
	for range r.IntN(5) {
		var v any
		switch r.IntN(6) {
		case 0:
			v = String(r)
		case 1:
			v = json.Number([]string{"0", "-1.5e3", "12345678901234567890", "19.990"}[r.IntN(4)])
		case 2:
			v = r.IntN(2) == 0
		case 3:
			v = nil
		case 4:
			if depth > 0 {
				v = json.RawMessage(objectJSON(r, depth-1))
			}
		case 5:
			v = []any{String(r), json.Number("1")}
		}
		m[String(r)] = v
	}
	b, _ := json.Marshal(m)
	return b
}

// Random sets every field reachable from v (settable) to a random value,
// or leaves it zero one time in three, so that omitted and written
// fields both come up; values of the types in skip stay zero. A kind it
// does not know fails the test: the encoder under test must then learn
// the new field too.
func Random(t testing.TB, r *rand.Rand, v reflect.Value, skip ...reflect.Type) {
	t.Helper()
	for _, s := range skip {
		if v.Type() == s {
			return
		}
	}
	switch v.Type() {
	case reflect.TypeFor[render.Object]():
		v.Set(reflect.ValueOf(Object(t, r, 2)))
		return
	case reflect.TypeFor[time.Time]():
		v.Set(reflect.ValueOf(time.Unix(r.Int64N(4e9), r.Int64N(1e9)).In(time.FixedZone("", 3600*(r.IntN(25)-12)))))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(String(r))
	case reflect.Int:
		v.SetInt(r.Int64N(1<<40) - 1<<39)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		Random(t, r, v.Elem(), skip...)
	case reflect.Slice:
		n := r.IntN(4)
		v.Set(reflect.MakeSlice(v.Type(), n, n))
		for i := range n {
			Random(t, r, v.Index(i), skip...)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if r.IntN(3) > 0 {
				Random(t, r, v.Field(i), skip...)
			}
		}
	default:
		t.Fatalf("testfill: a field of kind %s (%s): teach the encoder under test and this package", v.Kind(), v.Type())
	}
}
