package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/httpapi"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/webhook"
)

// publicDNS resolves hooks.acme.example to a public address and
// inside.acme.example to a private one.
type publicDNS struct{}

func (publicDNS) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	switch host {
	case "hooks.acme.example":
		return []netip.Addr{netip.MustParseAddr("93.184.216.34")}, nil
	case "inside.acme.example":
		return []netip.Addr{netip.MustParseAddr("10.0.0.7")}, nil
	}
	return nil, errors.New("no such host")
}

func webhookManage(t *testing.T) httpapi.HandlerFunc {
	t.Helper()
	svc := &webhook.Service{Store: memory.New(), Resolver: publicDNS{}, NewSecret: func() (string, error) { return "generated-0123456789abcdef", nil }}
	return httpapi.Manage(httpapi.ManageDeps{Access: testAccess, Webhooks: svc}, slog.New(slog.DiscardHandler))
}

func TestTheFeedbackWebhookRoutes(t *testing.T) {
	h := webhookManage(t)
	readKey := authorized(acme, "hk_read", "read")
	steps := []struct {
		name   string
		route  string
		body   string
		key    map[string]any
		status int
		check  func(t *testing.T, body string)
	}{
		{"a read key cannot create one", "POST /feedback-webhook", `{"name":"ops","url":"https://hooks.acme.example/h","channels":["email"]}`, readKey, 403, nil},
		{"none yet", "GET /feedback-webhook", "", readKey, 404, nil},
		{"an unknown member is refused", "POST /feedback-webhook", `{"name":"ops","url":"https://hooks.acme.example/h","channels":["email"],"events":["x"]}`, acmeKey, 400,
			func(t *testing.T, body string) { wantFields(t, body, "events") }},
		{"a private endpoint is refused", "POST /feedback-webhook", `{"name":"ops","url":"https://inside.acme.example/h","channels":["email"]}`, acmeKey, 400,
			func(t *testing.T, body string) { wantFields(t, body, "url") }},
		{"create, the generated secret shown once", "POST /feedback-webhook",
			`{"name":"ops","url":"https://hooks.acme.example/h","channels":["email","sms"],"headers":{"X-Api-Key":"k1","X-Team":"growth"}}`, acmeKey, 201,
			func(t *testing.T, body string) {
				v := decodeView(t, body)
				if v.Secret != "generated-0123456789abcdef" || !v.SecretSet {
					t.Errorf("create: secret %q, secretSet %v; want the generated secret", v.Secret, v.SecretSet)
				}
			}},
		{"a second create conflicts", "POST /feedback-webhook", `{"name":"ops","url":"https://hooks.acme.example/h","channels":["email"]}`, acmeKey, 409, nil},
		{"read without the secret", "GET /feedback-webhook", "", readKey, 200, func(t *testing.T, body string) {
			if strings.Contains(body, `"secret"`) || !strings.Contains(body, `"secretSet":true`) {
				t.Errorf("GET shows %s; want secretSet and no secret", body)
			}
		}},
		{"a merge patch removes a header and narrows the channels", "PATCH /feedback-webhook", `{"headers":{"X-Team":null},"channels":["sms"]}`, acmeKey, 200,
			func(t *testing.T, body string) {
				v := decodeView(t, body)
				if diff := cmp.Diff(map[string]string{"X-Api-Key": "k1"}, v.Headers); diff != "" {
					t.Errorf("headers (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff([]string{"sms"}, v.Channels); diff != "" || v.Name != "ops" {
					t.Errorf("channels (-want +got):\n%s; name %q", diff, v.Name)
				}
			}},
		{"a patch is validated as a create", "PATCH /feedback-webhook", `{"url":"http://hooks.acme.example/h","secret":"short"}`, acmeKey, 400,
			func(t *testing.T, body string) { wantFields(t, body, "secret", "url") }},
		{"no deliveries yet", "GET /feedback-webhook/deliveries", "", readKey, 200, func(t *testing.T, body string) {
			if body != `{"items":[]}` {
				t.Errorf("deliveries = %s", body)
			}
		}},
		{"a bad status filter", "GET /feedback-webhook/deliveries?status=lost", "", readKey, 400, nil},
		{"a redrive needs the queue", "POST /feedback-webhook/deliveries/redrive", "", acmeKey, 422, nil},
		{"delete", "DELETE /feedback-webhook", "", acmeKey, 204, nil},
		{"gone", "GET /feedback-webhook", "", readKey, 404, nil},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			route, query, _ := strings.Cut(st.route, "?")
			ev := event(route, st.body, st.key, nil)
			if query != "" {
				k, v, _ := strings.Cut(query, "=")
				ev.QueryStringParameters = map[string]string{k: v}
			}
			status, body := call(t, h, ev)
			if status != st.status {
				t.Fatalf("%s = %d %s, want %d", st.route, status, body, st.status)
			}
			if st.check != nil {
				st.check(t, body)
			}
		})
	}
}

func TestTheFeedbackWebhookIsServedUnderAJO(t *testing.T) {
	h := webhookManage(t)
	status, body := call(t, h, pathEvent("ANY /ajo/{proxy+}", "GET", "/ajo/feedback-webhook/deliveries", "", acmeKey))
	if status != http.StatusOK {
		t.Errorf("GET /ajo/feedback-webhook/deliveries = %d %s, want 200", status, body)
	}
	status, _ = call(t, h, pathEvent("ANY /ajo/{proxy+}", "PUT", "/ajo/feedback-webhook", "{}", acmeKey))
	if status != http.StatusMethodNotAllowed {
		t.Errorf("PUT /ajo/feedback-webhook = %d, want 405", status)
	}
}

func decodeView(t *testing.T, body string) webhook.View {
	t.Helper()
	var v webhook.View
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func wantFields(t *testing.T, body string, fields ...string) {
	t.Helper()
	e := errorBody(t, http.StatusBadRequest, body)
	if diff := cmp.Diff(fields, fieldNames(e)); diff != "" {
		t.Errorf("errors[].field (-want +got):\n%s", diff)
	}
}
