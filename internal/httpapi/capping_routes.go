package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/heraldhq/herald/internal/capping"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/strictjson"
)

// cappingRoutes show and replace the tenant's frequency caps: one rule
// set, written whole by PUT (an empty list, or DELETE, removes every
// rule).
func cappingRoutes(d ManageDeps) map[string]route {
	if d.FrequencyCaps == nil {
		return nil
	}
	caps := d.FrequencyCaps
	return map[string]route{
		"GET /frequency-caps": {scopes: readScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				rs, err := caps.Rules(ctx, r.tenant())
				return http.StatusOK, rs, err
			}},
		"PUT /frequency-caps": {scopes: manageScopes, maxBody: 64 << 10,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				var in struct {
					Rules *[]capping.Rule `json:"rules"`
					// UpdatedAt is what GET shows; a body may carry it
					// back, and it is ignored.
					UpdatedAt *time.Time `json:"updatedAt,omitempty"`
				}
				if err := strictjson.Decode(r.body, &in); err != nil {
					return 0, nil, err
				}
				if in.Rules == nil {
					return 0, nil, derrors.Validation(derrors.FieldError{Field: "rules", Message: "is required (an empty list removes every rule)"})
				}
				rs, err := caps.SetRules(ctx, r.tenant(), capping.RuleSet{Rules: *in.Rules})
				return http.StatusOK, rs, err
			}},
		"DELETE /frequency-caps": {scopes: manageScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				_, err := caps.SetRules(ctx, r.tenant(), capping.RuleSet{})
				return http.StatusNoContent, nil, err
			}},
	}
}
