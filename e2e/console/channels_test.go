package console_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
)

// An SMS campaign and its configuration are made in the console; its
// editor counts characters and segments as the text is typed (a euro sign
// or a brace is two GSM-7 septets; an emoji makes it UCS-2), and the
// preview gives the rendered encoding and segments.
func TestTheSMSEditorCountsSegments(t *testing.T) {
	tb := newTab(t)
	tb.signIn(false)
	// The campaign and its SMS configuration, both made in the console.
	tb.open("#/campaigns/new")
	tb.waitFor(`!!document.querySelector('select[name=channel]')`)
	tb.setValue(`input[name=name]`, "Console SMS")
	tb.setValue(`select[name=channel]`, "sms")
	tb.waitFor(`(document.querySelector('details summary') || {}).textContent === 'New sms configuration'`)
	tb.click(`details summary`)
	tb.setValue(`input[name=configName]`, "Console SMS")
	tb.setValue(`input[name=senderId]`, "Herald")
	tb.clickText("Create configuration")
	tb.waitFor(`document.querySelector('select[name=channelConfigurationId]').selectedOptions[0]?.textContent === 'Console SMS'`)
	tb.clickText("Create draft")
	body := `[data-field="content.sms.body"]`
	tb.waitFor(`!!document.querySelector('#sms-counter')`)
	tb.typeInto(body, "Code {{context.orderId}} €")
	// Braces and the euro sign are GSM-7's two-septet characters.
	if got := tb.text("#sms-counter"); !strings.HasPrefix(got, "31 septets · GSM-7 · 1 segment") {
		t.Errorf("counter %q, want 31 septets · GSM-7 · 1 segment", got)
	}
	tb.waitFor(`(document.querySelector('#preview-sms') || {}).textContent === 'Code A-1001 €'`)
	tb.check("content-sms")
	tb.setValue(body, strings.Repeat("ab", 40)+"🙂")
	if got := tb.text("#sms-counter"); !strings.HasPrefix(got, "82 UTF-16 units · UCS-2 · 2 segments") {
		t.Errorf("counter %q, want 82 UTF-16 units · UCS-2 · 2 segments", got)
	}
	tb.waitFor(`document.querySelector('#preview').textContent.includes('UCS-2 · 82 units · 2 segments')`)
}

// The push editor shows the APNs and FCM payloads the content renders to,
// with their sizes against the 4 KB limit.
func TestThePushEditorShowsThePayloadSizes(t *testing.T) {
	ctx := context.Background()
	app, err := awssns.NewFromConfig(cloud.AWS).CreatePlatformApplication(ctx, &awssns.CreatePlatformApplicationInput{
		Name: aws.String("console-ios"), Platform: aws.String("APNS"), Attributes: map[string]string{"PlatformCredential": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	api := demo.Client(cloud.URL)
	var cfg, camp struct{ ID string }
	if err := api.Do(ctx, "POST", "/channel-configurations", map[string]any{"name": "Console push", "channel": "push", "category": "transactional",
		"push": map[string]any{"apps": []any{map[string]any{"appId": "console-ios", "platform": "APNS", "platformApplicationArn": *app.PlatformApplicationArn}}}}, 201, &cfg); err != nil {
		t.Fatal(err)
	}
	if err := api.Do(ctx, "POST", "/campaigns", map[string]any{"name": "Console push", "type": "transactional", "channel": "push",
		"channelConfigurationId": cfg.ID}, 201, &camp); err != nil {
		t.Fatal(err)
	}
	tb := newTab(t)
	tb.signIn(false)
	tb.open("#/campaigns/" + camp.ID + "/content")
	tb.waitFor(`!!document.querySelector('[data-field="content.push.title"]')`)
	tb.typeInto(`[data-field="content.push.title"]`, "Order ")
	// The personalization panel inserts a path at the cursor of the last field.
	tb.setValue(`input[name=insertPath]`, "context.orderId")
	tb.clickText("Insert into the last field")
	tb.typeInto(`[data-field="content.push.title"]`, " shipped")
	tb.waitFor(`document.querySelector('#preview').textContent.includes('"title": "Order A-1001 shipped"')`)
	tb.setValue(`[data-field="content.push.badge"]`, "3")
	tb.setValue(`[data-field="content.push.data"]`, `{"orderId": "{{context.orderId}}"}`)
	tb.waitFor(`document.querySelector('#preview').textContent.includes('"badge": 3') && document.querySelector('#preview').textContent.includes('"orderId": "A-1001"')`)
	got := tb.text("#preview")
	for _, want := range []string{"APNS payload", "GCM payload", "of 4096 bytes"} {
		if !strings.Contains(got, want) {
			t.Errorf("the push preview lacks %q: %s", want, got)
		}
	}
	tb.check("content-push")
}
