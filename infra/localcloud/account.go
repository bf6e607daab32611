package localcloud

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/tenant"
)

// Account is a tenant of the local cloud as an API client holds it: a key
// of every scope and a sender domain of its own. The end-to-end suites
// make one per test, so tests never see each other's data.
type Account struct {
	Tenant tenant.Tenant
	KeyID  string
	Secret string
	// Domain is a subdomain of DemoSenderDomain, verified in SES.
	Domain string
}

// NewAccount mints a key of every scope for tn and, unless domain is
// empty, verifies domain in SES; it must be a subdomain of
// DemoSenderDomain, the sender identity the template allows.
func (c *Cloud) NewAccount(ctx context.Context, tn tenant.Tenant, domain string) (Account, error) {
	k, secret, err := auth.Mint(ctx, c.App.Keys(), tn, []auth.Scope{auth.ScopeTrigger, auth.ScopeManage, auth.ScopeRead}, time.Now())
	if err != nil {
		return Account{}, fmt.Errorf("mint a key for %s: %w", tn, err)
	}
	if domain != "" {
		if _, err := sesv2.NewFromConfig(c.AWS).CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(domain)}); err != nil {
			return Account{}, fmt.Errorf("verify %s: %w", domain, err)
		}
	}
	return Account{Tenant: tn, KeyID: k.ID, Secret: secret, Domain: domain}, nil
}

// Headers are the headers an AJO client sends as the account.
func (a Account) Headers() map[string]string {
	return map[string]string{"Authorization": "Bearer " + a.Secret, "x-api-key": a.KeyID,
		"x-gw-ims-org-id": a.Tenant.Org, "x-sandbox-name": a.Tenant.Sandbox, "Content-Type": "application/json"}
}

// Expect calls the HTTP API as a and returns an error naming the call
// unless it answers with status want; out, when not nil, receives the
// JSON body.
func (c *Cloud) Expect(a Account, method, path string, body any, want int, out any) error {
	status, _, b, err := c.Call(method, path, a.Headers(), body)
	if err != nil || status != want {
		return fmt.Errorf("%s %s = %d %s, %v; want %d", method, path, status, b, err, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return nil
}

// TB is the part of testing.TB the Must helpers use.
type TB interface {
	Helper()
	Fatal(args ...any)
}

// MustCall is Call for a test: a request that cannot be made ends it.
func (c *Cloud) MustCall(t TB, method, path string, headers map[string]string, body any) (int, []byte) {
	t.Helper()
	status, _, out, err := c.Call(method, path, headers, body)
	if err != nil {
		t.Fatal(err)
	}
	return status, out
}

// MustExpect is Expect for a test: another answer ends it.
func (c *Cloud) MustExpect(t TB, a Account, method, path string, body any, want int, out any) {
	t.Helper()
	if err := c.Expect(a, method, path, body, want, out); err != nil {
		t.Fatal(err)
	}
}

// MustLiveEmailCampaign creates, as a, a transactional email
// configuration sending from orders@<a.Domain> and a campaign of the
// email namespace with subject and html, activates it and returns its id.
func (c *Cloud) MustLiveEmailCampaign(t TB, a Account, subject, html string) string {
	t.Helper()
	var cfg, camp struct{ ID string }
	c.MustExpect(t, a, "POST", "/channel-configurations", map[string]any{"name": "Orders", "channel": "email", "category": "transactional",
		"email": map[string]any{"fromName": "Shop", "fromAddress": "orders@" + a.Domain}}, 201, &cfg)
	c.MustExpect(t, a, "POST", "/campaigns", map[string]any{"name": "Shipped", "type": "transactional", "channel": "email",
		"channelConfigurationId": cfg.ID, "audience": map[string]any{"namespace": "email"},
		"content": map[string]any{"email": map[string]any{"subject": subject, "html": html}}}, 201, &camp)
	c.MustExpect(t, a, "POST", "/campaigns/"+camp.ID+"/activate", nil, 200, nil)
	return camp.ID
}
