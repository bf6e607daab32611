package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/httpapi"
	"github.com/heraldhq/herald/internal/memory"
)

// downKeys is a key store that fails.
type downKeys struct{}

func (downKeys) GetKey(context.Context, string) (auth.Key, error) {
	// The store's error names the caller; the log must not.
	return auth.Key{}, fmt.Errorf("dynamodb: key of secret.person@example.com: %w", context.DeadlineExceeded)
}
func (downKeys) PutKey(context.Context, string, auth.Key) error { return errors.New("unused") }

func authorizerEvent(headers map[string]string) events.APIGatewayV2CustomAuthorizerV2Request {
	return events.APIGatewayV2CustomAuthorizerV2Request{Version: "2.0", Type: "REQUEST", RouteKey: unitaryRoute, Headers: headers,
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "aws-req-1"}}
}

func TestAuthorizer(t *testing.T) {
	store := memory.New()
	key, secret, err := auth.Mint(t.Context(), store, acme, []auth.Scope{auth.ScopeTrigger, auth.ScopeRead}, now)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		headers map[string]string
		want    events.APIGatewayV2CustomAuthorizerSimpleResponse
	}{
		{"a valid key passes its identity to the handlers",
			map[string]string{"Authorization": "Bearer " + secret, "X-Api-Key": key.ID, "x-gw-ims-org-id": "acme", "X-Sandbox-Name": "prod"},
			events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: true,
				Context: map[string]any{"keyId": key.ID, "org": "acme", "sandbox": "prod", "scopes": "trigger read"}}},
		{"an unknown key is marked unauthenticated",
			map[string]string{"authorization": "Bearer hrld_" + strings.Repeat("z", 43)},
			events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: true,
				Context: map[string]any{"authError": "unauthenticated", "authDetail": "invalid credential"}}},
		{"a missing credential is marked unauthenticated",
			map[string]string{},
			events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: true,
				Context: map[string]any{"authError": "unauthenticated", "authDetail": "missing Authorization: Bearer credential"}}},
		{"another org is marked forbidden",
			map[string]string{"authorization": "Bearer " + secret, "x-gw-ims-org-id": "globex"},
			events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: true,
				Context: map[string]any{"authError": "forbidden", "authDetail": `the credential is not valid for org "globex"`}}},
	}
	authorize := httpapi.Authorizer(auth.Authenticator{Keys: store}, slog.New(slog.DiscardHandler))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := authorize(t.Context(), authorizerEvent(tt.headers))
			if err != nil {
				t.Fatalf("authorizer error = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("authorizer response (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAuthorizerDeniesWhenTheKeyStoreFails(t *testing.T) {
	var logs syncBuffer
	authorize := httpapi.Authorizer(auth.Authenticator{Keys: downKeys{}}, slog.New(slog.NewJSONHandler(&logs, nil)))
	got, err := authorize(t.Context(), authorizerEvent(map[string]string{"authorization": "Bearer hrld_" + strings.Repeat("k", 43)}))
	if err != nil {
		t.Fatalf("authorizer error = %v", err)
	}
	if diff := cmp.Diff(events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: false}, got); diff != "" {
		t.Errorf("authorizer response (-want +got):\n%s", diff)
	}
	if !strings.Contains(logs.String(), "context deadline exceeded") || !strings.Contains(logs.String(), "aws-req-1") {
		t.Errorf("logs = %s, want the failure logged by its cause with the request id", logs.String())
	}
	if strings.Contains(logs.String(), "secret.person") {
		t.Errorf("logs = %s, want no text of the store's error", logs.String())
	}
}

// TestAuthorizerThenTrigger runs the authorizer's context through the
// Trigger handler as API Gateway does.
func TestAuthorizerThenTrigger(t *testing.T) {
	f := newTriggerFixture(t)
	_, readerSecret, err := auth.Mint(t.Context(), f.store, acme, []auth.Scope{auth.ScopeRead}, now)
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := auth.Mint(t.Context(), f.store, acme, []auth.Scope{auth.ScopeTrigger}, now)
	if err != nil {
		t.Fatal(err)
	}
	authorize := httpapi.Authorizer(auth.Authenticator{Keys: f.store}, slog.New(slog.DiscardHandler))
	tests := []struct {
		name    string
		headers map[string]string
		status  int
	}{
		{"a trigger key is accepted", map[string]string{"authorization": "Bearer " + secret}, http.StatusAccepted},
		{"a read key is forbidden", map[string]string{"authorization": "Bearer " + readerSecret}, http.StatusForbidden},
		{"a wrong sandbox is forbidden", map[string]string{"authorization": "Bearer " + secret, "x-sandbox-name": "dev"}, http.StatusForbidden},
		{"a bad secret is unauthenticated", map[string]string{"authorization": "Bearer hrld_nope"}, http.StatusUnauthorized},
		{"no secret is unauthenticated", nil, http.StatusUnauthorized},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			verdict, err := authorize(t.Context(), authorizerEvent(tt.headers))
			if err != nil || !verdict.IsAuthorized {
				t.Fatalf("authorizer = %+v, %v", verdict, err)
			}
			body := mustJSON(t, unitary("req-"+string(rune('a'+i)), f.live, external("a@example.com")))
			status, got := call(t, f.trigger, event(unitaryRoute, body, verdict.Context, nil))
			if status != tt.status {
				t.Fatalf("status = %d, want %d; body %s", status, tt.status, got)
			}
			if status >= 400 {
				errorBody(t, status, got)
			}
		})
	}
}
