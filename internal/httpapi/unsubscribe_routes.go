package httpapi

import (
	"context"
	"html"
	"net/http"
	"net/url"

	"github.com/aws/aws-lambda-go/events"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/suppression"
	"github.com/heraldhq/herald/internal/unsubscribe"
)

// unsubscribeRoutes serve the public one-click unsubscribe endpoint
// (RFC 8058) that List-Unsubscribe links point at. No credential, no
// cookies: the signed token is the authority. GET only shows a page with
// a button (link scanners and prefetchers follow GETs); POST unsubscribes.
func unsubscribeRoutes(d ManageDeps) map[string]route {
	verify := func(r *request) (unsubscribe.Claims, error) {
		if d.Unsubscribe == nil {
			return unsubscribe.Claims{}, derrors.New(derrors.NotFound, "unsubscribe links are not configured")
		}
		c, err := d.Unsubscribe.Verify(r.event.QueryStringParameters["token"])
		if err != nil {
			return c, derrors.Validation(derrors.FieldError{Field: "token", Message: "is not a valid unsubscribe token"})
		}
		return c, nil
	}
	return map[string]route{
		"GET /unsubscribe": {maxBody: 4 << 10,
			handle: func(_ context.Context, r *request) (int, any, error) {
				if _, err := verify(r); err != nil {
					return 0, nil, err
				}
				action := "?token=" + url.QueryEscape(r.event.QueryStringParameters["token"])
				return http.StatusOK, page(http.StatusOK, `<h1>Unsubscribe</h1><p>Stop receiving these emails?</p>`+
					`<form method="post" action="`+html.EscapeString(action)+`">`+
					`<input type="hidden" name="List-Unsubscribe" value="One-Click">`+
					`<button type="submit">Unsubscribe</button></form>`), nil
			}},
		"POST /unsubscribe": {maxBody: 4 << 10,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				c, err := verify(r)
				if err != nil {
					return 0, nil, err
				}
				if _, err := d.Suppressions.Unsubscribe(ctx, c.Tenant, suppression.Channel(c.Channel), c.Address); err != nil {
					return 0, nil, err
				}
				return http.StatusOK, page(http.StatusOK, `<h1>You are unsubscribed</h1><p>You will not receive these emails any more.</p>`), nil
			}},
	}
}

func page(status int, body string) events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{StatusCode: status,
		Headers: map[string]string{"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
			"Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"},
		Body: `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
			`<title>Unsubscribe</title></head><body style="font-family:sans-serif;max-width:32em;margin:3em auto">` + body + `</body></html>`}
}
