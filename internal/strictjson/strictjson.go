// Package strictjson is the one decoder of every request body Herald
// reads: exactly one JSON value, member names matched case-sensitively
// (unlike encoding/json), every value of the right type and every time an
// RFC 3339 string. All problems are reported at once, each with its JSON
// path ("content.email.subject", "recipients[2].userId"), as one
// derrors.Validation error, and the target is left untouched unless the
// body is valid. What happens to a member no field has is the route
// family's policy: management bodies refuse it (Decode), the AJO execution
// API ignores it as AJO does (DecodeIgnoringUnknown).
//
// A field tagged `strictjson:"owned"` is one Herald sets and a client never
// may (a device's endpointArn): it is known, so its name is reserved, but
// any value for it, null included, is refused with a message saying so.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/derrors"
)

var (
	timeType        = reflect.TypeFor[time.Time]()
	rawType         = reflect.TypeFor[json.RawMessage]()
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
)

// Decode decodes body into v (a pointer to a struct) or returns a
// derrors.Validation error naming every wrong field; a member no field
// has is one.
func Decode(body []byte, v any) error {
	if decodeFast(body, v, true) {
		return nil
	}
	var doc any
	if err := decodeOne(body, &doc); err != nil {
		return err
	}
	return DecodeValue(doc, v)
}

// DecodeIgnoringUnknown is Decode for the AJO execution API: a member no
// field has (mergePolicyName, a field of a later AJO version, a name in
// another case) is skipped, as AJO skips it.
//
// It is on the trigger's hot path, so a body whose member names all match
// their fields exactly (see fast.go) is decoded in one encoding/json pass;
// any other, and any that pass refuses, is parsed, checked and pruned so
// that every wrong value is named.
func DecodeIgnoringUnknown(body []byte, v any) error {
	if decodeFast(body, v, false) {
		return nil
	}
	var doc any
	if err := decodeOne(body, &doc); err != nil {
		return err
	}
	return decodeValue(checker{ignoreUnknown: true}, doc, v)
}

// DecodeValue decodes an already parsed document (as decodeOne produces:
// objects, arrays, json.Number, strings, booleans, nil) into v, refusing
// unknown members.
func DecodeValue(doc any, v any) error { return decodeValue(checker{}, doc, v) }

func decodeValue(c checker, doc any, v any) error {
	var f derrors.Fields
	c.check(&f, "", doc, reflect.TypeOf(v).Elem())
	if err := f.Err(); err != nil {
		return err
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return derrors.Validation(derrors.FieldError{Field: "body", Message: err.Error()})
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		// check accepted it, so this is a value out of the type's range.
		return derrors.Validation(derrors.FieldError{Field: "body", Message: err.Error()})
	}
	return nil
}

// Parse parses body as exactly one JSON value, numbers as json.Number.
func Parse(body []byte) (any, error) {
	var doc any
	return doc, decodeOne(body, &doc)
}

func decodeOne(body []byte, doc *any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(doc); err != nil {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			return derrors.Validation(derrors.FieldError{Field: "body", Message: fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, se)})
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return derrors.Validation(derrors.FieldError{Field: "body", Message: "malformed JSON: unexpected end of input"})
		}
		return derrors.Validation(derrors.FieldError{Field: "body", Message: "malformed JSON: " + err.Error()})
	}
	if _, err := dec.Token(); err != io.EOF {
		return derrors.Validation(derrors.FieldError{Field: "body", Message: "must hold exactly one JSON value"})
	}
	return nil
}

// join names the member name of the object at path. An empty name is
// written [""], so the path never comes out empty or ending in a dot.
func join(path, name string) string {
	switch {
	case name == "":
		return path + `[""]`
	case path == "":
		return name
	}
	return path + "." + name
}

func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func field(path string) string {
	if path == "" {
		return "body"
	}
	return path
}

// checker reports where a document does not fit a type. ignoreUnknown
// removes the members no field has from the document instead of reporting
// them, so that encoding/json, which matches names case-insensitively,
// never sees one.
type checker struct{ ignoreUnknown bool }

// check reports where doc does not fit t.
func (c checker) check(f *derrors.Fields, path string, doc any, t reflect.Type) {
	if doc == nil {
		// null: the zero value (merge patches use it to clear a field).
		return
	}
	if t == rawType {
		return
	}
	if t.Kind() == reflect.Pointer {
		c.check(f, path, doc, t.Elem())
		return
	}
	if t == timeType {
		s, ok := doc.(string)
		if !ok {
			f.Add(field(path), "must be an RFC 3339 date-time string, not %s", describe(doc))
			return
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			f.Add(field(path), "must be an RFC 3339 date-time such as 2026-07-14T20:30:00Z, not %q", s)
		}
		return
	}
	if t.Kind() == reflect.Struct && reflect.PointerTo(t).Implements(unmarshalerType) {
		// A type that decodes itself (render.Object) is checked by
		// decoding its part of the document; its error is the message.
		b, err := json.Marshal(doc)
		if err == nil {
			err = reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(b)
		}
		if err != nil {
			f.Add(field(path), "%s", err.Error())
		}
		return
	}
	switch t.Kind() {
	case reflect.Interface:
		return
	case reflect.String:
		if _, ok := doc.(string); !ok {
			f.Add(field(path), "must be a string, not %s", describe(doc))
		}
	case reflect.Bool:
		if _, ok := doc.(bool); !ok {
			f.Add(field(path), "must be a boolean, not %s", describe(doc))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := doc.(json.Number)
		if !ok {
			f.Add(field(path), "must be an integer, not %s", describe(doc))
			return
		}
		if _, err := strconv.ParseInt(n.String(), 10, t.Bits()); err != nil {
			f.Add(field(path), "must be an integer, not %s", n)
		}
	case reflect.Float32, reflect.Float64:
		if _, ok := doc.(json.Number); !ok {
			f.Add(field(path), "must be a number, not %s", describe(doc))
		}
	case reflect.Slice, reflect.Array:
		a, ok := doc.([]any)
		if !ok {
			f.Add(field(path), "must be an array, not %s", describe(doc))
			return
		}
		for i, e := range a {
			c.check(f, fmt.Sprintf("%s[%d]", path, i), e, t.Elem())
		}
	case reflect.Map:
		m, ok := doc.(map[string]any)
		if !ok {
			f.Add(field(path), "must be an object, not %s", describe(doc))
			return
		}
		for k, e := range m {
			c.check(f, join(path, k), e, t.Elem())
		}
	case reflect.Struct:
		m, ok := doc.(map[string]any)
		if !ok {
			f.Add(field(path), "must be an object, not %s", describe(doc))
			return
		}
		fields := structFields(t)
		for _, k := range sortedKeys(m) {
			sf, ok := fields[k]
			switch {
			case !ok && c.ignoreUnknown:
				delete(m, k)
			case !ok:
				f.Add(join(path, k), "is not a known field")
			case sf.owned:
				f.Add(join(path, k), "is set by Herald, never by a request: remove it")
			default:
				c.check(f, join(path, k), m[k], sf.typ)
			}
		}
	default:
		f.Add(field(path), "cannot be decoded")
	}
}

// structField is what check needs of a struct field.
type structField struct {
	typ reflect.Type
	// owned: tagged strictjson:"owned", refused whatever its value.
	owned bool
}

// structFields maps the JSON names of t's fields to their types.
func structFields(t reflect.Type) map[string]structField {
	out := map[string]structField{}
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if sf.Anonymous && name == "" {
			ft := sf.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			for k, v := range structFields(ft) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = sf.Name
		}
		out[name] = structField{typ: sf.Type, owned: sf.Tag.Get("strictjson") == "owned"}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// MergePatch applies an RFC 7396 JSON merge patch to target (both parsed
// documents) and returns the result; target is not modified.
func MergePatch(target, patch any) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	tm, ok := target.(map[string]any)
	out := make(map[string]any, len(tm)+len(pm))
	if ok {
		for k, v := range tm {
			out[k] = v
		}
	}
	for k, v := range pm {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = MergePatch(out[k], v)
	}
	return out
}

// ParsePatch parses body as an RFC 7396 merge patch of a T (it must be a
// JSON object) and returns the edit that applies it: the current T, as
// JSON, merge-patched and decoded as Decode does. A null clears a field,
// and errors name the fields of the patched document. A malformed body is
// refused here, before the caller reads what it patches; the edit may run
// again on a newer T, as a retry after a lost race does.
func ParsePatch[T any](body []byte) (func(current T) (T, error), error) {
	patch, err := Parse(body)
	if err != nil {
		return nil, err
	}
	if _, ok := patch.(map[string]any); !ok {
		return nil, derrors.Validation(derrors.FieldError{Field: "body", Message: "must be a JSON object (a merge patch)"})
	}
	return func(current T) (T, error) {
		var zero, out T
		b, err := json.Marshal(current)
		if err != nil {
			return zero, fmt.Errorf("merge patch: encode the current document: %w", err)
		}
		doc, err := Parse(b)
		if err != nil {
			return zero, fmt.Errorf("merge patch: parse the current document: %w", err)
		}
		if err := DecodeValue(MergePatch(doc, patch), &out); err != nil {
			return zero, err
		}
		return out, nil
	}, nil
}
