package httpapi

import (
	"context"
	"net/http"
	"strconv"

	"github.com/heraldhq/herald/internal/audience"
	"github.com/heraldhq/herald/internal/derrors"
)

// maxMembersBody fits 10,000 members with long ids.
const maxMembersBody = 4 << 20

// audienceRoutes are the audience and audience member routes.
func audienceRoutes(d ManageDeps) map[string]route {
	if d.Audiences == nil {
		return nil
	}
	a := d.Audiences
	return map[string]route{
		"POST /audiences": {scopes: manageScopes, maxBody: maxManageBody,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				var in audience.Input
				if err := decodeJSON(r.body, &in); err != nil {
					return 0, nil, err
				}
				out, err := a.Create(ctx, r.tenant(), in)
				return http.StatusCreated, out, err
			}},
		"GET /audiences": {scopes: readScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				limit, err := limitParam(r)
				if err != nil {
					return 0, nil, err
				}
				list, next, err := a.List(ctx, r.tenant(), r.event.QueryStringParameters["cursor"], limit)
				if list == nil {
					list = []audience.Audience{}
				}
				return http.StatusOK, map[string]any{"audiences": list, "next": next}, err
			}},
		"GET /audiences/{id}": {scopes: readScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				out, err := a.Get(ctx, r.tenant(), r.param("id"))
				return http.StatusOK, out, err
			}},
		"DELETE /audiences/{id}": {scopes: manageScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				return http.StatusOK, struct{}{}, a.Delete(ctx, r.tenant(), r.param("id"))
			}},
		"POST /audiences/{id}/members": {scopes: manageScopes, maxBody: maxMembersBody,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				var in audience.MembersInput
				if err := decodeJSON(r.body, &in); err != nil {
					return 0, nil, err
				}
				out, err := a.AddMembers(ctx, r.tenant(), r.param("id"), in)
				return http.StatusOK, out, err
			}},
		"DELETE /audiences/{id}/members": {scopes: manageScopes, maxBody: maxMembersBody,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				var in audience.MembersInput
				if err := decodeJSON(r.body, &in); err != nil {
					return 0, nil, err
				}
				out, err := a.RemoveMembers(ctx, r.tenant(), r.param("id"), in)
				return http.StatusOK, out, err
			}},
		"GET /audiences/{id}/members": {scopes: readScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				limit, err := limitParam(r)
				if err != nil {
					return 0, nil, err
				}
				out, err := a.Members(ctx, r.tenant(), r.param("id"), r.event.QueryStringParameters["cursor"], limit)
				return http.StatusOK, out, err
			}},
	}
}

func limitParam(r *request) (int, error) {
	v := r.event.QueryStringParameters["limit"]
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, derrors.Validation(derrors.FieldError{Field: "limit", Message: "must be a positive whole number"})
	}
	return n, nil
}
