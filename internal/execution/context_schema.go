package execution

import (
	"crypto/sha256"
	"sync"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/derrors"
)

// schemas caches compiled context schemas by content, so a warm function
// compiles each schema once.
var schemas sync.Map // sha256 of the schema → *campaign.Schema

// checkContext validates a trigger's context against the version's context
// JSON Schema, when the campaign has one, adding a field error naming
// field for each context that does not conform. A missing context is
// checked as an empty object, so required properties are enforced.
func checkContext(f *derrors.Fields, v campaign.Version, field string, ctx map[string]any) error {
	if len(v.Spec.ContextSchema) == 0 {
		return nil
	}
	key := sha256.Sum256(v.Spec.ContextSchema)
	cached, ok := schemas.Load(key)
	if !ok {
		s, err := campaign.CompileSchema(v.Spec.ContextSchema)
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
	if err := cached.(*campaign.Schema).Validate(data); err != nil {
		f.Add(field, "does not match the campaign's context schema: %v", err)
	}
	return nil
}
