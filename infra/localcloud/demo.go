package localcloud

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/tenant"
)

// The demo tenant and its well-known credential. The secret is public (it
// is in this file): only the local cloud ever imports it.
const (
	DemoOrg          = "DEMO@HeraldOrg"
	DemoSandbox      = "prod"
	DemoSecret       = "hrld_local_demo_secret_do_not_use_in_production_0000"
	DemoSenderDomain = "herald.example"
	DemoFrom         = "demo@herald.example"
	DemoProfileID    = "jane@example.com"
)

// Demo is what SeedDemo created.
type Demo struct {
	Org, Sandbox           string
	KeyID, Secret          string
	ChannelConfigurationID string
	CampaignID             string
	ProfileNamespace       string
	ProfileID              string
}

// Vars are the demo's values by the placeholder names event fixtures use:
// "${demo.campaignId}" in a fixture becomes the demo campaign's id.
func (d Demo) Vars() map[string]string {
	return map[string]string{
		"demo.org":                    d.Org,
		"demo.sandbox":                d.Sandbox,
		"demo.keyId":                  d.KeyID,
		"demo.secret":                 d.Secret,
		"demo.channelConfigurationId": d.ChannelConfigurationID,
		"demo.campaignId":             d.CampaignID,
		"demo.profileNamespace":       d.ProfileNamespace,
		"demo.profileId":              d.ProfileID,
	}
}

var placeholder = regexp.MustCompile(`\$\{(demo\.[A-Za-z]+)\}`)

// Expand replaces the ${demo.*} placeholders of a fixture. An unknown
// placeholder is an error, so a typo cannot silently reach a handler.
func (d Demo) Expand(b []byte) ([]byte, error) {
	vars := d.Vars()
	var missing []string
	out := placeholder.ReplaceAllFunc(b, func(m []byte) []byte {
		name := string(m[2 : len(m)-1])
		v, ok := vars[name]
		if !ok {
			missing = append(missing, name)
		}
		return []byte(v)
	})
	if len(missing) > 0 {
		return nil, fmt.Errorf("unknown placeholders %v (known: demo.org, demo.sandbox, demo.keyId, demo.secret, demo.channelConfigurationId, demo.campaignId, demo.profileNamespace, demo.profileId)", missing)
	}
	return out, nil
}

// Demo campaign content, personalised from the profile and the call's
// context.
const (
	demoSubject = "Your order {{context.orderId}} has shipped, {{profile.person.name.firstName}}"
	demoHTML    = `<html><body>
<p>Hi {{profile.person.name.firstName}},</p>
<p>Good news: order <strong>{{context.orderId}}</strong> is on its way with {{context.carrier}}.</p>
<ul>
{{#each context.items}}  <li>{{qty}} &times; {{name}}</li>
{{/each}}</ul>
<p>The Herald Demo team</p>
</body></html>`
	demoText = `Hi {{profile.person.name.firstName}},

Good news: order {{context.orderId}} is on its way with {{context.carrier}}.

{{#each context.items}}- {{qty}} x {{name}}
{{/each}}
The Herald Demo team`
)

// SeedDemo makes the local cloud ready to trigger: it verifies the SES
// sender domain, imports the demo tenant's key with the well-known secret
// (logging a warning), then, through the HTTP API so the real path is
// exercised, creates an email channel configuration and a transactional
// "Order shipped" campaign, activates it and stores Jane Doe's profile.
// Every call creates new resources except the key and the profile.
func (c *Cloud) SeedDemo(ctx context.Context) (Demo, error) {
	ses := sesv2.NewFromConfig(c.AWS)
	if _, err := ses.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(DemoSenderDomain)}); err != nil {
		var exists *sestypes.AlreadyExistsException
		if !errors.As(err, &exists) {
			return Demo{}, fmt.Errorf("seed demo: verify %s: %w", DemoSenderDomain, err)
		}
	}
	t := tenant.Tenant{Org: DemoOrg, Sandbox: DemoSandbox}
	key, err := auth.Import(ctx, c.App.Keys(), t, []auth.Scope{auth.ScopeTrigger, auth.ScopeManage, auth.ScopeRead}, DemoSecret, time.Now())
	if err != nil {
		return Demo{}, fmt.Errorf("seed demo: %w", err)
	}
	c.log.WarnContext(ctx, "imported the demo API key with a well-known secret; it is for the local cloud only, never import it anywhere else", "keyId", key.ID, "org", DemoOrg, "sandbox", DemoSandbox)
	d := Demo{Org: DemoOrg, Sandbox: DemoSandbox, KeyID: key.ID, Secret: DemoSecret, ProfileNamespace: "email", ProfileID: DemoProfileID}
	api := &Client{BaseURL: c.URL, KeyID: d.KeyID, Secret: d.Secret, Org: d.Org, Sandbox: d.Sandbox}

	var created struct {
		ID string `json:"id"`
	}
	if err := api.Do(ctx, http.MethodPost, "/channel-configurations", map[string]any{
		"name": "Herald Demo email", "channel": "email", "category": "transactional",
		"email": map[string]any{"fromName": "Herald Demo", "fromAddress": DemoFrom, "replyTo": []string{"support@herald.example"}},
	}, http.StatusCreated, &created); err != nil {
		return Demo{}, fmt.Errorf("seed demo: %w", err)
	}
	d.ChannelConfigurationID = created.ID

	if err := api.Do(ctx, http.MethodPost, "/campaigns", map[string]any{
		"name": "Order shipped", "description": "Demo transactional email sent when an order ships.",
		"type": "transactional", "channel": "email", "channelConfigurationId": d.ChannelConfigurationID,
		"content":  map[string]any{"email": map[string]any{"subject": demoSubject, "html": demoHTML, "text": demoText}},
		"audience": map[string]any{"namespace": "email", "createProfiles": false},
	}, http.StatusCreated, &created); err != nil {
		return Demo{}, fmt.Errorf("seed demo: %w", err)
	}
	d.CampaignID = created.ID

	if err := api.Do(ctx, http.MethodPost, "/campaigns/"+url.PathEscape(d.CampaignID)+"/activate", nil, http.StatusOK, nil); err != nil {
		return Demo{}, fmt.Errorf("seed demo: %w", err)
	}
	if err := api.Do(ctx, http.MethodPut, "/profiles/email/"+url.PathEscape(DemoProfileID), map[string]any{
		"attributes": map[string]any{"person": map[string]any{"name": map[string]any{"firstName": "Jane", "lastName": "Doe"}}},
		"identities": map[string]any{"email": DemoProfileID},
	}, 0, nil); err != nil {
		return Demo{}, fmt.Errorf("seed demo: %w", err)
	}
	c.log.InfoContext(ctx, "demo seeded", "campaignId", d.CampaignID, "channelConfigurationId", d.ChannelConfigurationID)
	return d, nil
}

// Client calls the HTTP API with a key's AJO headers.
type Client struct {
	BaseURL       string
	KeyID, Secret string
	Org, Sandbox  string
	HTTP          *http.Client
}

// StatusError is a response with an unexpected status.
type StatusError struct {
	Method, Path string
	Status       int
	Body         string
}

// Error reports the request, the status and (the start of) the body.
func (e *StatusError) Error() string {
	body := e.Body
	if len(body) > 512 {
		body = body[:512] + "..."
	}
	return fmt.Sprintf("%s %s: status %d: %s", e.Method, e.Path, e.Status, body)
}

// Do sends body as JSON (nil sends none) and decodes the response into out
// (nil ignores it). want is the expected status; 0 accepts any 2xx. Any
// other status is a *StatusError.
func (c *Client) Do(ctx context.Context, method, path string, body any, want int, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+c.Secret)
	req.Header.Set("x-api-key", c.KeyID)
	req.Header.Set("x-gw-ims-org-id", c.Org)
	req.Header.Set("x-sandbox-name", c.Sandbox)
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if (want != 0 && resp.StatusCode != want) || (want == 0 && resp.StatusCode/100 != 2) {
		return &StatusError{Method: method, Path: path, Status: resp.StatusCode, Body: string(b)}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: decode response: %w", method, path, err)
		}
	}
	return nil
}
