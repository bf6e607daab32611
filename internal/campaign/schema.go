package campaign

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// schemaURL names the context schema inside the compiler; it is never
// fetched.
const schemaURL = "herald:context-schema.json"

// Schema is a compiled context JSON Schema.
type Schema struct{ s *jsonschema.Schema }

// CompileSchema compiles a context JSON Schema (draft 2020-12 unless its
// $schema says otherwise). References outside the document are refused:
// nothing is ever loaded from a URL or a file.
func CompileSchema(raw json.RawMessage) (*Schema, error) {
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if _, ok := doc.(map[string]any); !ok {
		if _, ok := doc.(bool); !ok {
			return nil, fmt.Errorf("a schema is a JSON object (or a boolean)")
		}
	}
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.LoadURL = func(u string) (io.ReadCloser, error) {
		return nil, fmt.Errorf("$ref to %q: only references inside the schema are allowed", u)
	}
	if err := c.AddResource(schemaURL, bytes.NewReader(raw)); err != nil {
		return nil, cleanSchemaErr(err)
	}
	s, err := c.Compile(schemaURL)
	if err != nil {
		return nil, cleanSchemaErr(err)
	}
	return &Schema{s: s}, nil
}

func cleanSchemaErr(err error) error {
	msg := strings.ReplaceAll(err.Error(), schemaURL, "contextSchema")
	return fmt.Errorf("%s", strings.Join(strings.Fields(msg), " "))
}

// Validate checks a context value (as encoding/json decodes it, numbers
// as json.Number or float64) against the schema.
func (s *Schema) Validate(v any) error {
	if err := s.s.Validate(normalize(v)); err != nil {
		return cleanSchemaErr(err)
	}
	return nil
}

// normalize turns json.Number into the float64 or int the validator
// understands.
func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	}
	return v
}

// Declares reports whether the schema declares the data path (as
// render's Variables writes it, relative to the context: "order.id",
// "items[].name", "[odd key].x"): every segment must be a declared
// property (or covered by additionalProperties/patternProperties with a
// schema), and a "[]" segment an array's items.
func (s *Schema) Declares(path string) bool {
	return declares(s.s, splitPath(path), 0)
}

func declares(s *jsonschema.Schema, segs []string, depth int) bool {
	if s == nil || depth > 32 {
		return false
	}
	if len(segs) == 0 {
		return true
	}
	for _, sub := range append([]*jsonschema.Schema{s.Ref, s.DynamicRef, s.RecursiveRef, s.Then, s.Else}, append(append(s.AllOf, s.AnyOf...), s.OneOf...)...) {
		if sub != nil && declares(sub, segs, depth+1) {
			return true
		}
	}
	seg := segs[0]
	if seg == "[]" {
		switch it := s.Items.(type) {
		case *jsonschema.Schema:
			if declares(it, segs[1:], depth+1) {
				return true
			}
		case []*jsonschema.Schema:
			for _, e := range it {
				if declares(e, segs[1:], depth+1) {
					return true
				}
			}
		}
		for _, e := range s.PrefixItems {
			if declares(e, segs[1:], depth+1) {
				return true
			}
		}
		return declares(s.Items2020, segs[1:], depth+1)
	}
	if p, ok := s.Properties[seg]; ok {
		return declares(p, segs[1:], depth+1)
	}
	for re, p := range s.PatternProperties {
		if re.MatchString(seg) && declares(p, segs[1:], depth+1) {
			return true
		}
	}
	if ap, ok := s.AdditionalProperties.(*jsonschema.Schema); ok {
		return declares(ap, segs[1:], depth+1)
	}
	return false
}

// SplitPath splits a data path as render's Variables writes it
// ("a.b[].[c.d]") into its segments ("a", "b", "[]", "c.d").
func SplitPath(p string) []string { return splitPath(p) }

func splitPath(p string) []string {
	var out []string
	for len(p) > 0 {
		switch {
		case strings.HasPrefix(p, "[]"):
			out = append(out, "[]")
			p = p[2:]
		case p[0] == '[':
			end := strings.IndexByte(p, ']')
			if end < 0 {
				return append(out, p[1:])
			}
			out = append(out, p[1:end])
			p = p[end+1:]
		case p[0] == '.':
			p = p[1:]
		default:
			end := strings.IndexAny(p, ".[")
			if end < 0 {
				end = len(p)
			}
			out = append(out, p[:end])
			p = p[end:]
		}
	}
	return out
}
