package strictjson_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/strictjson"
)

type inner struct {
	At    *time.Time     `json:"at,omitempty"`
	N     int            `json:"n"`
	Free  map[string]any `json:"free,omitempty"`
	Names []string       `json:"names,omitempty"`
}

type doc struct {
	Name   string          `json:"name"`
	Inner  inner           `json:"inner"`
	List   []inner         `json:"list"`
	Schema json.RawMessage `json:"schema,omitempty"`
	// Owned is Herald's: a request may never set it.
	Owned string `json:"owned,omitempty" strictjson:"owned"`
}

func TestDecodeNamesEveryWrongFieldByItsPath(t *testing.T) {
	tests := []struct {
		name, body string
		fields     []string
	}{
		{"a valid body decodes", `{"name":"x","inner":{"n":1,"at":"2026-07-14T20:30:00Z","free":{"any":[1,{"x":null}]}},"schema":{"type":"object"}}`, nil},
		{"unknown fields are named with their path", `{"nme":"x","inner":{"m":1},"list":[{},{"zz":1}]}`, []string{"inner.m", "list[1].zz", "nme"}},
		{"field names are case-sensitive", `{"Name":"x"}`, []string{"Name"}},
		{"wrong types are named", `{"name":1,"inner":{"n":"1","names":"a"},"list":{}}`, []string{"inner.n", "inner.names", "list", "name"}},
		{"a fraction is not an integer", `{"inner":{"n":1.5}}`, []string{"inner.n"}},
		{"a date must be RFC 3339", `{"inner":{"at":"14/07/2026"}}`, []string{"inner.at"}},
		{"an empty member name is named, not an empty path", `{"":1,"inner":{"":2}}`, []string{`[""]`, `inner[""]`}},
		{"malformed JSON is a body error", `{"name":`, []string{"body"}},
		{"a second value is a body error", `{} {}`, []string{"body"}},
		{"a field Herald owns is refused", `{"owned":"arn:aws:sns:us-east-1:123456789012:internal"}`, []string{"owned"}},
		{"a field Herald owns is refused even empty or null", `{"owned":"","list":[{"n":1}]}`, []string{"owned"}},
		{"a null for a field Herald owns is refused too", `{"owned":null}`, []string{"owned"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d doc
			err := strictjson.Decode([]byte(tt.body), &d)
			var got []string
			var de *derrors.Error
			if errors.As(err, &de) {
				for _, f := range de.Fields {
					got = append(got, f.Field)
				}
			} else if err != nil {
				t.Fatalf("Decode error %v is not a derrors.Error", err)
			}
			if diff := cmp.Diff(tt.fields, got); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAFieldHeraldOwnsSaysSo(t *testing.T) {
	var d doc
	err := strictjson.Decode([]byte(`{"owned":"x"}`), &d)
	var de *derrors.Error
	if !errors.As(err, &de) || len(de.Fields) != 1 {
		t.Fatalf("Decode error = %v, want one field error", err)
	}
	want := derrors.FieldError{Field: "owned", Message: "is set by Herald, never by a request: remove it"}
	if diff := cmp.Diff(want, de.Fields[0]); diff != "" {
		t.Errorf("field error (-want +got):\n%s", diff)
	}
	if d.Owned != "" {
		t.Errorf("the refused value reached the target: %q", d.Owned)
	}
}

func TestMergePatchFollowsRFC7396(t *testing.T) {
	// The examples of RFC 7396, appendix A (a selection).
	tests := []struct{ target, patch, want string }{
		{`{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{`{"a":"b"}`, `{"a":null}`, `{}`},
		{`{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
		{`{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{`{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
		{`{}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},
		{`{"a":"foo"}`, `"bar"`, `"bar"`},
	}
	for _, tt := range tests {
		t.Run(tt.target+" patched with "+tt.patch, func(t *testing.T) {
			target, _ := strictjson.Parse([]byte(tt.target))
			patch, _ := strictjson.Parse([]byte(tt.patch))
			want, _ := strictjson.Parse([]byte(tt.want))
			if diff := cmp.Diff(want, strictjson.MergePatch(target, patch)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeIgnoringUnknownSkipsWhatNoFieldHas(t *testing.T) {
	tests := []struct {
		name, body string
		want       doc
		fields     []string
	}{
		{"unknown members are skipped at every depth", `{"name":"x","nme":1,"inner":{"n":2,"m":"x"}}`, doc{Name: "x", Inner: inner{N: 2}}, nil},
		{"a name in another case is an unknown member, not the field", `{"NAME":"x","Inner":{"n":1}}`, doc{}, nil},
		{"a malformed time is named", `{"list":[{},{"at":"tomorrow"}]}`, doc{}, []string{"list[1].at"}},
		{"every wrong value is named", `{"name":1,"list":[{"n":"1"},{"names":[1]}]}`, doc{}, []string{"list[0].n", "list[1].names[0]", "name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got doc
			err := strictjson.DecodeIgnoringUnknown([]byte(tt.body), &got)
			var fields []string
			var de *derrors.Error
			if errors.As(err, &de) {
				for _, f := range de.Fields {
					fields = append(fields, f.Field)
				}
			} else if err != nil {
				t.Fatalf("DecodeIgnoringUnknown: %v", err)
			}
			if diff := cmp.Diff(tt.fields, fields); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, got); tt.fields == nil && diff != "" {
				t.Errorf("decoded (-want +got):\n%s", diff)
			}
		})
	}
}
