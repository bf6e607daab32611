package contextschema_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
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

// The JSON Schema library compiles its meta-schemas on the first Compile
// (third_party/jsonschema-v5/HERALD.md), not at init. In a fresh process
// whose first compiles run at once, every schema is still checked against
// them: the invalid ones are refused, the valid ones validate. The check
// runs in a child process (this test binary, -test.run the helper), where
// nothing has compiled a schema yet.
func TestConcurrentFirstCompilesCheckSchemasAgainstTheMetaSchemas(t *testing.T) {
	if os.Getenv("CONTEXTSCHEMA_FIRST_COMPILES") == "1" {
		firstCompiles(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestConcurrentFirstCompilesCheckSchemasAgainstTheMetaSchemas$", "-test.v")
	cmd.Env = append(os.Environ(), "CONTEXTSCHEMA_FIRST_COMPILES=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "first compiles checked") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func firstCompiles(t *testing.T) {
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		wg.Go(func() {
			if i%2 == 0 {
				if _, err := contextschema.Compile([]byte(`{"type": 5}`)); err == nil {
					errs[i] = fmt.Errorf("a schema whose type is 5 compiled")
				}
				return
			}
			s, err := contextschema.Compile([]byte(`{"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}}}`))
			if err != nil {
				errs[i] = err
				return
			}
			if s.Validate(map[string]any{"n": json.Number("0")}) == nil || s.Validate(map[string]any{"n": json.Number("2")}) != nil {
				errs[i] = fmt.Errorf("n = 0 and n = 2 not told apart")
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("compile %d: %v", i, err)
		}
	}
	t.Log("first compiles checked")
}
