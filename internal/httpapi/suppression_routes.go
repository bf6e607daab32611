package httpapi

import (
	"context"
	"net/http"
	"strconv"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/suppression"
)

// suppressionRoutes manage the tenant's suppression list.
func suppressionRoutes(d ManageDeps) map[string]route {
	ch := func(r *request) suppression.Channel { return suppression.Channel(r.param("channel")) }
	return map[string]route{
		"GET /suppressions": {scopes: readScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				q := r.event.QueryStringParameters
				limit := 0
				if v := q["limit"]; v != "" {
					n, err := strconv.Atoi(v)
					if err != nil {
						return 0, nil, derrors.Validation(derrors.FieldError{Field: "limit", Message: "must be a number"})
					}
					limit = n
				}
				p, err := d.Suppressions.List(ctx, r.tenant(), suppression.Channel(q["channel"]), limit, q["cursor"])
				return http.StatusOK, p, err
			}},
		"GET /suppressions/{channel}/{address}": {scopes: readScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				e, err := d.Suppressions.Get(ctx, r.tenant(), ch(r), r.param("address"))
				return http.StatusOK, e, err
			}},
		"PUT /suppressions/{channel}/{address}": {scopes: manageScopes, maxBody: 4 << 10,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				var in suppression.Input
				if len(r.body) > 0 {
					if err := decodeJSON(r.body, &in); err != nil {
						return 0, nil, err
					}
				}
				e, err := d.Suppressions.Put(ctx, r.tenant(), ch(r), r.param("address"), in)
				return http.StatusOK, e, err
			}},
		"DELETE /suppressions/{channel}/{address}": {scopes: manageScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				if err := d.Suppressions.Delete(ctx, r.tenant(), ch(r), r.param("address")); err != nil {
					return 0, nil, err
				}
				return http.StatusNoContent, noContent(), nil
			}},
	}
}
