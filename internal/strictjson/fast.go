package strictjson

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"strings"
	"sync"
)

// decodeFast decodes body into v (a pointer to a struct) with encoding/json
// alone, when that gives what the checked path would: body holds exactly
// one JSON value that decodes without error (with refuseUnknown, without a
// member no field has), and none of its member names is one encoding/json
// would match to a field case-insensitively (a name equal to a field's
// but for case, or holding an escape or a non-ASCII byte, which Unicode
// case folding might match). It reports whether it decoded; if not, v is
// untouched and the caller takes the checked path, which names what is
// wrong.
//
// Besides its speed, it is what keeps the member order of the types that
// decode themselves (render.Object): the checked path goes through maps.
func decodeFast(body []byte, v any, refuseUnknown bool) bool {
	t := reflect.TypeOf(v).Elem()
	fields := fieldsOf(t)
	if fields.names == nil || !exactNames(body, fields.names) {
		return false
	}
	fresh := reflect.New(t)
	if !refuseUnknown && !fields.iface {
		// json.Unmarshal decodes from body itself, where a Decoder
		// copies it into buffers it grows (about three times the body);
		// with no interface field, UseNumber changes nothing, and
		// Unmarshal too refuses anything after the value.
		if err := json.Unmarshal(body, fresh.Interface()); err != nil {
			return false
		}
		reflect.ValueOf(v).Elem().Set(fresh.Elem())
		return true
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if refuseUnknown {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(fresh.Interface()); err != nil {
		return false
	}
	if _, err := dec.Token(); err != io.EOF {
		return false
	}
	reflect.ValueOf(v).Elem().Set(fresh.Elem())
	return true
}

// fastFields caches fieldsOf by type.
var fastFields sync.Map // reflect.Type → typeFields

// typeFields is what the fast path needs to know of a type.
type typeFields struct {
	// names are the JSON names of every struct field reachable from the
	// type, by their lower-case form; nil when it has a field the fast
	// path must not decode (one Herald owns, or a kind the checked path
	// refuses).
	names map[string][]string
	// iface is whether an interface value is reachable (one that a
	// number would decode into).
	iface bool
}

func fieldsOf(t reflect.Type) typeFields {
	if f, ok := fastFields.Load(t); ok {
		return f.(typeFields)
	}
	f := typeFields{names: map[string][]string{}}
	if !collectNames(t, &f, map[reflect.Type]bool{}) {
		f.names = nil
	}
	fastFields.Store(t, f)
	return f
}

func collectNames(t reflect.Type, f *typeFields, seen map[reflect.Type]bool) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		return collectNames(t.Elem(), f, seen)
	case reflect.Interface:
		f.iface = true
		return true
	case reflect.Struct:
		if t == timeType || seen[t] {
			return true
		}
		seen[t] = true
		for name, sf := range structFields(t) {
			if sf.owned {
				return false
			}
			lower := strings.ToLower(name)
			f.names[lower] = append(f.names[lower], name)
			if !collectNames(sf.typ, f, seen) {
				return false
			}
		}
		return true
	case reflect.Chan, reflect.Func, reflect.Complex64, reflect.Complex128, reflect.UnsafePointer, reflect.Uintptr:
		return false
	}
	return true
}

// exactNames reports whether no member name of body could be matched to a
// field other than exactly: every object key is plain ASCII without
// escapes, and a key whose lower-case form is a field's lower-case name
// is that field's name. Keys inside free-form objects (a context) are
// checked too, which only sends a rare body down the checked path.
func exactNames(body []byte, names map[string][]string) bool {
	var buf [64]byte
	for i := 0; i < len(body); i++ {
		if body[i] != '"' {
			continue
		}
		start, plain := i+1, true
		for i++; i < len(body) && body[i] != '"'; i++ {
			switch c := body[i]; {
			case c == '\\':
				plain = false
				i++
			case c >= 0x80:
				plain = false
			}
		}
		end := i
		j := i + 1
		for j < len(body) && (body[j] == ' ' || body[j] == '\t' || body[j] == '\n' || body[j] == '\r') {
			j++
		}
		if j >= len(body) || body[j] != ':' {
			continue // a string value, not a key
		}
		if !plain {
			return false
		}
		key := body[start:end]
		if len(key) > len(buf) {
			continue // longer than any field name: unknown either way
		}
		lower := buf[:len(key)]
		for k, c := range key {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			lower[k] = c
		}
		exact, ok := names[string(lower)]
		if !ok {
			continue
		}
		matched := false
		for _, n := range exact {
			if n == string(key) {
				matched = true
				break
			}
		}
		if !matched {
			return false
		}
	}
	return true
}
