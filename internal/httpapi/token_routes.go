package httpapi

import (
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/derrors"
)

// TokenRoute is Adobe IMS's OAuth server-to-server token route: an AJO
// client trades its client id and secret (a key's id and secret) for an
// access token there, so only the token URL changes.
const TokenRoute = "POST /ims/token/v3"

// maxTokenBody bounds a token request: four short form fields.
const maxTokenBody = 8 << 10

// TokenResponse is what IMS answers a client credentials grant.
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	// ExpiresIn is in seconds, as IMS's v3 route and RFC 6749 give it.
	ExpiresIn int64 `json:"expires_in"`
}

// tokenRoutes serves TokenRoute (no credential: the client's credentials
// are the request). Its errors have the errorResponse shape and, for
// OAuth client libraries, RFC 6749's error and error_description.
func tokenRoutes(acc Access, log *slog.Logger) map[string]route {
	return map[string]route{
		TokenRoute: {maxBody: maxTokenBody, handle: func(ctx context.Context, r *request) (int, any, error) {
			if acc.Tokens == nil {
				return 0, nil, derrors.New(derrors.NotFound, "access tokens are not enabled in this deployment")
			}
			form, err := tokenForm(r)
			if err != nil {
				return oauthError(ctx, log, r, "invalid_request", err)
			}
			if gt := form.Get("grant_type"); gt != "client_credentials" {
				return oauthError(ctx, log, r, "unsupported_grant_type", derrors.Validation(derrors.FieldError{Field: "grant_type",
					Message: "must be client_credentials"}))
			}
			var missing derrors.Fields
			for _, f := range []string{"client_id", "client_secret"} {
				if form.Get(f) == "" {
					missing.Add(f, "is required")
				}
			}
			if err := missing.Err(); err != nil {
				return oauthError(ctx, log, r, "invalid_request", err)
			}
			// scope is read and ignored: AJO clients send Adobe's list, and
			// the token carries the key's own scopes.
			now := time.Now()
			if acc.Now != nil {
				now = acc.Now()
			}
			tok, err := acc.Tokens.Issue(ctx, form.Get("client_id"), form.Get("client_secret"), now)
			if err != nil {
				return oauthError(ctx, log, r, "invalid_client", err)
			}
			resp := jsonResponse(http.StatusOK, TokenResponse{AccessToken: tok.AccessToken, TokenType: "bearer",
				ExpiresIn: int64(tok.ExpiresIn / time.Second)})
			// RFC 6749 §5.1: a token response is never cached.
			resp.Headers["Cache-Control"] = "no-store"
			resp.Headers["Pragma"] = "no-cache"
			return resp.StatusCode, resp, nil
		}},
	}
}

// tokenForm reads the grant from the form body, the query string (some
// IMS clients send client_id there) and an HTTP Basic credential (RFC
// 6749's client_secret_basic). The body wins over the query.
func tokenForm(r *request) (url.Values, error) {
	form := url.Values{}
	if q, err := url.ParseQuery(r.event.RawQueryString); err == nil {
		form = q
	}
	if len(r.body) > 0 {
		if mt, _, _ := strings.Cut(r.header("content-type"), ";"); !strings.EqualFold(strings.TrimSpace(mt), "application/x-www-form-urlencoded") {
			return nil, derrors.Validation(derrors.FieldError{Field: "body", Message: "must be application/x-www-form-urlencoded"})
		}
		body, err := url.ParseQuery(string(r.body))
		if err != nil {
			return nil, derrors.Validation(derrors.FieldError{Field: "body", Message: "is not a valid form"})
		}
		for k, v := range body {
			form[k] = v
		}
	}
	if scheme, cred, _ := strings.Cut(strings.TrimSpace(r.header("authorization")), " "); strings.EqualFold(scheme, "basic") {
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
		id, secret, ok := strings.Cut(string(raw), ":")
		if err != nil || !ok {
			return nil, derrors.Validation(derrors.FieldError{Field: "authorization", Message: "is not a valid Basic credential"})
		}
		if form.Get("client_id") == "" {
			form.Set("client_id", id)
		}
		if form.Get("client_secret") == "" {
			form.Set("client_secret", secret)
		}
	}
	return form, nil
}

// oauthError answers err in the errorResponse shape plus RFC 6749's error
// code and description. A store outage stays a 503 (OAuth's
// temporarily_unavailable), never a refused client.
func oauthError(ctx context.Context, log *slog.Logger, r *request, code string, err error) (int, any, error) {
	switch derrors.KindOf(err) {
	case derrors.Unavailable:
		code = "temporarily_unavailable"
	case derrors.Invalid, derrors.Unauthenticated:
	default:
		return 0, nil, err
	}
	resp := errorResponseWith(ctx, log, r.event.RequestContext.RequestID, err, nil, func(b *ErrorResponse) {
		b.OAuthError, b.OAuthErrorDescription = code, b.Detail
		if len(b.Errors) > 0 {
			b.OAuthErrorDescription = b.Errors[0].Field + " " + b.Errors[0].Message
		}
	})
	if code == "invalid_client" {
		// RFC 6749 §5.2: a 401 names the scheme the client may use.
		resp.Headers["WWW-Authenticate"] = `Basic realm="herald"`
	}
	return resp.StatusCode, resp, nil
}
