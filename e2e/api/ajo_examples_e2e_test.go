package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// ajoClient is an integration written for Adobe Journey Optimizer, as its
// documentation has one written: an OAuth server-to-server client that
// fetches a bearer token from IMS with its client id and secret and calls
// https://platform.adobe.io/ajo/im/executions/... with Authorization,
// x-api-key (its client id), x-gw-ims-org-id, x-sandbox-name and an
// x-request-id. Pointing it at Herald changes three settings: the base
// URL, the token URL and the client credentials.
type ajoClient struct {
	baseURL, tokenURL      string
	clientID, clientSecret string
	org, sandbox           string
	token                  string
}

// adobeScopes is the scope list Adobe's developer console gives an AJO
// project's OAuth server-to-server credential.
const adobeScopes = "openid,AdobeID,read_organizations,additional_info.projectedProductContext,session"

// authenticate is the client's token fetch: a client credentials grant,
// form-encoded, as IMS takes it.
func (c *ajoClient) authenticate(t *testing.T) {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.clientID}, "client_secret": {c.clientSecret}, "scope": {adobeScopes}}
	status, _, body, err := cloud.Call("POST", strings.TrimPrefix(c.tokenURL, cloud.URL),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, form.Encode())
	if err != nil || status != http.StatusOK {
		t.Fatalf("token = %d %s %v", status, body, err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" || !strings.EqualFold(tok.TokenType, "bearer") || tok.ExpiresIn <= 0 {
		t.Fatalf("token answer %s (%v), want IMS's access_token, token_type and expires_in", body, err)
	}
	c.token = tok.AccessToken
}

// call sends body to path under the base URL with AJO's headers.
func (c *ajoClient) call(t *testing.T, method, path string, body any) (int, []byte) {
	t.Helper()
	status, _, out, err := cloud.Call(method, strings.TrimPrefix(c.baseURL, cloud.URL)+path, map[string]string{
		"Authorization": "Bearer " + c.token, "x-api-key": c.clientID, "x-gw-ims-org-id": c.org, "x-sandbox-name": c.sandbox,
		"x-request-id": "ajo-client-" + path, "Content-Type": "application/json"}, body)
	if err != nil {
		t.Fatal(err)
	}
	return status, out
}

// example decodes one of AJO's documented request bodies (the contract's
// examples and the messaging samples), with the two names an integration
// substitutes: its requestId and its campaign's id.
func example(t *testing.T, doc, requestID, campaignID string) map[string]any {
	t.Helper()
	var m map[string]any
	doc = strings.NewReplacer("request-12345", requestID, "campaign-12345", campaignID).Replace(doc)
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatalf("example: %v", err)
	}
	return m
}

// AJO's documented bodies: an external email recipient with a profile and
// a context (the contract's ExternalRecipient, profile and context
// examples), an AEP profile with AJO's merge policy fields, SMS
// recipients with numbers written as AJO's examples write them (one that
// can be no US number), and a high-throughput call.
const (
	ajoUnitaryEmail = `{"requestId":"request-12345","campaignId":"campaign-12345","recipients":[
	 {"type":"external","userId":"customer123@example.com","namespace":"email",
	  "channelData":{"emailAddress":"customer123@example.com"},
	  "profile":{"person":{"name":{"firstName":"Jane","lastName":"Doe"}}},
	  "context":{"product":"Gaming Laptop"}}]}`
	ajoUnitaryAEP = `{"requestId":"request-12345","campaignId":"campaign-12345","recipients":[
	 {"type":"aep","userId":"jane.doe@example.com","namespace":"email",
	  "mergePolicyName":"Default Timebased","mergePolicySchema":"_xdm.context.profile",
	  "context":{"product":"LED TV","productCategory":"Electronics"}}]}`
	ajoUnitarySMS = `{"requestId":"request-12345","campaignId":"campaign-12345","recipients":[
	 {"type":"external","userId":"customer123","namespace":"crmId","channelData":{"mobilePhoneNumber":"PHONE"},
	  "context":{"product":"Gaming Laptop"}},
	 {"type":"external","userId":"customer456","namespace":"crmId","channelData":{"mobilePhoneNumber":"111-111-1111"},
	  "context":{"product":"Gaming Laptop"}},
	 {"type":"external","userId":"customer789","namespace":"crmId","channelData":{"mobilePhoneNumber":"555-0100"},
	  "context":{"product":"Gaming Laptop"}}]}`
	ajoHighThroughput = `{"requestId":"request-12345","campaignId":"campaign-12345","recipients":[
	 {"type":"external","userId":"customer789@example.com","namespace":"email",
	  "context":{"product":"Gaming Laptop","firstName":"Jane"}}]}`
)

// The "done when": an AJO integration that changes only its base
// URL, its token URL and its client credentials works unchanged against
// Herald, run as `make run` runs it, sending AJO's documented bodies.
func TestAnAJOIntegrationWorksByChangingItsURLsAndCredentials(t *testing.T) {
	f := newFixture(t, false)
	// Herald's side, set up once through its own API: a campaign per
	// channel, its content personalized from the profile and context.
	var cfg struct{ ID string }
	f.mustDo("POST", "/channel-configurations", map[string]any{"name": "AJO", "channel": "email", "category": "transactional",
		"email": map[string]any{"fromName": "Shop", "fromAddress": "ajo@" + f.Domain}}, 201, &cfg)
	emailCampaign := func(body map[string]any) string {
		var c struct{ ID string }
		body["name"], body["type"], body["channel"], body["channelConfigurationId"] = "AJO example", "transactional", "email", cfg.ID
		f.mustDo("POST", "/campaigns", body, 201, &c)
		f.mustDo("POST", "/campaigns/"+c.ID+"/activate", nil, 200, nil)
		return c.ID
	}
	email := emailCampaign(map[string]any{"audience": map[string]any{"namespace": "email"},
		"content": map[string]any{"email": map[string]any{"subject": "{{profile.person.name.firstName}}, your {{context.product}}", "html": "<p>{{context.product}}</p>"}}})
	fast := emailCampaign(map[string]any{"audience": map[string]any{"namespace": "email"}, "highThroughput": true,
		"content": map[string]any{"email": map[string]any{"subject": "{{context.firstName}}, your {{context.product}}", "html": "<p>{{context.product}}</p>"}}})
	sms := f.campaignOn("transactional", "sms", map[string]any{"defaultRegion": "US"}, map[string]any{"body": "Your {{context.product}} shipped"})
	f.putProfile("jane.doe@example.com", "Jane")

	// The integration: AJO's client with three settings changed.
	c := &ajoClient{baseURL: cloud.URL + "/ajo", tokenURL: cloud.URL + "/ims/token/v3",
		clientID: f.KeyID, clientSecret: f.Secret, org: f.Tenant.Org, sandbox: f.Tenant.Sandbox}
	c.authenticate(t)

	e164 := f.phone("71")
	national := e164[2:5] + "-" + e164[5:8] + "-" + e164[8:] // 415-xxx-xxxx, as AJO writes it
	calls := []struct {
		name, path, doc, campaign string
	}{
		{"unitary email to an external recipient", "/im/executions/unitary", ajoUnitaryEmail, email},
		{"unitary email to an AEP profile", "/im/executions/unitary", ajoUnitaryAEP, email},
		{"unitary SMS with national numbers", "/im/executions/unitary", strings.Replace(ajoUnitarySMS, "PHONE", national, 1), sms},
		{"high throughput", "/im/executions/highthroughput", ajoHighThroughput, fast},
	}
	executions := map[string]string{}
	for i, call := range calls {
		t.Run(call.name, func(t *testing.T) {
			requestID := "ajo-example-" + string(rune('a'+i))
			status, body := c.call(t, "POST", call.path, example(t, call.doc, requestID, call.campaign))
			if status != http.StatusAccepted {
				t.Fatalf("POST %s = %d %s, want 202", call.path, status, body)
			}
			var resp map[string]any
			if err := json.Unmarshal(body, &resp); err != nil {
				t.Fatal(err)
			}
			// imExecutionResponse: executionId, requestId, createdAt,
			// createdBy (and modifiedAt, modifiedBy).
			if resp["requestId"] != requestID || resp["executionId"] == "" || resp["createdAt"] == nil || resp["createdBy"] != c.clientID {
				t.Errorf("answer %s, want the contract's imExecutionResponse naming the request", body)
			}
			executions[call.name], _ = resp["executionId"].(string)
		})
	}
	drain(t)

	got := map[string]string{}
	for _, e := range sentTo(t, "customer123@example.com", "jane.doe@example.com", "customer789@example.com") {
		got[e.Destinations.To[0]] = e.Subject
	}
	want := map[string]string{"customer123@example.com": "Jane, your Gaming Laptop", "jane.doe@example.com": "Jane, your LED TV",
		"customer789@example.com": "Jane, your Gaming Laptop"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("emails moto received (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Your Gaming Laptop shipped"}, smsTo(t, e164)); diff != "" {
		t.Errorf("SMS to the number AJO wrote nationally (-want +got):\n%s", diff)
	}
	// AJO's placeholder 111-111-1111 is a possible US number (sent; SNS
	// would report it undeliverable); a 7-digit one cannot be a US number:
	// the call is accepted, and that recipient alone fails.
	if diff := cmp.Diff([]string{"customer123 sent", "customer456 sent", "customer789 failed:invalid_address"}, f.outcomes(executions["unitary SMS with national numbers"])); diff != "" {
		t.Errorf("SMS outcomes (-want +got):\n%s", diff)
	}

	// What goes wrong is answered in the contract's errorResponse, naming
	// the request: a token that is not one, and a campaign that is not.
	bad := *c
	bad.token = c.token[:len(c.token)-4] + "AAAA"
	status, body := bad.call(t, "POST", "/im/executions/unitary", example(t, ajoUnitaryEmail, "ajo-example-401", email))
	checkAJOError(t, status, body, http.StatusUnauthorized, "ajo-example-401")
	status, body = c.call(t, "POST", "/im/executions/unitary", example(t, ajoUnitaryEmail, "ajo-example-404", "no-such-campaign"))
	checkAJOError(t, status, body, http.StatusNotFound, "ajo-example-404")
}

// checkAJOError checks an answer against the contract's errorResponse:
// type, title, status and report.additionalContext with the requestId.
func checkAJOError(t *testing.T, status int, body []byte, want int, requestID string) {
	t.Helper()
	if status != want {
		t.Fatalf("status %d %s, want %d", status, body, want)
	}
	var e struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Status int    `json:"status"`
		Report struct {
			AdditionalContext map[string]string `json:"additionalContext"`
		} `json:"report"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Type == "" || e.Title == "" || e.Status != want || e.Report.AdditionalContext["requestId"] != requestID {
		t.Errorf("error %s (%v), want errorResponse with status %d naming request %s", body, err, want, requestID)
	}
}
