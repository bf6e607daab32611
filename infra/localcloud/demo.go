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
	"github.com/heraldhq/herald/internal/campaign"
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
	// Found is true when every resource of the demo existed already (a
	// local cloud ran on this moto before) and nothing was created.
	Found bool
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

// The markers SeedDemo finds an earlier demo by: its channel
// configuration's name and its campaign's tag.
const (
	DemoTag          = "herald-demo"
	demoConfigName   = "Herald Demo email"
	demoCampaignName = "Order shipped"
)

// Client returns an API client acting with the demo key on the local cloud
// at baseURL.
func (d Demo) Client(baseURL string) *Client {
	return &Client{BaseURL: baseURL, KeyID: d.KeyID, Secret: d.Secret, Org: d.Org, Sandbox: d.Sandbox}
}

// newDemo is the demo before SeedDemo or FindDemo looked for its
// resources: the tenant, the key (its id derives from the well-known
// secret) and the profile.
func newDemo() Demo {
	return Demo{Org: DemoOrg, Sandbox: DemoSandbox, KeyID: auth.ImportedKeyID(DemoSecret), Secret: DemoSecret,
		ProfileNamespace: "email", ProfileID: DemoProfileID}
}

// SeedDemo makes the local cloud ready to trigger: it verifies the SES
// sender domain, imports the demo tenant's key with the well-known secret
// (logging a warning), then, through the HTTP API so the real path is
// exercised, creates an email channel configuration and a transactional
// "Order shipped" campaign, activates it and stores Jane Doe's profile.
//
// It is idempotent against a running local cloud: what exists is found
// and kept (the configuration by its name, the campaign by DemoTag, the
// profile and the sender identity by their ids), and only what is missing
// is created; Found reports that nothing was. A demo campaign that was
// stopped, completed or archived is replaced by a new one, since it can
// no longer be triggered.
func (c *Cloud) SeedDemo(ctx context.Context) (Demo, error) {
	created, err := ensureSender(ctx, sesv2.NewFromConfig(c.AWS))
	if err != nil {
		return Demo{}, fmt.Errorf("seed demo: %w", err)
	}
	t := tenant.Tenant{Org: DemoOrg, Sandbox: DemoSandbox}
	if _, err := auth.Import(ctx, c.App.Keys(), t, []auth.Scope{auth.ScopeTrigger, auth.ScopeManage, auth.ScopeRead}, DemoSecret, time.Now()); err != nil {
		return Demo{}, fmt.Errorf("seed demo: %w", err)
	}
	d := newDemo()
	c.log.WarnContext(ctx, "the demo API key has a well-known secret; it is for the local cloud only, never import it anywhere else", "keyId", d.KeyID, "org", DemoOrg, "sandbox", DemoSandbox)
	api := d.Client(c.URL)
	status, err := findDemo(ctx, api, &d)
	if err != nil {
		return Demo{}, fmt.Errorf("seed demo: %w", err)
	}

	var out struct {
		ID string `json:"id"`
	}
	if d.ChannelConfigurationID == "" {
		if err := api.Do(ctx, http.MethodPost, "/channel-configurations", map[string]any{
			"name": demoConfigName, "channel": "email", "category": "transactional",
			"email": map[string]any{"fromName": "Herald Demo", "fromAddress": DemoFrom, "replyTo": []string{"support@herald.example"}},
		}, http.StatusCreated, &out); err != nil {
			return Demo{}, fmt.Errorf("seed demo: %w", err)
		}
		d.ChannelConfigurationID, created = out.ID, true
	}
	if d.CampaignID == "" {
		if err := api.Do(ctx, http.MethodPost, "/campaigns", map[string]any{
			"name": demoCampaignName, "description": "Demo transactional email sent when an order ships.", "tags": []string{DemoTag},
			"type": "transactional", "channel": "email", "channelConfigurationId": d.ChannelConfigurationID,
			"content":  map[string]any{"email": map[string]any{"subject": demoSubject, "html": demoHTML, "text": demoText}},
			"audience": map[string]any{"namespace": "email", "createProfiles": false},
		}, http.StatusCreated, &out); err != nil {
			return Demo{}, fmt.Errorf("seed demo: %w", err)
		}
		d.CampaignID, status, created = out.ID, campaign.StatusDraft, true
	}
	if status == campaign.StatusDraft {
		if err := api.Do(ctx, http.MethodPost, "/campaigns/"+url.PathEscape(d.CampaignID)+"/activate", nil, http.StatusOK, nil); err != nil {
			return Demo{}, fmt.Errorf("seed demo: %w", err)
		}
		created = true
	}
	profilePath := "/profiles/email/" + url.PathEscape(DemoProfileID)
	var se *StatusError
	switch err := api.Do(ctx, http.MethodGet, profilePath, nil, http.StatusOK, nil); {
	case errors.As(err, &se) && se.Status == http.StatusNotFound:
		if err := api.Do(ctx, http.MethodPut, profilePath, map[string]any{
			"attributes": map[string]any{"person": map[string]any{"name": map[string]any{"firstName": "Jane", "lastName": "Doe"}}},
			"identities": map[string]any{"email": DemoProfileID},
		}, 0, nil); err != nil {
			return Demo{}, fmt.Errorf("seed demo: %w", err)
		}
		created = true
	case err != nil:
		return Demo{}, fmt.Errorf("seed demo: %w", err)
	}
	d.Found = !created
	if d.Found {
		c.log.InfoContext(ctx, "demo found, left as it was", "campaignId", d.CampaignID, "channelConfigurationId", d.ChannelConfigurationID)
	} else {
		c.log.InfoContext(ctx, "demo seeded", "campaignId", d.CampaignID, "channelConfigurationId", d.ChannelConfigurationID)
	}
	return d, nil
}

// ensureSender verifies the demo sender domain unless it is already.
func ensureSender(ctx context.Context, ses *sesv2.Client) (bool, error) {
	_, err := ses.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(DemoSenderDomain)})
	var missing *sestypes.NotFoundException
	switch {
	case err == nil:
		return false, nil
	case !errors.As(err, &missing):
		return false, fmt.Errorf("get identity %s: %w", DemoSenderDomain, err)
	}
	if _, err := ses.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(DemoSenderDomain)}); err != nil {
		var exists *sestypes.AlreadyExistsException
		if !errors.As(err, &exists) {
			return false, fmt.Errorf("verify %s: %w", DemoSenderDomain, err)
		}
		return false, nil
	}
	return true, nil
}

// ErrNoDemo is FindDemo's error when the local cloud has no demo campaign
// that can still be triggered.
var ErrNoDemo = errors.New("no demo campaign: start the local cloud with `make run` to seed one")

// FindDemo looks the demo up on the running local cloud at baseURL
// through its HTTP API, changing nothing: it is how a tool attaches to a
// local cloud another process runs. It returns ErrNoDemo when the demo
// key is unknown there or the demo campaign is missing.
func FindDemo(ctx context.Context, baseURL string) (Demo, error) {
	d := newDemo()
	status, err := findDemo(ctx, d.Client(baseURL), &d)
	var se *StatusError
	switch {
	case errors.As(err, &se) && (se.Status == http.StatusUnauthorized || se.Status == http.StatusForbidden):
		return Demo{}, ErrNoDemo
	case err != nil:
		return Demo{}, err
	case status == "":
		return Demo{}, ErrNoDemo
	}
	d.Found = true
	return d, nil
}

// findDemo fills in the ids of the demo's channel configuration and
// campaign where they exist and returns the campaign's status. Of several
// campaigns tagged DemoTag it picks a live one, else a scheduled one, else
// a draft; stopped, completed and archived ones do not count.
func findDemo(ctx context.Context, api *Client, d *Demo) (campaign.Status, error) {
	type item struct {
		ID     string          `json:"id"`
		Name   string          `json:"name"`
		Status campaign.Status `json:"status"`
	}
	list := func(path string) ([]item, error) {
		var all []item
		cursor := ""
		for {
			var page struct {
				Items []item `json:"items"`
				Next  string `json:"next"`
			}
			p := path + "&limit=100"
			if cursor != "" {
				p += "&cursor=" + url.QueryEscape(cursor)
			}
			if err := api.Do(ctx, http.MethodGet, p, nil, http.StatusOK, &page); err != nil {
				return nil, err
			}
			all = append(all, page.Items...)
			if cursor = page.Next; cursor == "" {
				return all, nil
			}
		}
	}
	cfgs, err := list("/channel-configurations?channel=email&name=" + url.QueryEscape(demoConfigName))
	if err != nil {
		return "", err
	}
	for _, c := range cfgs {
		if c.Name == demoConfigName {
			d.ChannelConfigurationID = c.ID
			break
		}
	}
	camps, err := list("/campaigns?tag=" + url.QueryEscape(DemoTag))
	if err != nil {
		return "", err
	}
	rank := map[campaign.Status]int{campaign.StatusLive: 3, campaign.StatusScheduled: 2, campaign.StatusDraft: 1}
	var best item
	for _, c := range camps {
		if rank[c.Status] > rank[best.Status] {
			best = c
		}
	}
	d.CampaignID = best.ID
	return best.Status, nil
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
