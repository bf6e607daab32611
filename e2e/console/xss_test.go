package console_test

import (
	"context"
	"strings"
	"testing"
	"time"
)

// Markup in a campaign's name, content and a preview's context stays
// inert: names and rendered subjects are text, the email runs in a frame
// without scripts or the console's origin, and no dialog ever opens.
func TestMarkupFromTheAPIStaysInert(t *testing.T) {
	const name = `<img src=x onerror="alert('name');window.__pwned=1">`
	api := demo.Client(cloud.URL)
	var created struct{ ID string }
	err := api.Do(context.Background(), "POST", "/campaigns", map[string]any{
		"name": name, "type": "transactional", "channel": "email",
		"content": map[string]any{"email": map[string]any{
			"subject": `{{context.x}} <script>alert('subject')</script>`,
			"html":    `<script>alert('html');parent.__pwned=1</script><img src=x onerror="alert('img')"><p id=ctx>{{context.x}}</p><a href="javascript:alert('href')">go</a>`,
		}},
	}, 201, &created)
	if err != nil {
		t.Fatal(err)
	}

	tb := newTab(t)
	tb.signIn(false)
	tb.setValue(`input[name=name]`, "<img")
	tb.clickText("Filter")
	tb.waitFor(`[...document.querySelectorAll('td a')].some(a => a.textContent.includes('onerror'))`)
	if got := eval[string](tb, `[...document.querySelectorAll('td a')].find(a => a.textContent.includes('onerror')).textContent`); got != name {
		t.Errorf("the list shows the name as %q, want the text %q", got, name)
	}

	tb.open("#/campaigns/" + created.ID + "/content")
	tb.waitFor(`!!document.querySelector('textarea[name=sampleContext]')`)
	if got := tb.text("#campaign-h"); got != name {
		t.Errorf("the heading shows %q, want the text %q", got, name)
	}
	tb.setValue(`textarea[name=sampleContext]`, `{"x": "<img src=x onerror=\"alert('context')\">"}`)
	tb.waitFor(`(document.querySelector('#preview-subject') || {}).textContent?.startsWith("<img src=x onerror")`)
	tb.waitFor(`!!document.querySelector('#preview iframe')`)
	// Give any script that could run the time to run.
	time.Sleep(500 * time.Millisecond)

	if n := eval[int](tb, `document.querySelectorAll('img[src="x"], script:not([src]), [onerror]').length`); n != 0 {
		t.Errorf("%d injected elements in the console's document", n)
	}
	if eval[bool](tb, `window.__pwned !== undefined`) {
		t.Error("a script from the API ran in the console")
	}
	if !eval[bool](tb, `document.querySelector('#preview iframe').contentDocument === null`) {
		t.Error("the preview frame shares the console's origin")
	}
	if srcdoc := eval[string](tb, `document.querySelector('#preview iframe').srcdoc`); !strings.Contains(srcdoc, "&lt;img src") {
		t.Errorf("the context value is not escaped in the rendered HTML: %s", srcdoc)
	}
	tb.noDialogs()

	// The control: a dialog the page does open is seen.
	tb.do(`setTimeout(() => alert('probe'), 0)`)
	tb.waitFor(`true`)
	deadline := time.Now().Add(5 * time.Second)
	for {
		tb.mu.Lock()
		n := len(tb.dialogs)
		tb.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the probe's dialog was not seen (%d dialogs)", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
