package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/derrors"
)

func idParam(id string) map[string]string { return map[string]string{"id": id} }

var (
	configBody   = `{"name":"Receipts","channel":"email","category":"transactional","email":{"fromName":"Acme","fromAddress":"orders@acme.example"}}`
	campaignBody = func(cfgID string) string {
		return `{"name":"Order confirmation","type":"transactional","channel":"email","channelConfigurationId":"` + cfgID + `",
			"content":{"email":{"subject":"Order {{context.orderId}}","html":"<p>Hi {{profile.firstName}}</p>"}}}`
	}
)

func TestManageRejectsUnknownFields(t *testing.T) {
	tests := []struct {
		name  string
		route string
		body  string
		field string
	}{
		{"a campaign cannot set its status", "POST /campaigns",
			`{"name":"x","type":"transactional","channel":"email","status":"live"}`, "status"},
		{"a campaign cannot set its id", "POST /campaigns",
			`{"id":"mine","name":"x","type":"transactional","channel":"email"}`, "id"},
		{"a campaign cannot name a tenant", "POST /campaigns",
			`{"name":"x","type":"transactional","channel":"email","tenant":{"org":"globex","sandbox":"prod"}}`, "tenant"},
		{"a campaign cannot set its live version", "POST /campaigns",
			`{"name":"x","type":"transactional","channel":"email","liveVersion":3}`, "liveVersion"},
		{"a nested unknown member is named", "POST /campaigns",
			`{"name":"x","type":"transactional","channel":"email","content":{"email":{"subject":"s","bcc":"x@y.z"}}}`, "content.email.bcc"},
		{"a configuration cannot set its revision", "POST /channel-configurations",
			`{"name":"x","channel":"email","category":"transactional","revision":7}`, "revision"},
		{"a profile cannot set its creation time", "PUT /profiles/{namespace}/{id}",
			`{"attributes":{},"createdAt":"2020-01-01T00:00:00Z"}`, "createdAt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newHarness(t)
			ev := event(tt.route, tt.body, acmeKey, map[string]string{"namespace": "crmId", "id": "42"})
			status, body := call(t, f.manage, ev)
			if status != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400; body %s", status, body)
			}
			e := errorBody(t, status, body)
			if diff := cmp.Diff([]string{tt.field}, fieldNames(e)); diff != "" {
				t.Errorf("errors[].field (-want +got):\n%s", diff)
			}
			// Nothing was stored: the first id the service would mint is free.
			if _, err := f.store.GetCampaign(t.Context(), acme, "id-1"); !derrors.Is(err, derrors.NotFound) {
				t.Errorf("a campaign was stored: %v", err)
			}
			if _, err := f.store.GetConfig(t.Context(), acme, "id-1"); !derrors.Is(err, derrors.NotFound) {
				t.Errorf("a configuration was stored: %v", err)
			}
			status, _ = call(t, f.manage, event("GET /profiles/{namespace}/{id}", "", acmeKey, map[string]string{"namespace": "crmId", "id": "42"}))
			if status != http.StatusNotFound {
				t.Errorf("GET profile after the refused PUT = %d, want 404", status)
			}
		})
	}
}

func TestManageValidationErrors(t *testing.T) {
	tests := []struct {
		name   string
		route  string
		body   string
		fields []string
	}{
		{"a name of the wrong type is named", "POST /campaigns", `{"name":5,"type":"transactional","channel":"email"}`, []string{"name"}},
		{"a name too long is named", "POST /campaigns",
			`{"name":"` + strings.Repeat("n", campaign.MaxNameLen+1) + `","type":"transactional","channel":"email"}`, []string{"name"}},
		{"a bad type and channel are named", "POST /campaigns", `{"name":"x","type":"promo","channel":"fax"}`, []string{"type", "channel"}},
		{"a bad from address is named", "POST /channel-configurations",
			`{"name":"x","channel":"email","category":"transactional","email":{"fromAddress":"nope"}}`, []string{"email.fromAddress"}},
		{"malformed JSON is named as the body", "POST /channel-configurations", `{"name":`, []string{"body"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newHarness(t)
			status, body := call(t, f.manage, event(tt.route, tt.body, acmeKey, nil))
			if status != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400; body %s", status, body)
			}
			if diff := cmp.Diff(tt.fields, fieldNames(errorBody(t, status, body))); diff != "" {
				t.Errorf("errors[].field (-want +got):\n%s", diff)
			}
		})
	}
}

func TestManageCampaignFlow(t *testing.T) {
	f := newHarness(t)
	status, body := call(t, f.manage, event("POST /channel-configurations", configBody, acmeKey, nil))
	if status != http.StatusCreated {
		t.Fatalf("create configuration: %d %s", status, body)
	}
	var cfg campaign.ChannelConfig
	if err := json.Unmarshal([]byte(body), &cfg); err != nil {
		t.Fatal(err)
	}
	wantCfg := `{"id":"id-1","name":"Receipts","channel":"email","category":"transactional",
		"email":{"fromName":"Acme","fromAddress":"orders@acme.example"},"revision":1,
		"createdAt":"2026-03-01T12:00:00Z","updatedAt":"2026-03-01T12:00:00Z"}`
	if diff := diffJSON(t, wantCfg, body); diff != "" {
		t.Errorf("created configuration (-want +got):\n%s", diff)
	}
	status, got := call(t, f.manage, event("GET /channel-configurations/{id}", "", acmeKey, idParam(cfg.ID)))
	if status != http.StatusOK || diffJSON(t, wantCfg, got) != "" {
		t.Errorf("GET configuration = %d %s, want 200 %s", status, got, wantCfg)
	}

	status, body = call(t, f.manage, event("POST /campaigns", campaignBody(cfg.ID), acmeKey, nil))
	if status != http.StatusCreated {
		t.Fatalf("create campaign: %d %s", status, body)
	}
	var c campaign.Campaign
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		t.Fatal(err)
	}
	if c.Status != campaign.StatusDraft || c.ID != "id-2" || c.Revision != 1 {
		t.Errorf("created campaign = %s, want draft id-2 at revision 1", body)
	}
	status, got = call(t, f.manage, event("GET /campaigns/{id}", "", acmeKey, idParam(c.ID)))
	if status != http.StatusOK || got != body {
		t.Errorf("GET campaign = %d %s, want 200 %s", status, got, body)
	}

	// The draft cannot be triggered yet.
	trigger := mustJSON(t, unitary("req-1", c.ID, external("a@example.com")))
	if status, _ := call(t, f.trigger, event(unitaryRoute, trigger, acmeKey, nil)); status != http.StatusConflict {
		t.Errorf("trigger of the draft = %d, want 409", status)
	}

	status, body = call(t, f.manage, event("POST /campaigns/{id}/activate", "", acmeKey, idParam(c.ID)))
	if status != http.StatusOK {
		t.Fatalf("activate: %d %s", status, body)
	}
	var live campaign.Campaign
	if err := json.Unmarshal([]byte(body), &live); err != nil {
		t.Fatal(err)
	}
	if live.Status != campaign.StatusLive || live.LiveVersion != 1 || live.Revision != 2 {
		t.Errorf("activated campaign = %s, want live version 1 at revision 2", body)
	}

	status, body = call(t, f.manage, event("POST /campaigns/{id}/activate", "", acmeKey, idParam(c.ID)))
	if status != http.StatusConflict {
		t.Fatalf("activating a live campaign = %d %s, want 409", status, body)
	}
	if e := errorBody(t, status, body); e.Report.AdditionalContext["campaignId"] != c.ID {
		t.Errorf("409 additionalContext = %v, want the campaignId", e.Report.AdditionalContext)
	}

	if status, body := call(t, f.trigger, event(unitaryRoute, trigger, acmeKey, nil)); status != http.StatusAccepted {
		t.Errorf("trigger of the live campaign = %d %s, want 202", status, body)
	}
}

func TestManageActivationErrors(t *testing.T) {
	tests := []struct {
		name     string
		category campaign.Type
		noConfig bool
		subject  string
		fields   []string
		message  string
	}{
		{name: "a campaign without a configuration is a 422", category: campaign.Transactional, noConfig: true,
			fields: []string{"channelConfigurationId"}, message: "required"},
		{name: "a configuration of another category is a 422", category: campaign.Marketing,
			fields: []string{"channelConfigurationId"}, message: "marketing"},
		{name: "a subject syntax error is a 422 naming line and column", category: campaign.Transactional,
			subject: "Your {{#if context.vip}}VIP order", fields: []string{"content.email.subject"}, message: "line 1, col "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newHarness(t)
			cfgBody := strings.Replace(configBody, "transactional", string(tt.category), 1)
			status, body := call(t, f.manage, event("POST /channel-configurations", cfgBody, acmeKey, nil))
			if status != http.StatusCreated {
				t.Fatalf("create configuration: %d %s", status, body)
			}
			cfgID := "id-1"
			if tt.noConfig {
				cfgID = ""
			}
			cb := campaignBody(cfgID)
			if tt.subject != "" {
				cb = strings.Replace(cb, "Order {{context.orderId}}", tt.subject, 1)
			}
			status, body = call(t, f.manage, event("POST /campaigns", cb, acmeKey, nil))
			if status != http.StatusCreated {
				t.Fatalf("create campaign: %d %s", status, body)
			}
			status, body = call(t, f.manage, event("POST /campaigns/{id}/activate", "", acmeKey, idParam("id-2")))
			if status != http.StatusUnprocessableEntity {
				t.Fatalf("activate = %d %s, want 422", status, body)
			}
			e := errorBody(t, status, body)
			if diff := cmp.Diff(tt.fields, fieldNames(e)); diff != "" {
				t.Errorf("errors[].field (-want +got):\n%s", diff)
			}
			if len(e.Errors) > 0 && !strings.Contains(e.Errors[0].Message, tt.message) {
				t.Errorf("message = %q, want it to contain %q", e.Errors[0].Message, tt.message)
			}
			if diff := cmp.Diff(map[string]string{"campaignId": "id-2"}, e.Report.AdditionalContext); diff != "" {
				t.Errorf("report.additionalContext (-want +got):\n%s", diff)
			}
			c, err := f.store.GetCampaign(t.Context(), acme, "id-2")
			if err != nil || c.Status != campaign.StatusDraft {
				t.Errorf("after a 422 the campaign is %q (%v), want draft", c.Status, err)
			}
		})
	}
}

func TestManageProfiles(t *testing.T) {
	f := newHarness(t)
	params := map[string]string{"namespace": "crmId", "id": "42"}
	put := `{"attributes":{"firstName":"Jane","person":{"age":41}},"identities":{"email":"jane@example.com"}}`
	status, body := call(t, f.manage, event("PUT /profiles/{namespace}/{id}", put, acmeKey, params))
	if status != http.StatusOK {
		t.Fatalf("PUT profile: %d %s", status, body)
	}
	want := `{"namespace":"crmId","id":"42","attributes":{"firstName":"Jane","person":{"age":41}},
		"identities":{"email":"jane@example.com"},"createdAt":"2026-03-01T12:00:00Z","updatedAt":"2026-03-01T12:00:00Z"}`
	if diff := diffJSON(t, want, body); diff != "" {
		t.Errorf("PUT response (-want +got):\n%s", diff)
	}
	status, body = call(t, f.manage, event("GET /profiles/{namespace}/{id}", "", acmeKey, params))
	if status != http.StatusOK {
		t.Fatalf("GET profile: %d %s", status, body)
	}
	if diff := diffJSON(t, want, body); diff != "" {
		t.Errorf("GET response (-want +got):\n%s", diff)
	}

	for _, tc := range []struct {
		name   string
		lambda map[string]any
		params map[string]string
		status int
	}{
		{"another tenant's profile is not found", authorized(globex, "hk_g", "read"), params, http.StatusNotFound},
		{"an unknown profile is not found", acmeKey, map[string]string{"namespace": "crmId", "id": "43"}, http.StatusNotFound},
		{"a bad namespace is a 400", acmeKey, map[string]string{"namespace": "crm id", "id": "42"}, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := call(t, f.manage, event("GET /profiles/{namespace}/{id}", "", tc.lambda, tc.params))
			if status != tc.status {
				t.Fatalf("GET = %d %s, want %d", status, body, tc.status)
			}
			errorBody(t, status, body)
		})
	}
}

func TestManageTenancyAndScopes(t *testing.T) {
	f := newHarness(t)
	id := f.campaign(t, acme, campaignOpts{})
	tests := []struct {
		name   string
		route  string
		body   string
		lambda map[string]any
		status int
	}{
		{"another tenant's campaign is a 404", "GET /campaigns/{id}", "", authorized(globex, "hk_g", "manage read"), http.StatusNotFound},
		{"another tenant cannot activate it", "POST /campaigns/{id}/activate", "", authorized(globex, "hk_g", "manage"), http.StatusNotFound},
		{"a read key may read", "GET /campaigns/{id}", "", authorized(acme, "hk_r", "read"), http.StatusOK},
		{"a read key may not activate", "POST /campaigns/{id}/activate", "", authorized(acme, "hk_r", "read"), http.StatusForbidden},
		{"a trigger key may not read", "GET /campaigns/{id}", "", authorized(acme, "hk_t", "trigger"), http.StatusForbidden},
		{"a read key may not create", "POST /campaigns", campaignBody(""), authorized(acme, "hk_r", "read"), http.StatusForbidden},
		{"no credentials are a 401", "GET /campaigns/{id}", "", nil, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := call(t, f.manage, event(tt.route, tt.body, tt.lambda, idParam(id)))
			if status != tt.status {
				t.Fatalf("status = %d, want %d; body %s", status, tt.status, body)
			}
			if status >= 400 {
				errorBody(t, status, body)
			}
		})
	}
	if c, _ := f.store.GetCampaign(t.Context(), acme, id); c.Status != campaign.StatusDraft {
		t.Errorf("the campaign is %s after refused calls, want draft", c.Status)
	}
}
