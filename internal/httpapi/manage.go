package httpapi

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/profile"
)

// maxManageBody bounds management bodies (an HTML body may be 500 KB).
const maxManageBody = 1 << 20

var (
	manageScopes = []auth.Scope{auth.ScopeManage}
	readScopes   = []auth.Scope{auth.ScopeManage, auth.ScopeRead}
)

// Manage returns the handler of the management API.
func Manage(campaigns *campaign.Service, profiles *profile.Service, log *slog.Logger) HandlerFunc {
	rt := &router{log: log, routes: map[string]route{
		"POST /channel-configurations": {scopes: manageScopes, maxBody: maxManageBody,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				var in campaign.ConfigInput
				if err := decodeJSON(r.body, &in, true); err != nil {
					return 0, nil, err
				}
				c, err := campaigns.CreateConfig(ctx, r.tenant(), in)
				return http.StatusCreated, c, err
			}},
		"GET /channel-configurations/{id}": {scopes: readScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				c, err := campaigns.GetConfig(ctx, r.tenant(), r.param("id"))
				return http.StatusOK, c, err
			}},
		"POST /campaigns": {scopes: manageScopes, maxBody: maxManageBody,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				var in campaign.CampaignInput
				if err := decodeJSON(r.body, &in, true); err != nil {
					return 0, nil, err
				}
				c, err := campaigns.CreateCampaign(ctx, r.tenant(), in)
				return http.StatusCreated, c, err
			}},
		"GET /campaigns/{id}": {scopes: readScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				r.report["campaignId"] = r.param("id")
				c, err := campaigns.GetCampaign(ctx, r.tenant(), r.param("id"))
				return http.StatusOK, c, err
			}},
		"POST /campaigns/{id}/activate": {scopes: manageScopes, maxBody: maxManageBody,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				r.report["campaignId"] = r.param("id")
				c, err := campaigns.Activate(ctx, r.tenant(), r.param("id"))
				return http.StatusOK, c, err
			}},
		"PUT /profiles/{namespace}/{id}": {scopes: manageScopes, maxBody: maxManageBody,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				var in profile.Input
				if err := decodeJSON(r.body, &in, true); err != nil {
					return 0, nil, err
				}
				p, err := profiles.Upsert(ctx, r.tenant(), identity(r), in)
				return http.StatusOK, p, err
			}},
		"GET /profiles/{namespace}/{id}": {scopes: readScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				p, err := profiles.Get(ctx, r.tenant(), identity(r))
				return http.StatusOK, p, err
			}},
	}}
	return rt.serve
}

func identity(r *request) profile.Identity {
	return profile.Identity{Namespace: r.param("namespace"), ID: r.param("id")}
}
