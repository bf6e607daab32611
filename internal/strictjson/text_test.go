package strictjson_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/strictjson"
)

func TestCheckTextNamesEveryStringThatWouldBeReplaced(t *testing.T) {
	tests := []struct {
		name, body string
		want       []derrors.FieldError
	}{
		{"plain ASCII passes", `{"a":"b"}`, nil},
		{"multi-byte UTF-8 passes", `{"name":"Zoë ☕ 𝄞"}`, nil},
		{"a surrogate pair passes", `{"clef":"\ud834\udd1e"}`, nil},
		{"an escaped backslash before u is no escape", `{"path":"C:\\ud800"}`, nil},
		{"U+2028 and NUL escapes are text, refused later where they matter", `{"a":"\u2028\u0000"}`, nil},
		{"an empty body passes (the decoder reports it)", ``, nil},
		{"invalid UTF-8 in a value is named by its path",
			"{\"recipients\":[{\"userId\":\"ok\"},{\"channelData\":{\"emailAddress\":\"f\xff\xfez@example.com\"}}]}",
			[]derrors.FieldError{{Field: "recipients[1].channelData.emailAddress", Message: "must be valid UTF-8"}}},
		{"a lone high surrogate is named",
			`{"attributes":{"name":"a\ud800b"}}`,
			[]derrors.FieldError{{Field: "attributes.name", Message: `must not hold an unpaired UTF-16 surrogate escape (\uD800-\uDFFF)`}}},
		{"a lone low surrogate is named",
			`{"list":["ok","\uDC00"]}`,
			[]derrors.FieldError{{Field: "list[1]", Message: `must not hold an unpaired UTF-16 surrogate escape (\uD800-\uDFFF)`}}},
		{"a high surrogate at the end of a string is named",
			`{"s":"x\ud83d"}`,
			[]derrors.FieldError{{Field: "s", Message: `must not hold an unpaired UTF-16 surrogate escape (\uD800-\uDFFF)`}}},
		{"two high surrogates in a row are named",
			`{"s":"\ud83d\ud83d"}`,
			[]derrors.FieldError{{Field: "s", Message: `must not hold an unpaired UTF-16 surrogate escape (\uD800-\uDFFF)`}}},
		{"a bad key is named by its own path",
			"{\"attributes\":{\"k\xc0\":1}}",
			[]derrors.FieldError{{Field: "attributes.k\ufffd", Message: "has a key that must be valid UTF-8"}}},
		{"a bad value under an empty key is named by a path that is not empty",
			`{"":{"":"\ud800"}}`,
			[]derrors.FieldError{{Field: `[""][""]`, Message: `must not hold an unpaired UTF-16 surrogate escape (\uD800-\uDFFF)`}}},
		{"a later field is named after a nested object closes",
			"{\"a\":{\"b\":[1,{\"c\":\"ok\"}]},\"d\":\"\xff\"}",
			[]derrors.FieldError{{Field: "d", Message: "must be valid UTF-8"}}},
		{"a bad root string is the body",
			"\"\xff\"",
			[]derrors.FieldError{{Field: "body", Message: "must be valid UTF-8"}}},
		{"invalid UTF-8 outside any string is the body",
			"{\"a\":1}\xff",
			[]derrors.FieldError{{Field: "body", Message: "must be valid UTF-8 without unpaired UTF-16 surrogate escapes"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := strictjson.CheckText([]byte(tt.body))
			var got []derrors.FieldError
			var de *derrors.Error
			switch {
			case errors.As(err, &de):
				if de.Kind != derrors.Invalid {
					t.Errorf("kind = %v, want Invalid", de.Kind)
				}
				got = de.Fields
			case err != nil:
				t.Fatalf("CheckText error %v is not a derrors.Error", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("field errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckTextListsAtMostTwentyFields(t *testing.T) {
	body := []byte("[")
	for i := range 50 {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, "\"\xff\""...)
	}
	body = append(body, ']')
	var de *derrors.Error
	if !errors.As(strictjson.CheckText(body), &de) {
		t.Fatal("CheckText accepted fifty bad strings")
	}
	if len(de.Fields) != 20 {
		t.Errorf("CheckText listed %d fields, want 20", len(de.Fields))
	}
}
