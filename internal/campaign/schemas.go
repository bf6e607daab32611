package campaign

import (
	"encoding/json"
	"errors"

	"github.com/heraldhq/herald/internal/derrors"
)

// Schemas compiles and checks context JSON Schemas
// (contextschema.Compiler). The services that read a schema are given it
// rather than importing the JSON Schema library, so that the functions
// that never read one (Dispatch, DeadLetter, Feedback, Reports, Webhook)
// do not link it: its package init alone costs milliseconds.
type Schemas interface {
	// Compile compiles a context schema, or says why it is not one.
	Compile(raw json.RawMessage) (ContextSchema, error)
	// CheckContext validates ctx against the (non-empty) schema raw,
	// adding a field error naming field when it does not conform; the
	// error is for a schema that no longer compiles.
	CheckContext(raw json.RawMessage, f *derrors.Fields, field string, ctx map[string]any) error
}

// ContextSchema is a compiled context schema, as review reads it.
type ContextSchema interface {
	// Declares reports whether the schema declares the data path
	// ("order.lines[].qty").
	Declares(path string) bool
}

// errNoSchemas is a service built without Schemas meeting a schema: a
// wiring bug, never the caller's.
var errNoSchemas = errors.New("campaign: context schema met without a schema compiler (campaign.Schemas)")

// CheckContext validates a trigger's context against the version's
// context JSON Schema, when the campaign has one, with schemas
// (Schemas.CheckContext); it is an error when the version has a schema
// and schemas is nil.
func (v Version) CheckContext(schemas Schemas, f *derrors.Fields, field string, ctx map[string]any) error {
	if len(v.Spec.ContextSchema) == 0 {
		return nil
	}
	if schemas == nil {
		return errNoSchemas
	}
	return schemas.CheckContext(v.Spec.ContextSchema, f, field, ctx)
}
