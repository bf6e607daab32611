package strictjson

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type fastInner struct {
	AppID string `json:"appID"`
	N     int    `json:"n"`
}

type fastDoc struct {
	Name    string         `json:"name"`
	At      *time.Time     `json:"at,omitempty"`
	Inner   *fastInner     `json:"inner,omitempty"`
	List    []fastInner    `json:"list"`
	Context map[string]any `json:"context,omitempty"`
	Raw     json.RawMessage
}

// fastTyped is fastDoc with no interface value: the fast path decodes it
// with json.Unmarshal when unknown members are ignored.
type fastTyped struct {
	Name    string                     `json:"name"`
	At      *time.Time                 `json:"at,omitempty"`
	Inner   *fastInner                 `json:"inner,omitempty"`
	List    []fastInner                `json:"list"`
	Context map[string]json.RawMessage `json:"context,omitempty"`
	Raw     json.RawMessage
}

// checked decodes body the slow way only: parse, check, prune (when
// unknown members are ignored), decode.
func checked(body []byte, v any, ignoreUnknown bool) error {
	var doc any
	if err := decodeOne(body, &doc); err != nil {
		return err
	}
	return decodeValue(checker{ignoreUnknown: ignoreUnknown}, doc, v)
}

func TestTheFastPathDecodesExactlyAsTheCheckedPath(t *testing.T) {
	bodies := []struct {
		name, body string
		fast       bool // whether the fast path may take it
		// strictFast is whether Decode's fast path, which refuses
		// unknown members, may take it (fast without unknown members).
		strictFast bool
	}{
		{"exact names", `{"name":"x","inner":{"appID":"a","n":2},"list":[{"n":1}],"context":{"k":[1,"v"]}}`, true, true},
		{"unknown members", `{"name":"x","nme":1,"inner":{"appID":"a","extra":{"deep":[1]}}}`, true, false},
		{"a name in another case is unknown, not the field", `{"NAME":"x","inner":{"appId":"a"}}`, false, false},
		{"an escaped key", `{"na\u006de":"x"}`, false, false},
		{"a key that folds to a field in Unicode", `{"ſame":"x","naſme":"y"}`, false, false},
		{"escaped quotes inside values", `{"name":"say \"name\": hi","context":{"q":"\\"}}`, true, true},
		{"a key like a field inside the context", `{"name":"x","context":{"Name":"y"}}`, false, false},
		{"whitespace before the colon", "{\"name\" \n: \"x\"}", true, true},
		{"a time", `{"at":"2026-07-14T20:30:00Z"}`, true, true},
		{"a malformed time", `{"at":"tomorrow"}`, false, false},
		{"a wrong type", `{"name":1}`, false, false},
		{"two values", `{"name":"x"} {}`, false, false},
		{"something after the value", `{"name":"x"} x`, false, false},
		{"whitespace after the value", "{\"name\":\"x\"} \n\t", true, true},
		{"malformed", `{"name":"x",}`, false, false},
		{"a raw member", `{"Raw":{"a":1}}`, true, true},
		{"null for a struct", `{"inner":null,"list":null}`, true, true},
	}
	for _, tt := range bodies {
		t.Run(tt.name, func(t *testing.T) {
			for _, strict := range []bool{false, true} {
				want := tt.fast
				if strict {
					want = tt.strictFast
				}
				sameAsChecked[fastDoc](t, tt.body, strict, want)
				sameAsChecked[fastTyped](t, tt.body, strict, want)
			}
		})
	}
	if f := fieldsOf(reflect.TypeFor[fastDoc]()); !f.iface {
		t.Error("fastDoc's context holds interface values, which UseNumber decodes")
	}
	if f := fieldsOf(reflect.TypeFor[fastTyped]()); f.iface {
		t.Error("fastTyped has no interface value")
	}
}

// sameAsChecked decodes body into a T with Decode (strict) or
// DecodeIgnoringUnknown and through the checked path alone: the same
// value or the same error; and whether the fast path took it.
func sameAsChecked[T any](t *testing.T, body string, strict, wantFast bool) {
	t.Helper()
	var viaFast, viaChecked T
	decode := DecodeIgnoringUnknown
	if strict {
		decode = Decode
	}
	fastErr := decode([]byte(body), &viaFast)
	checkedErr := checked([]byte(body), &viaChecked, !strict)
	if (fastErr == nil) != (checkedErr == nil) {
		t.Fatalf("%T, strict %v: errors differ: %v and %v", viaFast, strict, fastErr, checkedErr)
	}
	if fastErr != nil && fastErr.Error() != checkedErr.Error() {
		t.Errorf("%T, strict %v: errors differ:\n%v\n%v", viaFast, strict, fastErr, checkedErr)
	}
	if diff := cmp.Diff(viaChecked, viaFast); diff != "" {
		t.Errorf("%T, strict %v: decoded (-checked +fast):\n%s", viaFast, strict, diff)
	}
	var probe T
	if got := decodeFast([]byte(body), &probe, strict); got != wantFast {
		t.Errorf("%T, strict %v: fast path taken = %v, want %v", probe, strict, got, wantFast)
	}
}

func TestAFailedFastDecodeLeavesTheTargetUntouched(t *testing.T) {
	v := fastDoc{Name: "before", Context: map[string]any{"kept": true}}
	if decodeFast([]byte(`{"name":"x","context":{"k":1},"list":[{"n":"one"}]}`), &v, false) {
		t.Fatal("the fast path took a body with a wrong type")
	}
	if diff := cmp.Diff(fastDoc{Name: "before", Context: map[string]any{"kept": true}}, v); diff != "" {
		t.Errorf("target changed (-want +got):\n%s", diff)
	}
}
