package localcloud

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/heraldhq/herald/internal/tenant"
)

// The local outbox shows what moto received, newest first, and links an
// SMS, as an email, to the execution that sent it: an SMS by the ledger
// entry its message id names.
func TestTheOutboxLinksAnSMSToItsExecution(t *testing.T) {
	c := startCloud(t)
	ctx := context.Background()
	acct, err := c.NewAccount(ctx, tenant.Tenant{Org: "OUTBOX@AdobeOrg", Sandbox: "prod"}, "")
	if err != nil {
		t.Fatal(err)
	}
	var cfg, camp, ex struct{ ID, ExecutionID string }
	c.MustExpect(t, acct, "POST", "/channel-configurations", map[string]any{"name": "Codes", "channel": "sms", "category": "transactional",
		"sms": map[string]any{"senderId": "Shop"}}, 201, &cfg)
	c.MustExpect(t, acct, "POST", "/campaigns", map[string]any{"name": "Code", "type": "transactional", "channel": "sms",
		"channelConfigurationId": cfg.ID, "audience": map[string]any{"namespace": "crmId"},
		"content": map[string]any{"sms": map[string]any{"body": "Your code is {{context.code}}"}}}, 201, &camp)
	c.MustExpect(t, acct, "POST", "/campaigns/"+camp.ID+"/activate", nil, 200, nil)
	c.MustExpect(t, acct, "POST", "/im/executions/unitary", map[string]any{"requestId": "outbox-1", "campaignId": camp.ID,
		"recipients": []any{map[string]any{"type": "external", "namespace": "crmId", "userId": "u1",
			"channelData": map[string]any{"mobilePhoneNumber": "+14155550142"}, "context": map[string]any{"code": "424242"}}}}, 202, &ex)
	if err := c.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(c.URL + OutboxPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var box Outbox
	if err := json.NewDecoder(resp.Body).Decode(&box); err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, s := range box.SMS {
		if s.PhoneNumber == "+14155550142" {
			found = true
			if s.Message != "Your code is 424242" || s.ExecutionID != ex.ExecutionID || s.CampaignID != camp.ID {
				t.Errorf("outbox SMS = %+v, want execution %s of campaign %s", s, ex.ExecutionID, camp.ID)
			}
		}
	}
	if !found {
		t.Errorf("the outbox holds no SMS to the number: %+v", box.SMS)
	}
}
