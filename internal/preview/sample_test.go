package preview_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/preview"
)

// jsonText is v as the sample's curl writes it.
func jsonText(t *testing.T, v any) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return string(bytes.TrimSpace(b.Bytes()))
}

var caller = preview.Caller{BaseURL: "https://api.example", KeyID: "hk_1", Org: "acme", Sandbox: "prod"}

// live creates and activates in, with a channel configuration of its
// channel, and returns its id.
func (f *fixture) live(t *testing.T, in campaign.CampaignInput) string {
	t.Helper()
	ctx := context.Background()
	switch in.Channel {
	case campaign.Email:
		in.ChannelConfigID = f.cfgID
	case campaign.SMS:
		cfg, err := f.camps.CreateConfig(ctx, acme, campaign.ConfigInput{Name: "sms", Channel: campaign.SMS, Category: in.Type,
			SMS: &campaign.SMSSettings{SenderID: "Acme"}})
		if err != nil {
			t.Fatal(err)
		}
		in.ChannelConfigID = cfg.ID
	case campaign.Push:
		cfg, err := f.camps.CreateConfig(ctx, acme, campaign.ConfigInput{Name: "push", Channel: campaign.Push, Category: in.Type,
			Push: &campaign.PushSettings{Apps: []campaign.PushApp{{AppID: "a", Platform: "GCM", PlatformApplicationARN: "arn:aws:sns:us-east-1:123456789012:app/GCM/a"}}}})
		if err != nil {
			t.Fatal(err)
		}
		in.ChannelConfigID = cfg.ID
	}
	c, err := f.camps.CreateCampaign(ctx, acme, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.camps.Activate(ctx, acme, c.ID); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// pasted is the sample's body as a client pasting it sends it: the JSON
// text, decoded again; and the profile and context of its first
// recipient (or of the audience call).
func pasted(t *testing.T, s preview.Sample) (prof, ctxv map[string]any) {
	t.Helper()
	raw, err := json.Marshal(s.Body)
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Context    map[string]any `json:"context"`
		Recipients []struct {
			Profile map[string]any `json:"profile"`
			Context map[string]any `json:"context"`
		} `json:"recipients"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		t.Fatal(err)
	}
	if len(body.Recipients) > 0 {
		return body.Recipients[0].Profile, body.Recipients[0].Context
	}
	return nil, body.Context
}

// fixtureCampaigns are every campaign the tests and the examples know:
// testdata/campaigns/*.json, the campaign events/manage.create-campaign.json
// creates, and the preview tests' own.
func fixtureCampaigns(t *testing.T) map[string]campaign.CampaignInput {
	t.Helper()
	out := map[string]campaign.CampaignInput{}
	files, err := filepath.Glob("testdata/campaigns/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixture campaigns: %v", err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var in campaign.CampaignInput
		if err := json.Unmarshal(b, &in); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		out[file] = in
	}
	b, err := os.ReadFile("../../events/manage.create-campaign.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev struct{ Body string }
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	var in campaign.CampaignInput
	if err := json.Unmarshal([]byte(ev.Body), &in); err != nil {
		t.Fatal(err)
	}
	out["events/manage.create-campaign.json"] = in
	out["the preview tests' campaign"] = campaign.CampaignInput{Name: "Orders", Type: campaign.Transactional, Channel: campaign.Email,
		Audience: campaign.Audience{Namespace: "crmId"},
		Content:  campaign.Content{Email: &campaign.EmailContent{Subject: subject, Preheader: "Your order", HTML: html, Text: "Hi {{profile.person.name.firstName}}"}}}
	return out
}

func TestEveryFixtureCampaignsRequestSampleRendersAsPasted(t *testing.T) {
	ctx := context.Background()
	for name, in := range fixtureCampaigns(t) {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			id := f.live(t, in)
			s, err := f.svc.RequestSample(ctx, acme, id, caller)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Warnings) > 0 {
				t.Errorf("sample warnings: %+v", s.Warnings)
			}
			prof, ctxv := pasted(t, s)
			got, err := f.svc.Preview(ctx, acme, id, preview.Request{Profile: obj(t, prof), Context: obj(t, ctxv)})
			if err != nil {
				t.Fatalf("preview of the pasted sample: %v\nsample: %s", err, s.Curl)
			}
			if len(got.Warnings) > 0 {
				t.Errorf("preview of the pasted sample warns %+v\nsample: %s", got.Warnings, s.Curl)
			}
		})
	}
}

func TestRequestSamplePlaceholdersTakeTheTypeTheContentNeeds(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	id := f.live(t, campaign.CampaignInput{Name: "Receipt", Type: campaign.Transactional, Channel: campaign.Email,
		Audience: campaign.Audience{Namespace: "email"},
		Content: campaign.Content{Email: &campaign.EmailContent{
			Subject: "Receipt {{context.orderId}} for {{profile.person.name.firstName}}",
			Text: "Total {{formatNumber context.total 2}} on {{formatDate context.paidAt \"yyyy-MM-dd\" context.timeZone}}\n" +
				"{{#each context.items}}{{name}} {{formatNumber price 2}}\n{{/each}}" +
				"{{#if context.gift}}A gift!{{/if}}{{#if (gt context.points 100)}} Gold{{/if}} {{truncate context.note context.noteLength}}"}}})
	s, err := f.svc.RequestSample(ctx, acme, id, caller)
	if err != nil {
		t.Fatal(err)
	}
	raw := jsonText(t, s.Body["recipients"])
	want := `[{"context":{"gift":true,"items":[{"name":"<name>","price":42.5}],"note":"<note>","noteLength":2,"orderId":"<orderId>",` +
		`"paidAt":"2026-01-31T09:00:00Z","points":42.5,"timeZone":"Europe/Paris","total":42.5},"namespace":"email",` +
		`"profile":{"person":{"name":{"firstName":"<firstName>"}}},"type":"aep","userId":"<email id>"}]`
	if diff := cmp.Diff(want, raw); diff != "" {
		t.Errorf("recipients (-want +got):\n%s", diff)
	}

	// The placeholders this sample had before, every one a string: the
	// trigger is accepted, and every message fails to render.
	allStrings := map[string]any{"gift": "<gift>", "items": []any{map[string]any{"name": "<name>", "price": "<price>"}}, "note": "<note>",
		"noteLength": "<noteLength>", "orderId": "<orderId>", "paidAt": "<paidAt>", "points": "<points>", "timeZone": "<timeZone>", "total": "<total>"}
	_, err = f.svc.Preview(ctx, acme, id, preview.Request{Context: obj(t, allStrings)})
	var de *derrors.Error
	if !errors.As(err, &de) || len(de.Fields) != 1 || de.Fields[0].Code != "render_error" {
		t.Errorf("preview with all-string placeholders = %v, want a render_error", err)
	}
	if _, err := f.svc.Preview(ctx, acme, id, preview.Request{Context: obj(t, s.Body["recipients"].([]any)[0].(map[string]any)["context"].(map[string]any))}); err != nil {
		t.Errorf("preview with the sample's placeholders: %v", err)
	}
}

func TestRequestSampleFollowsTheContextSchema(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	id := f.live(t, campaign.CampaignInput{Name: "Shipped", Type: campaign.Transactional, Channel: campaign.Email,
		Audience: campaign.Audience{Namespace: "email"},
		ContextSchema: json.RawMessage(`{"type":"object","required":["orderId","carrier"],"properties":{
			"orderId":{"type":"string","examples":["A-1001"]},
			"carrier":{"enum":["UPS","DHL"]},
			"total":{"type":"string"},
			"count":{"type":"integer","minimum":3},
			"weight":{"type":"number","exclusiveMaximum":1}}}`),
		Content: campaign.Content{Email: &campaign.EmailContent{Subject: "{{context.orderId}}",
			Text: "{{formatNumber context.total 2}} {{context.count}} {{context.weight}}"}}})
	s, err := f.svc.RequestSample(ctx, acme, id, caller)
	if err != nil {
		t.Fatal(err)
	}
	raw := jsonText(t, s.Body["recipients"].([]any)[0].(map[string]any)["context"])
	// The example, the enum's first value for a required property the
	// content does not use, a numeric string for formatNumber where the
	// schema wants a string, numbers within the bounds.
	want := `{"carrier":"UPS","count":3,"orderId":"A-1001","total":"42.5","weight":0}`
	if diff := cmp.Diff(want, raw); diff != "" {
		t.Errorf("context (-want +got):\n%s", diff)
	}
	if len(s.Warnings) > 0 {
		t.Errorf("warnings: %+v", s.Warnings)
	}
}
