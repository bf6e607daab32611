package preview

import (
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/heraldhq/herald/internal/contextschema"
	"github.com/heraldhq/herald/internal/render"
)

// Placeholder values of a request sample, by the kind of value the
// content needs. Each renders without error where the content uses it.
const (
	sampleNumber   = 42.5
	sampleInteger  = 2
	sampleDate     = "2026-01-31T09:00:00Z"
	sampleDay      = "2026-01-31"
	sampleEpochMS  = 1769850000000 // sampleDate, for a date the schema wants as a number
	sampleTimeZone = "Europe/Paris"
)

// shape is the tree of paths the content reads below profile or context.
type shape struct {
	kind   render.Kind
	fields map[string]*shape
	elem   *shape // the elements of an array ("[]")
}

// sampler builds the placeholder values of one root (profile or context).
type sampler struct {
	schema *contextschema.Schema // the context schema; nil for the profile
}

// sampleObject builds a request sample's profile or context: every path
// below root ("profile" or "context") the content reads gets a value of the
// kind it needs there (kinds, from render), in the JSON type the schema
// declares for it when there is a schema, with the properties the schema
// requires added. So the sample renders as pasted and passes the schema.
func sampleObject(root string, kinds map[string]render.Kind, schema *contextschema.Schema) map[string]any {
	top := &shape{}
	for _, p := range slices.Sorted(maps.Keys(kinds)) {
		rel, ok := strings.CutPrefix(p, root+".")
		if !ok {
			continue
		}
		cur := top
		for _, seg := range contextschema.SplitPath(rel) {
			if seg == "[]" {
				if cur.elem == nil {
					cur.elem = &shape{}
				}
				cur = cur.elem
				continue
			}
			if cur.fields == nil {
				cur.fields = map[string]*shape{}
			}
			if cur.fields[seg] == nil {
				cur.fields[seg] = &shape{}
			}
			cur = cur.fields[seg]
		}
		cur.kind = max(cur.kind, kinds[p])
	}
	g := sampler{schema: schema}
	m, _ := g.value(top, root, nil).(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	return m
}

// value is the placeholder for the shape sh at path (segments below the
// root), named after its last segment.
func (g sampler) value(sh *shape, name string, path []string) any {
	var prop contextschema.Property
	if g.schema != nil {
		prop, _ = g.schema.PropertyAt(path)
		if prop.Example != nil {
			return prop.Example
		}
	}
	typ := prop.Type
	if typ == "" {
		typ = jsonType(sh)
	}
	switch typ {
	case "array":
		elem := sh.elem
		if elem == nil {
			elem = &shape{}
		}
		return []any{g.value(elem, name+" item", append(slices.Clip(path), "[]"))}
	case "object":
		m := map[string]any{}
		for _, f := range slices.Sorted(maps.Keys(sh.fields)) {
			m[f] = g.value(sh.fields[f], f, append(slices.Clip(path), f))
		}
		for _, f := range prop.Required {
			if _, ok := m[f]; !ok {
				m[f] = g.value(&shape{}, f, append(slices.Clip(path), f))
			}
		}
		return m
	case "integer":
		v := float64(sampleInteger)
		if sh.kind == render.KindDate {
			v = sampleEpochMS
		}
		return int64(within(v, prop, true))
	case "number":
		v := sampleNumber
		switch sh.kind {
		case render.KindInteger:
			v = sampleInteger
		case render.KindDate:
			v = sampleEpochMS
		}
		return within(v, prop, false)
	case "boolean":
		return true
	case "null":
		return nil
	}
	return sampleString(sh.kind, name, prop.Format)
}

// jsonType is the JSON type the content needs for sh, without a schema.
func jsonType(sh *shape) string {
	switch {
	case sh.elem != nil || sh.kind == render.KindArray:
		return "array"
	case len(sh.fields) > 0 || sh.kind == render.KindObject:
		return "object"
	case sh.kind == render.KindNumber:
		return "number"
	case sh.kind == render.KindInteger:
		return "integer"
	case sh.kind == render.KindBool:
		return "boolean"
	}
	return "string"
}

// sampleString is a string placeholder: a value the content can use as
// the kind it needs (numeric strings pass formatNumber), else "<name>".
func sampleString(k render.Kind, name, format string) string {
	switch k {
	case render.KindNumber:
		return strconv.FormatFloat(sampleNumber, 'f', -1, 64)
	case render.KindInteger:
		return strconv.Itoa(sampleInteger)
	case render.KindTimeZone:
		return sampleTimeZone
	case render.KindDate:
		if format == "date" {
			return sampleDay
		}
		return sampleDate
	}
	switch format {
	case "date-time":
		return sampleDate
	case "date":
		return sampleDay
	case "time":
		return "09:00:00Z"
	case "email", "idn-email":
		return "jane@example.com"
	case "uri", "iri", "uri-reference", "iri-reference":
		return "https://example.com/"
	case "uuid":
		return "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
	}
	return "<" + name + ">"
}

// within returns v, or when the schema's bounds exclude it, a value they
// allow (an integer for integer).
func within(v float64, p contextschema.Property, integer bool) float64 {
	lo, hi := math.Inf(-1), math.Inf(1)
	if p.Minimum != nil {
		lo = *p.Minimum
	}
	if p.Maximum != nil {
		hi = *p.Maximum
	}
	allowed := func(x float64) bool {
		return !math.IsInf(x, 0) && !math.IsNaN(x) && (x > lo || !p.MinExclusive && x == lo) &&
			(x < hi || !p.MaxExclusive && x == hi) && (!integer || x == math.Trunc(x))
	}
	mid := (lo + hi) / 2
	for _, x := range []float64{v, lo, math.Ceil(lo), math.Ceil(lo) + 1, lo + 1, hi, math.Floor(hi), math.Floor(hi) - 1, hi - 1, mid, math.Ceil(mid)} {
		if allowed(x) {
			return x
		}
	}
	return v
}
