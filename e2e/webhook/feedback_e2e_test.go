package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/infra/localcloud"
	"github.com/heraldhq/herald/internal/tenant"
)

// The whole chain: a campaign sent to SES's simulator addresses, the local
// cloud's SES events through the Feedback function, and every event on
// the tenant's webhook once, signed, in AJO's message.feedback shape.
func TestACampaignsSESEventsReachTheWebhook(t *testing.T) {
	skipShort(t)
	seq.Lock()
	seq.n++
	n := seq.n
	seq.Unlock()
	acct, err := cloud.NewAccount(context.Background(), tenant.Tenant{Org: fmt.Sprintf("HOOK%d@AdobeOrg", n), Sandbox: "prod"},
		fmt.Sprintf("hook%d.%s", n, localcloud.DemoSenderDomain))
	if err != nil {
		t.Fatal(err)
	}
	rc := &receiver{t: t}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	expect := func(method, path string, body any, want int, out any) {
		t.Helper()
		cloud.MustExpect(t, acct, method, path, body, want, out)
	}
	expect("POST", "/feedback-webhook", map[string]any{"name": "ops", "url": srv.URL + "/herald", "channels": []string{"email"}, "secret": secret}, 201, nil)
	var cfg, c struct{ ID string }
	expect("POST", "/channel-configurations", map[string]any{"name": "Mail", "channel": "email", "category": "transactional",
		"email": map[string]any{"fromName": "Shop", "fromAddress": "orders@" + acct.Domain}}, 201, &cfg)
	expect("POST", "/campaigns", map[string]any{"name": "Receipt", "type": "transactional", "channel": "email", "channelConfigurationId": cfg.ID,
		"audience": map[string]any{"namespace": "email"}, "content": map[string]any{"email": map[string]any{"subject": "Receipt", "html": "<p>Thanks</p>"}}}, 201, &c)
	expect("POST", "/campaigns/"+c.ID+"/activate", nil, http.StatusOK, nil)
	var resp struct{ ExecutionID string }
	expect("POST", "/im/executions/unitary", map[string]any{"requestId": "hook-1", "campaignId": c.ID, "recipients": []any{
		map[string]any{"type": "external", "namespace": "email", "userId": "success@simulator.amazonses.com"},
		map[string]any{"type": "external", "namespace": "email", "userId": "bounce@simulator.amazonses.com"},
		map[string]any{"type": "external", "namespace": "crmId", "userId": "c-none"}, // no address: excluded by Dispatch
	}}, http.StatusAccepted, &resp)
	drain(t)

	type payload struct {
		RequestID        string `json:"requestId"`
		IMSOrg           string `json:"imsOrg"`
		Channel          string `json:"channel"`
		MessageExecution struct {
			MessageExecutionID string `json:"messageExecutionID"`
			MessageType        string `json:"messageType"`
			CampaignID         string `json:"campaignID"`
		} `json:"messageExecution"`
		Feedback struct {
			Status struct {
				Value string `json:"value"`
			} `json:"feedbackStatus"`
			Failure *struct {
				Category, Type, Code string
			} `json:"messageFailure"`
			Exclusion *struct {
				Category, Type, Code string
			} `json:"messageExclusion"`
		} `json:"messageDeliveryFeedback"`
		IdentityMap map[string][]struct {
			ID string `json:"id"`
		} `json:"identityMap"`
	}
	var got []string
	rc.mu.Lock()
	bodies := rc.bodies
	rc.mu.Unlock()
	for _, b := range bodies {
		var p payload
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatal(err)
		}
		if p.RequestID != "hook-1" || p.IMSOrg != acct.Tenant.Org || p.Channel != "email" || p.MessageExecution.MessageExecutionID != resp.ExecutionID ||
			p.MessageExecution.CampaignID != c.ID || p.MessageExecution.MessageType != "transactional" {
			t.Errorf("payload %s: not this tenant's execution %s of campaign %s", b, resp.ExecutionID, c.ID)
		}
		var line string
		for ns, ids := range p.IdentityMap {
			line = ns + ":" + ids[0].ID + " " + p.Feedback.Status.Value
		}
		if f := p.Feedback.Failure; f != nil {
			line += " " + f.Category + "/" + f.Type + "/" + f.Code
		}
		if x := p.Feedback.Exclusion; x != nil {
			line += " " + x.Category + "/" + x.Type + "/" + x.Code
		}
		got = append(got, line)
	}
	sort.Strings(got)
	want := []string{
		"crmId:c-none exclude sync/Exclusion/no_address",
		"email:bounce@simulator.amazonses.com bounce async/Hard/5.1.1",
		"email:bounce@simulator.amazonses.com sent",
		"email:success@simulator.amazonses.com delivered",
		"email:success@simulator.amazonses.com sent",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("webhook events (-want +got):\n%s", diff)
	}
	if n := rc.requests(); n != len(want) {
		t.Errorf("the receiver got %d requests, want %d (each event once)", n, len(want))
	}
}
