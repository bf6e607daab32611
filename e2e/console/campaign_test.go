package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// A new user walks the seven steps in the browser to a delivered email:
// create a draft, write the content while the preview follows, meet
// review's error and clear it from its link, set audience and schedule,
// activate, trigger with the copied request, and find the message in the
// outbox and its count in the execution.
func TestTheSevenStepsToADeliveredEmail(t *testing.T) {
	tb := newTab(t)
	tb.signIn(false) // the key secret alone, as the bearer

	// Steps 1 and 2: properties and action create the draft.
	tb.clickText("New campaign")
	tb.waitFor(`document.querySelectorAll('select[name=channelConfigurationId] option').length > 1`)
	tb.check("new-campaign")
	tb.setValue(`input[name=name]`, "Console: order shipped")
	tb.clickText("Create draft")

	// Step 3: the preview follows the typing.
	tb.waitFor(`!!document.querySelector('#preview-h')`)
	subject := `[data-field="content.email.subject"]`
	tb.typeInto(subject, "Order {{context.orderId}} for {{profile.person.name.firstName}}")
	tb.waitFor(`(document.querySelector('#preview-subject') || {}).textContent === 'Order A-1001 for Jane'`)

	// Step 6 before the body: review's error links to the field; writing
	// the body clears it.
	tb.clickText("6. Review & activate")
	tb.waitFor(`!!document.querySelector('#errors')`)
	if got := tb.text("#errors"); !strings.Contains(got, "content.email.html") {
		t.Fatalf("review errors %q, want content.email.html", got)
	}
	tb.check("review-errors")
	tb.clickText("content.email.html")
	tb.waitFor(`document.activeElement && document.activeElement.dataset.field === 'content.email.html'`)
	tb.typeInto(`[data-field="content.email.html"]`, "<h1>Hi {{profile.person.name.firstName}}</h1><p>Order <b>{{context.orderId}}</b> has shipped.</p>")
	tb.waitFor(`(document.querySelector('#preview iframe') || {}).srcdoc?.includes('Order <b>A-1001</b> has shipped')`)
	if sb := eval[string](tb, `document.querySelector('#preview iframe').getAttribute('sandbox')`); sb != "" {
		t.Errorf("the preview frame's sandbox is %q, want empty (no scripts, no same origin)", sb)
	}
	tb.check("content")

	// Steps 1, 2, 4 and 5 through their forms.
	tb.clickText("1. Properties")
	tb.waitFor(`!!document.querySelector('input[name=tags]')`)
	tb.check("properties")
	tb.setValue(`input[name=tags]`, "console, e2e")
	tb.clickText("Save and continue")
	tb.waitFor(`!!document.querySelector('select[name=channelConfigurationId]') && document.querySelector('select[name=channelConfigurationId]').value !== ''`)
	tb.check("action")
	tb.clickText("Save and continue")
	tb.waitFor(`!!document.querySelector('#preview-h')`)
	tb.clickText("4. Audience")
	tb.waitFor(`!!document.querySelector('input[name=namespace]')`)
	tb.setValue(`input[name=namespace]`, "email")
	tb.click(`#f-createProfiles`)
	tb.check("audience")
	tb.clickText("Save and continue")
	tb.waitFor(`!!document.querySelector('input[name=end]')`)
	tb.check("schedule")
	tb.clickText("Save and continue")

	// Step 6: no error left; activate.
	tb.waitFor(`!!document.querySelector('#errors-h') && document.querySelector('#errors-h').textContent === 'Errors (0)'`)
	tb.check("review")
	tb.clickText("Activate")

	// Step 7: the request, copied, its placeholders filled, and sent.
	tb.waitFor(`!!document.querySelector('#sample-body')`)
	if !strings.Contains(tb.text("#version-state"), "Live version: v1") {
		t.Errorf("version state %q, want live v1", tb.text("#version-state"))
	}
	tb.check("request")
	// A proof to a test address is really sent.
	tb.setValue(`input[name=recipients]`, "proof@example.com")
	tb.clickText("Send proof")
	tb.waitFor(`document.querySelector('form li') && document.querySelector('form li').textContent === 'proof@example.com: sent'`)
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := chromedp.CallBrowser(tb.ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: name}, Setting: browser.PermissionSettingGranted, Origin: cloud.URL,
		}); err != nil {
			t.Fatal(err)
		}
	}
	tb.clickText("Copy body")
	tb.waitFor(`document.getElementById('status').textContent.includes('body copied')`)
	copied := eval[string](tb, `navigator.clipboard.readText()`)
	var req map[string]any
	if err := json.Unmarshal([]byte(copied), &req); err != nil {
		t.Fatalf("the copied body is not JSON: %v\n%s", err, copied)
	}
	recipients, _ := req["recipients"].([]any)
	if len(recipients) != 1 {
		t.Fatalf("the copied body has %d recipients: %s", len(recipients), copied)
	}
	r := recipients[0].(map[string]any)
	r["namespace"], r["userId"], r["type"] = "email", "jane@example.com", "aep"
	r["context"] = map[string]any{"orderId": "C-4242"}
	r["profile"] = map[string]any{"person": map[string]any{"name": map[string]any{"firstName": "Sam"}}}
	req["requestId"] = fmt.Sprintf("console-%d", time.Now().UnixNano())
	trigger(t, req)
	if err := cloud.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}

	// The execution's counts.
	tb.clickText("Executions")
	tb.waitFor(`!!document.querySelector('#executions [data-count=sent]')`)
	if got := tb.text("#executions [data-count=sent]"); got != "1" {
		t.Errorf("sent %q, want 1", got)
	}
	tb.clickText("Details")
	tb.waitFor(`(document.querySelector('#execution-detail') || {}).textContent?.includes('sent: 1')`)
	// The campaign report: its counts (the proof's execution is the
	// campaign's too) and the hourly chart.
	tb.waitFor(`!!document.querySelector('#report-h') && !!document.querySelector('svg.chart polyline')`)
	if got := tb.text("#report-h + ul"); !strings.Contains(got, "Sent: 2") { // the proof and the trigger
		t.Errorf("campaign report %q, want Sent: 2", got)
	}
	tb.check("executions")

	// The outbox shows the rendered email.
	tb.click(`#nav-outbox`)
	tb.waitFor(`!!document.querySelector('#outbox-view iframe') && document.querySelector('#outbox-view iframe').srcdoc.includes('Order <b>C-4242</b> has shipped')`)
	if got := tb.text("#outbox-view h2"); got != "Order C-4242 for Sam" {
		t.Errorf("outbox subject %q", got)
	}
	tb.check("outbox")
	// From the message to its execution.
	tb.click(`#outbox-execution`)
	tb.waitFor(`(document.querySelector('#execution-detail') || {}).textContent?.includes('sent: 1')`)

	// An edit of the live campaign is a pending draft, and review shows
	// what it changes against the live version.
	tb.clickText("3. Content")
	tb.waitFor(`!!document.querySelector('#preview-h')`)
	tb.typeInto(subject, " today")
	tb.waitFor(`document.querySelector('#version-state').textContent.includes('pending draft')`)
	tb.clickText("6. Review & activate")
	tb.waitFor(`!!document.querySelector('.diff')`)
	if got := tb.text(".diff"); !strings.Contains(got, "content.email.subject") || !strings.Contains(got, "{{profile.person.name.firstName}} today") {
		t.Errorf("the diff %q does not show the subject's change", got)
	}
	tb.check("review-pending")

	// The request sent from the console itself (the live version).
	tb.clickText("7. Request")
	tb.waitFor(`!!document.querySelector('textarea[name=sendBody]')`)
	tb.do(`(() => { const ta = document.querySelector('textarea[name=sendBody]'); const b = JSON.parse(ta.value);
		Object.assign(b.recipients[0], {userId: 'jane@example.com', context: {orderId: 'D-7'}}); delete b.recipients[0].profile;
		ta.value = JSON.stringify(b); })()`)
	tb.clickText("Send request")
	tb.waitFor(`(document.querySelector('#send-result') || {}).textContent?.startsWith('Accepted: execution')`)
	if err := cloud.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	tb.clickText("See the execution")
	tb.waitFor(`(document.querySelector('#execution-detail') || {}).textContent?.includes('sent: 1')`)

	// The pending draft activated is version 2; versions 1 and 2 compare.
	tb.clickText("6. Review & activate")
	tb.waitFor(`!!document.querySelector('#errors-h')`)
	tb.clickText("Activate")
	tb.waitFor(`document.querySelector('#version-state').textContent.includes('Live version: v2')`)
	tb.clickText("6. Review & activate")
	tb.waitFor(`!!document.querySelector('select[name=versionA]')`)
	tb.clickText("Compare")
	tb.waitFor(`(document.querySelector('#version-diff') || {}).textContent?.includes('Changes from v1 to v2')`)
	if got := tb.text("#version-diff"); !strings.Contains(got, "content.email.subject") {
		t.Errorf("the versions' diff %q lacks the subject", got)
	}
	tb.check("versions")
	tb.noDialogs()
}

// trigger sends a unitary execution request as the copied sample has it.
func trigger(t *testing.T, body map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(http.MethodPost, cloud.URL+"/im/executions/unitary", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+demo.Secret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		out, _ := io.ReadAll(resp.Body)
		t.Fatalf("trigger: %d %s", resp.StatusCode, out)
	}
}
