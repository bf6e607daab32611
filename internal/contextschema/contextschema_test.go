package contextschema_test

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/contextschema"
)

func TestPropertyAtReadsTheSchemaAtADataPath(t *testing.T) {
	s, err := contextschema.Compile([]byte(`{
		"type": "object",
		"required": ["order"],
		"$defs": {"money": {"type": "number", "minimum": 0, "exclusiveMaximum": 1000}},
		"properties": {
			"order": {"type": "object", "required": ["id", "total"], "properties": {
				"id": {"type": "string", "examples": ["A-1"]},
				"total": {"$ref": "#/$defs/money"},
				"placedAt": {"allOf": [{"type": "string"}, {"format": "date-time"}]},
				"status": {"enum": ["new", "paid"]},
				"note": {"anyOf": [{"type": "null"}, {"type": "string"}]},
				"lines": {"type": "array", "items": {"type": "object", "properties": {"qty": {"type": "integer", "default": 1}}}}
			}},
			"flag": {"type": ["null", "boolean"]}
		},
		"additionalProperties": {"type": "string"}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	f := func(v float64) *float64 { return &v }
	for _, tc := range []struct {
		name, path string
		want       contextschema.Property
		ok         bool
	}{
		{"the root lists what it requires", "", contextschema.Property{Type: "object", Required: []string{"order"}}, true},
		{"a nested object", "order", contextschema.Property{Type: "object", Required: []string{"id", "total"}}, true},
		{"an example", "order.id", contextschema.Property{Type: "string", Example: "A-1"}, true},
		{"through $ref, with bounds", "order.total", contextschema.Property{Type: "number", Minimum: f(0), Maximum: f(1000), MaxExclusive: true}, true},
		{"through allOf", "order.placedAt", contextschema.Property{Type: "string", Format: "date-time"}, true},
		{"an enum", "order.status", contextschema.Property{Example: "new"}, true},
		{"a nullable type is its other type", "flag", contextschema.Property{Type: "boolean"}, true},
		{"anyOf takes the first alternative that is not null", "order.note", contextschema.Property{Type: "string"}, true},
		{"array items, with a default", "order.lines[].qty", contextschema.Property{Type: "integer", Example: json.Number("1")}, true},
		{"additionalProperties", "anything", contextschema.Property{Type: "string"}, true},
		{"an undeclared path", "order.nope", contextschema.Property{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := s.PropertyAt(contextschema.SplitPath(tc.path))
			if ok != tc.ok {
				t.Errorf("PropertyAt(%q) ok = %v, want %v", tc.path, ok, tc.ok)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("PropertyAt(%q) (-want +got):\n%s", tc.path, diff)
			}
		})
	}
}
