package httpapi

import (
	"context"
	"net/http"

	"github.com/heraldhq/herald/internal/campaign"
)

// campaignRoutes are the channel configuration and campaign routes.
func campaignRoutes(d ManageDeps) map[string]route {
	return map[string]route{
		"POST /channel-configurations": {scopes: manageScopes, maxBody: maxManageBody,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				var in campaign.ConfigInput
				if err := decodeJSON(r.body, &in, true); err != nil {
					return 0, nil, err
				}
				c, err := d.Campaigns.CreateConfig(ctx, r.tenant(), in)
				return http.StatusCreated, c, err
			}},
		"GET /channel-configurations/{id}": {scopes: readScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				c, err := d.Campaigns.GetConfig(ctx, r.tenant(), r.param("id"))
				return http.StatusOK, c, err
			}},
		"POST /campaigns": {scopes: manageScopes, maxBody: maxManageBody,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				var in campaign.CampaignInput
				if err := decodeJSON(r.body, &in, true); err != nil {
					return 0, nil, err
				}
				c, err := d.Campaigns.CreateCampaign(ctx, r.tenant(), in)
				return http.StatusCreated, c, err
			}},
		"GET /campaigns/{id}": {scopes: readScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				r.report["campaignId"] = r.param("id")
				c, err := d.Campaigns.GetCampaign(ctx, r.tenant(), r.param("id"))
				return http.StatusOK, c, err
			}},
		"POST /campaigns/{id}/activate": {scopes: manageScopes, maxBody: maxManageBody,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				r.report["campaignId"] = r.param("id")
				c, err := d.Campaigns.Activate(ctx, r.tenant(), r.param("id"))
				return http.StatusOK, c, err
			}},
	}
}
