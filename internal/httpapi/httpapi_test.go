package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/contextschema"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/erasure"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/httpapi"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/preview"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/tenant"
)

var (
	acme   = tenant.Tenant{Org: "acme", Sandbox: "prod"}
	globex = tenant.Tenant{Org: "globex", Sandbox: "prod"}
	now    = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

// authorized describes the caller a request authenticates as: a key of t
// with scopes (event sends it as a credential testAuth understands).
func authorized(t tenant.Tenant, keyID, scopes string) map[string]any {
	return map[string]any{"keyId": keyID, "org": t.Org, "sandbox": t.Sandbox, "scopes": scopes}
}

// testAccess authenticates the routes' unit tests: testAuth reads the
// caller a test describes from the credential event wrote (the real
// authentication is tested in auth_test.go).
var testAccess = httpapi.Access{Auth: testAuth{}}

type testAuth struct{}

// Authenticate implements httpapi.Authenticator over "Bearer test|..."
// credentials: a principal (keyId|org|sandbox|scopes) or a verdict
// (!unauthenticated|detail, !forbidden|detail).
func (testAuth) Authenticate(_ context.Context, h auth.Headers) (auth.Principal, error) {
	cred, ok := strings.CutPrefix(h["authorization"], "Bearer test|")
	if !ok {
		return auth.Principal{}, derrors.New(derrors.Unauthenticated, "missing Authorization: Bearer credential")
	}
	f := strings.Split(cred, "|")
	switch {
	case len(f) == 2 && f[0] == "!forbidden":
		return auth.Principal{}, derrors.New(derrors.Forbidden, "%s", f[1])
	case len(f) == 2:
		return auth.Principal{}, derrors.New(derrors.Unauthenticated, "%s", f[1])
	case len(f) != 4 || f[0] == "" || (tenant.Tenant{Org: f[1], Sandbox: f[2]}).Validate() != nil:
		return auth.Principal{}, derrors.New(derrors.Unauthenticated, "invalid credential")
	}
	p := auth.Principal{KeyID: f[0], Tenant: tenant.Tenant{Org: f[1], Sandbox: f[2]}}
	for _, sc := range strings.Fields(f[3]) {
		p.Scopes = append(p.Scopes, auth.Scope(sc))
	}
	return p, nil
}

// credential is the Authorization header of a caller authorized
// describes (or of an authentication verdict: authError, authDetail).
func credential(c map[string]any) string {
	s := func(k string) string { v, _ := c[k].(string); return v }
	if e := s("authError"); e != "" {
		return "Bearer test|!" + e + "|" + s("authDetail")
	}
	return "Bearer test|" + s("keyId") + "|" + s("org") + "|" + s("sandbox") + "|" + s("scopes")
}

var acmeKey = authorized(acme, "hk_acme", "trigger manage read")

// event is an HTTP API payload 2.0 event for routeKey, as API Gateway
// delivers it, with the credential of the caller lambda describes
// (authorized); nil sends none.
func event(routeKey, body string, lambda map[string]any, params map[string]string) events.APIGatewayV2HTTPRequest {
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: routeKey, Body: body, PathParameters: params,
		Headers:        map[string]string{"content-type": "application/json"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{RouteKey: routeKey, RequestID: "aws-req-1"},
	}
	if lambda != nil {
		ev.Headers["authorization"] = credential(lambda)
	}
	return ev
}

// harness runs the Trigger and Manage handlers on memory fakes.
type harness struct {
	store   *memory.Store
	queue   *memory.Queue
	logs    *syncBuffer
	trigger httpapi.HandlerFunc
	manage  httpapi.HandlerFunc
	camps   *campaign.Service
	svc     *execution.Unitary
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newHarness builds the handlers with opts (WithLimiter).
func newHarness(tb testing.TB, opts ...httpapi.Option) *harness {
	tb.Helper()
	h := &harness{store: memory.New(), queue: &memory.Queue{}, logs: &syncBuffer{}}
	log := slog.New(slog.NewJSONHandler(h.logs, nil))
	var exN, idN atomic.Int64
	svc := &execution.Unitary{Schemas: contextschema.Compiler{}, Store: h.store, Campaigns: h.store, Profiles: h.store, Queue: h.queue, Log: log,
		Now: func() time.Time { return now }, NewID: func() string { return fmt.Sprintf("ex-%d", exN.Add(1)) }}
	h.camps = &campaign.Service{Schemas: contextschema.Compiler{}, Store: h.store, Now: func() time.Time { return now },
		NewID: func() string { return fmt.Sprintf("id-%d", idN.Add(1)) }}
	h.svc = svc
	h.trigger = httpapi.Trigger(svc, testAccess, log, opts...)
	h.manage = httpapi.Manage(httpapi.ManageDeps{Access: testAccess, Campaigns: h.camps, Profiles: &profile.Service{Store: h.store, Now: func() time.Time { return now }},
		Preview: &preview.Service{Campaigns: h.store, Profiles: h.store},
		Erasure: &erasure.Service{Profiles: h.store, Store: h.store, Key: erasure.Pseudonymizer("a test secret of at least 32 bytes!!")}}, log, opts...)
	return h
}

// call invokes handler and checks what every HTTP response must hold.
func call(tb testing.TB, handler httpapi.HandlerFunc, ev events.APIGatewayV2HTTPRequest) (int, string) {
	tb.Helper()
	resp, err := handler(context.Background(), ev)
	if err != nil {
		tb.Fatalf("handler(%s) returned error %v; HTTP handlers answer with a status", ev.RouteKey, err)
	}
	if ct := resp.Headers["Content-Type"]; ct != "application/json" {
		tb.Errorf("handler(%s) Content-Type = %q, want application/json", ev.RouteKey, ct)
	}
	return resp.StatusCode, resp.Body
}

// campaignOpts shapes the campaigns the harness creates.
type campaignOpts struct {
	namespace      string
	createProfiles bool
	category       campaign.Type // of the configuration; default transactional
	subject        string
	activate       bool
	highThroughput bool // its content then reads only the context
}

// campaign creates a configuration and a campaign for t through the
// campaign service and returns the campaign id.
func (h *harness) campaign(tb testing.TB, t tenant.Tenant, o campaignOpts) string {
	tb.Helper()
	ctx := context.Background()
	if o.category == "" {
		o.category = campaign.Transactional
	}
	if o.subject == "" {
		o.subject = "Order {{context.orderId}}"
	}
	cfg, err := h.camps.CreateConfig(ctx, t, campaign.ConfigInput{Name: "cfg", Channel: campaign.Email, Category: o.category,
		Email: &campaign.EmailSettings{FromName: "Acme", FromAddress: "orders@acme.example"}})
	if err != nil {
		tb.Fatalf("CreateConfig: %v", err)
	}
	html := "<p>Hi {{profile.firstName}}</p>"
	if o.highThroughput {
		html = "<p>Hi {{context.firstName}}</p>"
	}
	c, err := h.camps.CreateCampaign(ctx, t, campaign.CampaignInput{Name: "Order", Type: campaign.Transactional, Channel: campaign.Email,
		HighThroughput: o.highThroughput, ChannelConfigID: cfg.ID, Audience: campaign.Audience{Namespace: o.namespace, CreateProfiles: o.createProfiles},
		Content: campaign.Content{Email: &campaign.EmailContent{Subject: o.subject, HTML: html}}})
	if err != nil {
		tb.Fatalf("CreateCampaign: %v", err)
	}
	if o.activate {
		if _, err := h.camps.Activate(ctx, t, c.ID); err != nil {
			tb.Fatalf("Activate: %v", err)
		}
	}
	return c.ID
}

// bumpVersion makes a new live version of a live campaign directly in the
// store (as editing and re-activating will), so tests can tell the live
// version from version 1.
func (h *harness) bumpVersion(tb testing.TB, t tenant.Tenant, id string) int {
	tb.Helper()
	ctx := context.Background()
	c, err := h.store.GetCampaign(ctx, t, id)
	if err != nil {
		tb.Fatal(err)
	}
	prev := c.Revision
	c.LiveVersion++
	c.Revision++
	v := campaign.Version{CampaignID: id, Number: c.LiveVersion, Type: c.Type, Channel: c.Channel, Spec: c.Draft, ActivatedAt: now}
	if err := h.store.Activate(ctx, t, c, v, prev); err != nil {
		tb.Fatal(err)
	}
	return c.LiveVersion
}

func (h *harness) putProfile(tb testing.TB, t tenant.Tenant, p profile.Profile) {
	tb.Helper()
	if err := h.store.Put(context.Background(), t, p); err != nil {
		tb.Fatal(err)
	}
}

// errorBody decodes an error response, failing unless it has the
// documented shape: type, title, status, report.additionalContext.
func errorBody(tb testing.TB, status int, body string) httpapi.ErrorResponse {
	tb.Helper()
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &raw); err != nil {
		tb.Fatalf("error body %q is not a JSON object: %v", body, err)
	}
	for _, k := range []string{"type", "title", "status", "report"} {
		if _, ok := raw[k]; !ok {
			tb.Errorf("error body %s lacks %q", body, k)
		}
	}
	for k := range raw {
		switch k {
		case "type", "title", "status", "detail", "report", "errors", "warnings", "error", "error_description":
		default:
			tb.Errorf("error body %s has undocumented member %q", body, k)
		}
	}
	var rep struct {
		AdditionalContext *map[string]string `json:"additionalContext"`
	}
	if err := json.Unmarshal(raw["report"], &rep); err != nil || rep.AdditionalContext == nil {
		tb.Errorf("error body %s: report.additionalContext is missing or not an object of strings (%v)", body, err)
	}
	var e httpapi.ErrorResponse
	dec := json.NewDecoder(bytes.NewReader([]byte(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		tb.Fatalf("error body %q: %v", body, err)
	}
	if e.Status != status {
		tb.Errorf("error body status = %d, HTTP status = %d; want them equal", e.Status, status)
	}
	if e.Type == "" || e.Title == "" {
		tb.Errorf("error body %s has an empty type or title", body)
	}
	return e
}

func fieldNames(e httpapi.ErrorResponse) []string {
	var out []string
	for _, f := range e.Errors {
		if f.Message == "" {
			out = append(out, f.Field+" (no message)")
			continue
		}
		out = append(out, f.Field)
	}
	return out
}

// mustJSON marshals v for a request body.
func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// diffJSON compares two JSON documents semantically.
func diffJSON(tb testing.TB, want, got string) string {
	tb.Helper()
	var w, g any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		tb.Fatalf("want %q: %v", want, err)
	}
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		tb.Fatalf("got %q: %v", got, err)
	}
	return cmp.Diff(w, g)
}
