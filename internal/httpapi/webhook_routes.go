package httpapi

import (
	"context"
	"net/http"

	"github.com/heraldhq/herald/internal/strictjson"
	"github.com/heraldhq/herald/internal/webhook"
)

// webhookRoutes manage the tenant's feedback webhook and show its
// deliveries. A PATCH body is an RFC 7396 merge patch of the create body
// (without the write-only secret), parsed here into the edit the service
// applies.
func webhookRoutes(d ManageDeps) map[string]route {
	if d.Webhooks == nil {
		return nil
	}
	w := d.Webhooks
	return map[string]route{
		"POST /feedback-webhook": {scopes: manageScopes, maxBody: 64 << 10,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				var in webhook.Input
				if err := strictjson.Decode(r.body, &in); err != nil {
					return 0, nil, err
				}
				v, err := w.Create(ctx, r.tenant(), in)
				return http.StatusCreated, v, err
			}},
		"GET /feedback-webhook": {scopes: readScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				v, err := w.Get(ctx, r.tenant())
				return http.StatusOK, v, err
			}},
		"PATCH /feedback-webhook": {scopes: manageScopes, maxBody: 64 << 10,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				edit, err := strictjson.ParsePatch[webhook.Input](r.body)
				if err != nil {
					return 0, nil, err
				}
				v, err := w.Patch(ctx, r.tenant(), webhook.Edit(edit))
				return http.StatusOK, v, err
			}},
		"DELETE /feedback-webhook": {scopes: manageScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				return http.StatusNoContent, nil, w.Delete(ctx, r.tenant())
			}},
		"GET /feedback-webhook/deliveries": {scopes: readScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				limit, err := limitParam(r)
				if err != nil {
					return 0, nil, err
				}
				q := r.event.QueryStringParameters
				p, err := w.Deliveries(ctx, r.tenant(), webhook.DeliveryFilter{Status: webhook.DeliveryStatus(q["status"]), Limit: limit, Cursor: q["cursor"]})
				return http.StatusOK, p, err
			}},
		"POST /feedback-webhook/deliveries/redrive": {scopes: manageScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				res, err := w.Redrive(ctx, r.tenant())
				return http.StatusOK, res, err
			}},
	}
}
