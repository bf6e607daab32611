package strictjson

import (
	"encoding/json"
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

// checked decodes body the slow way only: parse, check, prune, decode.
func checked(body []byte, v any) error {
	var doc any
	if err := decodeOne(body, &doc); err != nil {
		return err
	}
	return decodeValue(checker{ignoreUnknown: true}, doc, v)
}

func TestTheFastPathDecodesExactlyAsTheCheckedPath(t *testing.T) {
	bodies := []struct {
		name, body string
		fast       bool // whether the fast path may take it
	}{
		{"exact names", `{"name":"x","inner":{"appID":"a","n":2},"list":[{"n":1}],"context":{"k":[1,"v"]}}`, true},
		{"unknown members", `{"name":"x","nme":1,"inner":{"appID":"a","extra":{"deep":[1]}}}`, true},
		{"a name in another case is unknown, not the field", `{"NAME":"x","inner":{"appId":"a"}}`, false},
		{"an escaped key", `{"na\u006de":"x"}`, false},
		{"a key that folds to a field in Unicode", `{"ſame":"x","naſme":"y"}`, false},
		{"escaped quotes inside values", `{"name":"say \"name\": hi","context":{"q":"\\"}}`, true},
		{"a key like a field inside the context", `{"name":"x","context":{"Name":"y"}}`, false},
		{"whitespace before the colon", "{\"name\" \n: \"x\"}", true},
		{"a time", `{"at":"2026-07-14T20:30:00Z"}`, true},
		{"a malformed time", `{"at":"tomorrow"}`, false},
		{"a wrong type", `{"name":1}`, false},
		{"two values", `{"name":"x"} {}`, false},
		{"a raw member", `{"Raw":{"a":1}}`, true},
		{"null for a struct", `{"inner":null,"list":null}`, true},
	}
	for _, tt := range bodies {
		t.Run(tt.name, func(t *testing.T) {
			var viaFast, viaChecked fastDoc
			fastErr := DecodeIgnoringUnknown([]byte(tt.body), &viaFast)
			checkedErr := checked([]byte(tt.body), &viaChecked)
			if (fastErr == nil) != (checkedErr == nil) {
				t.Fatalf("errors differ: %v and %v", fastErr, checkedErr)
			}
			if fastErr != nil && fastErr.Error() != checkedErr.Error() {
				t.Errorf("errors differ:\n%v\n%v", fastErr, checkedErr)
			}
			if diff := cmp.Diff(viaChecked, viaFast); diff != "" {
				t.Errorf("decoded (-checked +fast):\n%s", diff)
			}
			var probe fastDoc
			if got := decodeFast([]byte(tt.body), &probe); got != tt.fast {
				t.Errorf("fast path taken = %v, want %v", got, tt.fast)
			}
		})
	}
}

func TestAFailedFastDecodeLeavesTheTargetUntouched(t *testing.T) {
	v := fastDoc{Name: "before", Context: map[string]any{"kept": true}}
	if decodeFast([]byte(`{"name":"x","context":{"k":1},"list":[{"n":"one"}]}`), &v) {
		t.Fatal("the fast path took a body with a wrong type")
	}
	if diff := cmp.Diff(fastDoc{Name: "before", Context: map[string]any{"kept": true}}, v); diff != "" {
		t.Errorf("target changed (-want +got):\n%s", diff)
	}
}
