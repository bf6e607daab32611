package httpapi

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/heraldhq/herald/internal/profile"
)

// maxBatchBody bounds POST /profiles/batch (Lambda's 6 MB payload limit).
const maxBatchBody = 6 << 20

// noContent is a 204 answer.
func noContent() events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusNoContent}
}

// profileRoutes are the profile routes.
func profileRoutes(d ManageDeps) map[string]route {
	return map[string]route{
		"PUT /profiles/{namespace}/{id}": {scopes: manageScopes, maxBody: maxManageBody,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				var in profile.Input
				if err := decodeJSON(r.body, &in); err != nil {
					return 0, nil, err
				}
				p, err := d.Profiles.Upsert(ctx, r.tenant(), identity(r), in)
				return http.StatusOK, p, err
			}},
		"PATCH /profiles/{namespace}/{id}": {scopes: manageScopes, maxBody: maxManageBody,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				var in profile.Patch
				if err := decodeJSON(r.body, &in); err != nil {
					return 0, nil, err
				}
				p, err := d.Profiles.Patch(ctx, r.tenant(), identity(r), in)
				return http.StatusOK, p, err
			}},
		"GET /profiles/{namespace}/{id}": {scopes: readScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				p, err := d.Profiles.Get(ctx, r.tenant(), identity(r))
				return http.StatusOK, p, err
			}},
		"DELETE /profiles/{namespace}/{id}": {scopes: manageScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				if d.Erasure != nil {
					res, err := d.Erasure.EraseProfile(ctx, r.tenant(), identity(r))
					return http.StatusOK, res, err
				}
				if err := d.Profiles.Delete(ctx, r.tenant(), identity(r)); err != nil {
					return 0, nil, err
				}
				return http.StatusNoContent, noContent(), nil
			}},
		"POST /profiles/batch": {scopes: manageScopes, maxBody: maxBatchBody,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				var in struct {
					Profiles []profile.BatchItem `json:"profiles"`
				}
				if err := decodeJSON(r.body, &in); err != nil {
					return 0, nil, err
				}
				res, err := d.Profiles.Batch(ctx, r.tenant(), in.Profiles)
				return http.StatusOK, map[string]any{"results": res}, err
			}},
	}
}

func identity(r *request) profile.Identity {
	return profile.Identity{Namespace: r.param("namespace"), ID: r.param("id")}
}
