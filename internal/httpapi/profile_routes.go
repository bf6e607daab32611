package httpapi

import (
	"context"
	"net/http"

	"github.com/heraldhq/herald/internal/profile"
)

// profileRoutes are the profile routes.
func profileRoutes(d ManageDeps) map[string]route {
	return map[string]route{
		"PUT /profiles/{namespace}/{id}": {scopes: manageScopes, maxBody: maxManageBody,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				var in profile.Input
				if err := decodeJSON(r.body, &in, true); err != nil {
					return 0, nil, err
				}
				p, err := d.Profiles.Upsert(ctx, r.tenant(), identity(r), in)
				return http.StatusOK, p, err
			}},
		"GET /profiles/{namespace}/{id}": {scopes: readScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				p, err := d.Profiles.Get(ctx, r.tenant(), identity(r))
				return http.StatusOK, p, err
			}},
	}
}

func identity(r *request) profile.Identity {
	return profile.Identity{Namespace: r.param("namespace"), ID: r.param("id")}
}
