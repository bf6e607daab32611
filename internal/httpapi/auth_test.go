package httpapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/httpapi"
)

// downKeys is a key store that fails.
type downKeys struct{}

func (downKeys) GetKey(context.Context, string) (auth.Key, error) {
	// The store's error names the caller; the log must not.
	return auth.Key{}, fmt.Errorf("dynamodb: key of secret.person@example.com: %w", context.DeadlineExceeded)
}
func (d downKeys) GetKeyByID(ctx context.Context, _ string) (auth.Key, error) {
	return d.GetKey(ctx, "")
}

// realAccess is the authentication the functions run: keys from store,
// access tokens signed by a static keyring.
func realAccess(store auth.KeyReader) httpapi.Access {
	tokens := &auth.Tokens{Keys: store, Keyring: auth.StaticKeyring{ID: "k1", Key: []byte(strings.Repeat("s", 32))}}
	return httpapi.Access{Auth: auth.Authenticator{Keys: store, Tokens: tokens, Now: func() time.Time { return now }},
		Tokens: tokens, Now: func() time.Time { return now }}
}

// withHeaders is ev without test credentials and with headers.
func withHeaders(ev events.APIGatewayV2HTTPRequest, headers map[string]string) events.APIGatewayV2HTTPRequest {
	ev.Headers = map[string]string{"content-type": "application/json"}
	for k, v := range headers {
		ev.Headers[k] = v
	}
	return ev
}

// TestRoutesAuthenticateInTheFunction runs the real authentication in
// front of the Trigger routes, as the function does (no authorizer).
func TestRoutesAuthenticateInTheFunction(t *testing.T) {
	f := newTriggerFixture(t)
	key, secret, err := auth.Mint(t.Context(), f.store, acme, []auth.Scope{auth.ScopeTrigger}, now)
	if err != nil {
		t.Fatal(err)
	}
	_, readerSecret, err := auth.Mint(t.Context(), f.store, acme, []auth.Scope{auth.ScopeRead}, now)
	if err != nil {
		t.Fatal(err)
	}
	trigger := httpapi.Trigger(f.svc, realAccess(f.store), slog.New(slog.DiscardHandler))
	tests := []struct {
		name    string
		headers map[string]string
		status  int
	}{
		{"a trigger key is accepted", map[string]string{"authorization": "Bearer " + secret}, http.StatusAccepted},
		{"AJO's headers, in any case, are accepted when they match",
			map[string]string{"Authorization": "Bearer " + secret, "X-Api-Key": key.ID, "X-Gw-Ims-Org-Id": acme.Org, "x-sandbox-name": acme.Sandbox}, http.StatusAccepted},
		{"a read key is forbidden", map[string]string{"authorization": "Bearer " + readerSecret}, http.StatusForbidden},
		{"a wrong sandbox is forbidden", map[string]string{"authorization": "Bearer " + secret, "x-sandbox-name": "dev"}, http.StatusForbidden},
		{"another key's x-api-key is unauthenticated", map[string]string{"authorization": "Bearer " + secret, "x-api-key": "hk_other"}, http.StatusUnauthorized},
		{"a bad secret is unauthenticated", map[string]string{"authorization": "Bearer hrld_nope"}, http.StatusUnauthorized},
		{"no secret is unauthenticated", nil, http.StatusUnauthorized},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := mustJSON(t, unitary(fmt.Sprintf("req-auth-%d", i), f.live, external("a@example.com")))
			status, got := call(t, trigger, withHeaders(event(unitaryRoute, body, nil, nil), tt.headers))
			if status != tt.status {
				t.Fatalf("status = %d, want %d; body %s", status, tt.status, got)
			}
			if status >= 400 {
				e := errorBody(t, status, got)
				if e.Report.AdditionalContext["requestId"] != fmt.Sprintf("req-auth-%d", i) {
					t.Errorf("a refusal's report = %v, want the requestId", e.Report.AdditionalContext)
				}
			}
		})
	}
}

func TestAnUnreachableKeyStoreIsA503NotARefusal(t *testing.T) {
	f := newTriggerFixture(t)
	var logs syncBuffer
	trigger := httpapi.Trigger(f.svc, realAccess(downKeys{}), slog.New(slog.NewJSONHandler(&logs, nil)))
	body := mustJSON(t, unitary("req-down", f.live, external("a@example.com")))
	resp, err := trigger(t.Context(), withHeaders(event(unitaryRoute, body, nil, nil), map[string]string{"authorization": "Bearer hrld_" + strings.Repeat("k", 43)}))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Headers["Retry-After"] == "" {
		t.Fatalf("status %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Headers["Retry-After"])
	}
	e := errorBody(t, resp.StatusCode, resp.Body)
	if e.Type != httpapi.ErrorTypeBase+"unavailable" || e.Report.AdditionalContext["requestId"] != "req-down" {
		t.Errorf("error = %+v", e)
	}
	if len(f.queue.Jobs()) != 0 {
		t.Errorf("%d messages queued for an unauthenticated call", len(f.queue.Jobs()))
	}
	if !strings.Contains(logs.String(), "context deadline exceeded") || strings.Contains(logs.String(), "secret.person") {
		t.Errorf("logs = %s, want the cause logged by its kind and no text of the store's error", logs.String())
	}
}

// tokenEvent is a token request with a form body.
func tokenEvent(path string, form url.Values, headers map[string]string) events.APIGatewayV2HTTPRequest {
	ev := event(httpapi.TokenRoute, form.Encode(), nil, nil)
	ev.Headers = map[string]string{"content-type": "application/x-www-form-urlencoded"}
	for k, v := range headers {
		ev.Headers[k] = v
	}
	if path != "" { // through a catch-all (/ajo/ims/{proxy+})
		ev.RouteKey, ev.RequestContext.RouteKey, ev.RawPath = "ANY /ajo/ims/{proxy+}", "ANY /ajo/ims/{proxy+}", path
		ev.RequestContext.HTTP.Method = "POST"
	}
	return ev
}

func TestTokenRouteIssuesTokensTheAPIAccepts(t *testing.T) {
	f := newTriggerFixture(t)
	key, secret, err := auth.Mint(t.Context(), f.store, acme, []auth.Scope{auth.ScopeTrigger, auth.ScopeRead}, now)
	if err != nil {
		t.Fatal(err)
	}
	trigger := httpapi.Trigger(f.svc, realAccess(f.store), slog.New(slog.DiscardHandler))
	// As an AJO client asks IMS: Adobe's scopes, which Herald ignores.
	grant := url.Values{"grant_type": {"client_credentials"}, "client_id": {key.ID}, "client_secret": {secret},
		"scope": {"openid,AdobeID,read_organizations,additional_info.projectedProductContext"}}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(key.ID+":"+secret))
	for name, ev := range map[string]events.APIGatewayV2HTTPRequest{
		"form body":                 tokenEvent("", grant, nil),
		"under /ajo":                tokenEvent("/ajo/ims/token/v3", grant, nil),
		"client_secret_basic":       tokenEvent("", url.Values{"grant_type": {"client_credentials"}}, map[string]string{"Authorization": basic}),
		"content type with charset": tokenEvent("", grant, map[string]string{"content-type": "application/x-www-form-urlencoded; charset=UTF-8"}),
	} {
		t.Run(name, func(t *testing.T) {
			resp, err := trigger(t.Context(), ev)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("token = %d %s, %v", resp.StatusCode, resp.Body, err)
			}
			if resp.Headers["Cache-Control"] != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", resp.Headers["Cache-Control"])
			}
			var tok httpapi.TokenResponse
			dec := json.NewDecoder(strings.NewReader(resp.Body))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&tok); err != nil || tok.TokenType != "bearer" || tok.ExpiresIn != 86400 || tok.AccessToken == "" {
				t.Fatalf("token body %s (%v), want access_token, token_type bearer, expires_in 86400", resp.Body, err)
			}
			body := mustJSON(t, unitary("req-tok-"+name, f.live, external("a@example.com")))
			status, got := call(t, trigger, withHeaders(event(unitaryRoute, body, nil, nil),
				map[string]string{"authorization": "Bearer " + tok.AccessToken, "x-api-key": key.ID, "x-gw-ims-org-id": acme.Org, "x-sandbox-name": acme.Sandbox}))
			if status != http.StatusAccepted {
				t.Errorf("trigger with the token = %d %s, want 202", status, got)
			}
		})
	}
}

func TestTokenRouteErrors(t *testing.T) {
	f := newTriggerFixture(t)
	key, secret, err := auth.Mint(t.Context(), f.store, acme, []auth.Scope{auth.ScopeTrigger}, now)
	if err != nil {
		t.Fatal(err)
	}
	trigger := httpapi.Trigger(f.svc, realAccess(f.store), slog.New(slog.DiscardHandler))
	tests := []struct {
		name   string
		ev     events.APIGatewayV2HTTPRequest
		status int
		code   string
	}{
		{"a wrong secret is invalid_client", tokenEvent("", url.Values{"grant_type": {"client_credentials"}, "client_id": {key.ID}, "client_secret": {"hrld_" + strings.Repeat("w", 43)}}, nil),
			http.StatusUnauthorized, "invalid_client"},
		{"another client id is invalid_client", tokenEvent("", url.Values{"grant_type": {"client_credentials"}, "client_id": {"hk_other"}, "client_secret": {secret}}, nil),
			http.StatusUnauthorized, "invalid_client"},
		{"another grant is unsupported_grant_type", tokenEvent("", url.Values{"grant_type": {"password"}, "client_id": {key.ID}, "client_secret": {secret}}, nil),
			http.StatusBadRequest, "unsupported_grant_type"},
		{"a missing secret is invalid_request", tokenEvent("", url.Values{"grant_type": {"client_credentials"}, "client_id": {key.ID}}, nil),
			http.StatusBadRequest, "invalid_request"},
		{"a JSON body is invalid_request", tokenEvent("", url.Values{"grant_type": {"client_credentials"}}, map[string]string{"content-type": "application/json"}),
			http.StatusBadRequest, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := trigger(t.Context(), tt.ev)
			if err != nil || resp.StatusCode != tt.status {
				t.Fatalf("status %d %s, %v; want %d", resp.StatusCode, resp.Body, err, tt.status)
			}
			e := errorBody(t, resp.StatusCode, resp.Body)
			if e.OAuthError != tt.code || e.OAuthErrorDescription == "" {
				t.Errorf("error %q (%q), want %q with a description", e.OAuthError, e.OAuthErrorDescription, tt.code)
			}
			if strings.Contains(resp.Body, secret) {
				t.Error("the answer quotes the secret")
			}
		})
	}
	down := httpapi.Trigger(f.svc, realAccess(downKeys{}), slog.New(slog.DiscardHandler))
	resp, _ := down(t.Context(), tokenEvent("", url.Values{"grant_type": {"client_credentials"}, "client_id": {key.ID}, "client_secret": {secret}}, nil))
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Headers["Retry-After"] == "" || errorBody(t, resp.StatusCode, resp.Body).OAuthError != "temporarily_unavailable" {
		t.Errorf("with the key store down: %d %v %s, want 503 temporarily_unavailable with Retry-After", resp.StatusCode, resp.Headers, resp.Body)
	}
	off := httpapi.Trigger(f.svc, httpapi.Access{Auth: testAuth{}}, slog.New(slog.DiscardHandler))
	if resp, _ := off(t.Context(), tokenEvent("", url.Values{}, nil)); resp.StatusCode != http.StatusNotFound {
		t.Errorf("token route without tokens = %d, want 404", resp.StatusCode)
	}
}
