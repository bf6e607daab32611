package console_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// An audience is created and filled from a CSV file: good rows are added
// and counted, each bad row is named with what is wrong with it.
func TestAnAudienceIsFilledFromACSVFile(t *testing.T) {
	tb := newTab(t)
	tb.signIn(false)
	tb.click(`#nav-audiences`)
	tb.waitFor(`!!document.querySelector('#audiences-h')`)
	tb.setValue(`form input[name=name]`, "Console VIPs")
	tb.clickText("Create audience")
	tb.waitFor(`[...document.querySelectorAll('#audiences td')].some(td => td.textContent.startsWith('Console VIPs'))`)

	csv := filepath.Join(t.TempDir(), "members.csv")
	if err := os.WriteFile(csv, []byte("namespace,id\nemail,ada@example.com\nemail,grace@example.com\nbad namespace,x\ncrmId\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tb.run("choose the file", chromedp.SetUploadFiles(chromedp.CSS(`input[aria-label="CSV of members for Console VIPs"]`), []string{csv}))
	tb.waitFor(`(document.querySelector('.upload-result') || {}).textContent?.includes('2 added')`)
	got := tb.text(".upload-result")
	for _, want := range []string{"2 added; 2 rows refused.", "Row 4: the namespace", "Row 5: needs two columns"} {
		if !strings.Contains(got, want) {
			t.Errorf("upload result %q lacks %q", got, want)
		}
	}
	tb.waitFor(`[...document.querySelectorAll('#audiences [data-members]')].some(td => td.textContent === '2')`)
	tb.check("audiences")
}

// Suppressions are listed, added and lifted; the reputation guard shows
// each channel; a profile is looked up.
func TestSuppressionsAndProfileLookup(t *testing.T) {
	tb := newTab(t)
	tb.signIn(false)
	tb.open("#/suppressions")
	tb.waitFor(`!!document.querySelector('#supp-h')`)
	tb.setValue(`input[name=address]`, "blocked@example.com")
	tb.clickText("Suppress")
	tb.waitFor(`(document.querySelector('#suppressions') || {}).textContent?.includes('blocked@example.com')`)
	tb.setValue(`input[name=profileId]`, "jane@example.com")
	tb.clickText("Look up")
	tb.waitFor(`(document.querySelector('#profile-result') || {}).textContent?.includes('Jane')`)
	if got := tb.text("#reputation tbody"); !strings.Contains(got, "email") || !strings.Contains(got, "sending") {
		t.Errorf("the reputation guard shows %q, want email sending", got)
	}
	tb.check("suppressions")
	tb.do(`[...document.querySelectorAll('#suppressions button')].find(b => b.getAttribute('aria-label').includes('blocked@example.com')).click()`)
	tb.waitFor(`!(document.querySelector('#suppressions') || {textContent: ''}).textContent.includes('blocked@example.com')`)
}

// A draft is deleted from the list after its confirmation; the API's
// refusal of a bad name is shown with its field marked.
func TestListActionsAndFieldErrors(t *testing.T) {
	var created struct{ ID string }
	if err := demo.Client(cloud.URL).Do(context.Background(), "POST", "/campaigns", map[string]any{
		"name": "Console: delete me", "type": "transactional", "channel": "email"}, 201, &created); err != nil {
		t.Fatal(err)
	}
	tb := newTab(t)
	tb.signIn(false)
	tb.setValue(`input[name=name]`, "Console: delete")
	tb.clickText("Filter")
	// The filtered list replaces the whole one when its answer comes: a
	// click at the button's place before then could land on another
	// row's button (a loaded machine once duplicated a campaign so).
	tb.waitFor(`!!document.querySelector('button[aria-label="Delete Console: delete me"]') &&
		[...document.querySelectorAll('tbody tr')].every(r => r.textContent.includes('Console: delete'))`)
	tb.do(`document.querySelector('button[aria-label="Delete Console: delete me"]').click()`)
	tb.waitFor(`!!document.querySelector('dialog[open]')`)
	tb.check("confirm-delete")
	tb.do(`document.querySelector('dialog[open] button.danger').click()`)
	tb.waitFor(`!document.querySelector('button[aria-label="Delete Console: delete me"]') && document.body.textContent.includes('No campaigns match')`)

	tb.open("#/campaigns/new")
	tb.waitFor(`!!document.querySelector('input[name=name]')`)
	tb.setValue(`input[name=name]`, strings.Repeat("n", 300))
	tb.clickText("Create draft")
	tb.waitFor(`document.querySelector('input[name=name]').getAttribute('aria-invalid') === 'true'`)
	if got := tb.text(".notice.error"); !strings.Contains(got, "name") {
		t.Errorf("the error shown is %q, want the field name", got)
	}
}

// A deployment without a group of routes (audiences, execution lists,
// reports, the feedback webhook; the local outbox anywhere but the local runner) shows no
// broken panel: the links are hidden and the executions step says so.
func TestPanelsWhoseRoutesAreAbsentAreHidden(t *testing.T) {
	tb := newTab(t)
	// Before the console's scripts run, every such route answers 404 as
	// Manage's catch-all does for a path no route has.
	if _, err := chromedp.Call(tb.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `
		const realFetch = window.fetch;
		window.fetch = (url, opts) => /\/(audiences|local\/outbox|feedback-webhook)|\/executions|\/report/.test(String(url))
			? Promise.resolve(new Response('{"status":404,"title":"Not found","detail":"no route for /x"}', {status: 404, headers: {'Content-Type': 'application/json'}}))
			: realFetch(url, opts);`}); err != nil {
		t.Fatal(err)
	}
	tb.signIn(false)
	for _, link := range []string{"nav-audiences", "nav-outbox", "nav-webhook"} {
		if !eval[bool](tb, `document.getElementById('`+link+`').hidden`) {
			t.Errorf("%s shows though its routes answer 404", link)
		}
	}
	id := eval[string](tb, `decodeURIComponent(document.querySelector('td a').getAttribute('href').split('/')[2])`)
	tb.open("#/campaigns/" + id + "/executions")
	tb.waitFor(`document.getElementById('main').textContent.includes('does not list executions yet')`)
	if eval[bool](tb, `!!document.querySelector('#report-h')`) {
		t.Error("the report panel shows without its route")
	}
}

// A marketing campaign's audience is chosen among the tenant's audiences.
func TestAMarketingCampaignChoosesItsAudience(t *testing.T) {
	api := demo.Client(cloud.URL)
	ctx := context.Background()
	var aud, camp struct{ ID string }
	if err := api.Do(ctx, "POST", "/audiences", map[string]any{"name": "Console newsletter", "description": ""}, 201, &aud); err != nil {
		t.Fatal(err)
	}
	if err := api.Do(ctx, "POST", "/campaigns", map[string]any{"name": "Console newsletter", "type": "marketing", "channel": "email"}, 201, &camp); err != nil {
		t.Fatal(err)
	}
	tb := newTab(t)
	tb.signIn(false)
	tb.open("#/campaigns/" + camp.ID + "/audience")
	tb.waitFor(`!!document.querySelector('select[name=audienceId] option[value="` + aud.ID + `"]')`)
	tb.setValue(`select[name=audienceId]`, aud.ID)
	tb.clickText("Save and continue")
	tb.waitFor(`!!document.querySelector('input[name=deliveryRate]')`)
	var got struct {
		Draft struct {
			Audience struct{ AudienceID string }
		}
	}
	if err := api.Do(ctx, "GET", "/campaigns/"+camp.ID, nil, 200, &got); err != nil {
		t.Fatal(err)
	}
	if got.Draft.Audience.AudienceID != aud.ID {
		t.Errorf("the draft's audience is %q, want %q", got.Draft.Audience.AudienceID, aud.ID)
	}
}

// The feedback webhook is created (its secret shown once), its deliveries
// listed, and deleted after a confirmation.
func TestTheFeedbackWebhookIsCreatedAndDeleted(t *testing.T) {
	tb := newTab(t)
	tb.signIn(false)
	tb.waitFor(`!document.getElementById('nav-webhook').hidden`)
	tb.click(`#nav-webhook`)
	tb.waitFor(`!!document.querySelector('input[name=url]')`)
	tb.setValue(`input[name=webhookName]`, "Console feedback")
	tb.setValue(`input[name=url]`, "http://127.0.0.1:9/herald-feedback") // loopback is allowed locally only
	tb.clickText("Create webhook")
	tb.waitFor(`!!document.querySelector('#webhook-secret') && !!document.querySelector('#deliveries-h')`)
	if secret := tb.text("#webhook-secret"); len(secret) < 16 {
		t.Errorf("the secret shown is %q", secret)
	}
	tb.check("webhook")
	tb.clickText("Delete webhook")
	tb.waitFor(`!!document.querySelector('dialog[open]')`)
	tb.do(`document.querySelector('dialog[open] button.danger').click()`)
	tb.waitFor(`!!document.querySelector('input[name=url]')`)
}
