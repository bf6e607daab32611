package httpapi

import (
	"context"
	"net/http"

	"github.com/heraldhq/herald/internal/erasure"
)

// erasureRoutes are the erasure routes (docs/api.md#erasure): an erasure
// by identity or by address; DELETE /profiles/{namespace}/{id} (profile
// routes) erases by the profile's identity.
func erasureRoutes(d ManageDeps) map[string]route {
	if d.Erasure == nil {
		return nil
	}
	return map[string]route{
		"POST /erasures": {scopes: manageScopes, maxBody: 4 << 10,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				var in erasure.Request
				if err := decodeJSON(r.body, &in); err != nil {
					return 0, nil, err
				}
				res, err := d.Erasure.Erase(ctx, r.tenant(), in)
				return http.StatusOK, res, err
			}},
	}
}
