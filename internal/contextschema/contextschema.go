// Package contextschema compiles and checks campaigns' context JSON
// Schemas (campaign.Spec.ContextSchema) with
// github.com/santhosh-tekuri/jsonschema: the functions that read a
// schema (Trigger and Scheduler check contexts, Manage validates, reviews
// and previews) give its Compiler to the campaign and execution services
// (campaign.Schemas); the others never link the library. Its upstream
// package init compiles the drafts' meta-schemas (2.5–4.6 ms, 1 MB, 8,550
// allocations in every cold start); Herald builds it from
// third_party/jsonschema-v5, the same code with the meta-schemas compiled
// by the first Compile (HERALD.md there).
package contextschema

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"slices"
	"strings"
	"sync"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/santhosh-tekuri/jsonschema/v5"
)

// schemaURL names the context schema inside the compiler; it is never
// fetched.
const schemaURL = "herald:context-schema.json"

// Schema is a compiled context JSON Schema.
type Schema struct{ s *jsonschema.Schema }

// Compile compiles a context JSON Schema (draft 2020-12 unless its
// $schema says otherwise). References outside the document are refused:
// nothing is ever loaded from a URL or a file.
func Compile(raw json.RawMessage) (*Schema, error) {
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
	c.ExtractAnnotations = true // examples and defaults, for request samples
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

// Property is what a context schema says of the value at one data path.
type Property struct {
	// Type is the JSON type the schema requires: "string", "number",
	// "integer", "boolean", "array", "object" or "null" (the first
	// non-null one when it allows several); "" when it does not say.
	Type string
	// Format is a string's format: "date-time", "date", "email"...
	Format string
	// Example is a value the schema itself gives: its const, its first
	// enum value, its first example or its default; nil when none.
	Example any
	// Minimum and Maximum bound a number; nil when open. MinExclusive and
	// MaxExclusive say the bound itself is not allowed.
	Minimum, Maximum           *float64
	MinExclusive, MaxExclusive bool
	// Required are the properties an object must have.
	Required []string
}

// PropertyAt returns what the schema says of the value at a data path
// given as segments (SplitPath's; "[]" is an array's items), through
// $ref, allOf, anyOf, oneOf and if/then/else; ok is false when it declares
// nothing there. Where subschemas disagree, the first one met wins.
func (s *Schema) PropertyAt(segs []string) (p Property, ok bool) {
	nodes := schemasAt(s.s, segs, 0)
	seen := map[*jsonschema.Schema]bool{}
	for _, n := range nodes {
		p.add(n, seen, 0)
	}
	return p, len(nodes) > 0
}

func (p *Property) add(s *jsonschema.Schema, seen map[*jsonschema.Schema]bool, depth int) {
	if s == nil || seen[s] || depth > 32 {
		return
	}
	seen[s] = true
	if p.Type == "" {
		for _, t := range s.Types {
			if t != "null" {
				p.Type = t
				break
			}
		}
		if p.Type == "" && len(s.Types) > 0 {
			p.Type = s.Types[0]
		}
	}
	if p.Format == "" {
		p.Format = s.Format
	}
	if p.Example == nil {
		switch {
		case len(s.Constant) > 0:
			p.Example = s.Constant[0]
		case len(s.Enum) > 0:
			p.Example = s.Enum[0]
		case len(s.Examples) > 0:
			p.Example = s.Examples[0]
		case s.Default != nil:
			p.Example = s.Default
		}
	}
	bound := func(dst **float64, excl *bool, r *big.Rat, exclusive bool) {
		if *dst == nil && r != nil {
			f, _ := r.Float64()
			*dst, *excl = &f, exclusive
		}
	}
	bound(&p.Minimum, &p.MinExclusive, s.Minimum, false)
	bound(&p.Minimum, &p.MinExclusive, s.ExclusiveMinimum, true)
	bound(&p.Maximum, &p.MaxExclusive, s.Maximum, false)
	bound(&p.Maximum, &p.MaxExclusive, s.ExclusiveMaximum, true)
	for _, r := range s.Required {
		if !slices.Contains(p.Required, r) {
			p.Required = append(p.Required, r)
		}
	}
	for _, sub := range append([]*jsonschema.Schema{s.Ref, s.DynamicRef, s.RecursiveRef}, s.AllOf...) {
		p.add(sub, seen, depth+1)
	}
	for _, alts := range [][]*jsonschema.Schema{s.AnyOf, s.OneOf} {
		// The first alternative, past a {"type":"null"} of a nullable value.
		for i, alt := range alts {
			if i == len(alts)-1 || !slices.Equal(alt.Types, []string{"null"}) {
				p.add(alt, seen, depth+1)
				break
			}
		}
	}
}

// schemasAt returns the subschemas that apply to the value at segs.
func schemasAt(s *jsonschema.Schema, segs []string, depth int) []*jsonschema.Schema {
	if s == nil || depth > 32 {
		return nil
	}
	if len(segs) == 0 {
		return []*jsonschema.Schema{s}
	}
	var out []*jsonschema.Schema
	for _, sub := range append([]*jsonschema.Schema{s.Ref, s.DynamicRef, s.RecursiveRef, s.Then, s.Else}, append(append(s.AllOf, s.AnyOf...), s.OneOf...)...) {
		out = append(out, schemasAt(sub, segs, depth+1)...)
	}
	seg, rest := segs[0], segs[1:]
	if seg == "[]" {
		switch it := s.Items.(type) {
		case *jsonschema.Schema:
			out = append(out, schemasAt(it, rest, depth+1)...)
		case []*jsonschema.Schema:
			if len(it) > 0 {
				out = append(out, schemasAt(it[0], rest, depth+1)...)
			}
		}
		if len(s.PrefixItems) > 0 {
			out = append(out, schemasAt(s.PrefixItems[0], rest, depth+1)...)
		}
		return append(out, schemasAt(s.Items2020, rest, depth+1)...)
	}
	if p, ok := s.Properties[seg]; ok {
		return append(out, schemasAt(p, rest, depth+1)...)
	}
	for re, p := range s.PatternProperties {
		if re.MatchString(seg) {
			out = append(out, schemasAt(p, rest, depth+1)...)
		}
	}
	if ap, ok := s.AdditionalProperties.(*jsonschema.Schema); ok {
		out = append(out, schemasAt(ap, rest, depth+1)...)
	}
	return out
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

// Compiler is campaign.Schemas: it compiles and checks context schemas,
// each compiled once per process (a warm function compiles each schema
// once).
type Compiler struct{}

// schemas caches compiled context schemas by content.
var schemas sync.Map // sha256 of the schema → *Schema

// Compile is Compile, as campaign.Schemas.
func (Compiler) Compile(raw json.RawMessage) (campaign.ContextSchema, error) {
	s, err := Compile(raw)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// CheckContext validates a trigger's context against the context JSON
// Schema raw (a version's, not empty), adding a field error naming field
// when it does not conform. A missing context is checked as an empty
// object, so required properties are enforced. The error is for a schema
// that no longer compiles (a bug, not the caller's).
func (Compiler) CheckContext(raw json.RawMessage, f *derrors.Fields, field string, ctx map[string]any) error {
	key := sha256.Sum256(raw)
	cached, ok := schemas.Load(key)
	if !ok {
		s, err := Compile(raw)
		if err != nil {
			// Authoring validated it; a version that no longer compiles
			// is a bug, not the caller's fault.
			return err
		}
		cached, _ = schemas.LoadOrStore(key, s)
	}
	var data any = map[string]any{}
	if ctx != nil {
		data = ctx
	}
	if err := cached.(*Schema).Validate(data); err != nil {
		f.Add(field, "does not match the campaign's context schema: %v", err)
	}
	return nil
}
