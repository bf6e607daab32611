package console_test

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// axeSource is axe-core (MPL-2.0, testdata/axe/LICENSE), injected into
// each page under test only; the console never loads it.
//
//go:embed testdata/axe/axe.min.js
var axeSource string

// tab is one browser tab of the shared browser, with what it saw: the
// JavaScript dialogs it was asked to open (an XSS that ran would open
// one) and the exceptions its scripts threw.
type tab struct {
	t   *testing.T
	ctx context.Context

	mu         sync.Mutex
	dialogs    []string
	exceptions []string
}

// newTab opens a tab for t, closed when t ends. A test fails if a
// script of the console throws.
func newTab(t *testing.T) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(shared)
	tb := &tab{t: t, ctx: ctx}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil { // opens the tab
		cancel()
		t.Fatal(err)
	}
	dialogs := make(chan struct{}, 16)
	err := chromedp.Listen(ctx, func(ev any) {
		switch e := ev.(type) {
		case *page.EventJavascriptDialogOpening:
			tb.mu.Lock()
			tb.dialogs = append(tb.dialogs, string(e.Type)+": "+e.Message)
			tb.mu.Unlock()
			select {
			case dialogs <- struct{}{}:
			default:
			}
		case *runtime.EventExceptionThrown:
			tb.mu.Lock()
			d := e.ExceptionDetails
			msg := d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				msg = d.Exception.Description
			}
			tb.exceptions = append(tb.exceptions, fmt.Sprintf("%s (%s:%d)", msg, d.URL, d.LineNumber))
			tb.mu.Unlock()
		}
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	// A dialog stalls the page until it is answered: dismiss each.
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-dialogs:
				_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
			}
		}
	}()
	t.Cleanup(func() {
		tb.mu.Lock()
		for _, e := range tb.exceptions {
			t.Errorf("the console threw: %s", e)
		}
		tb.mu.Unlock()
		cancel()
	})
	return tb
}

// run runs actions in the tab, failing the test on an error.
func (tb *tab) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression (awaiting a promise).
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("eval %s: %v", firstLine(expr), err)
	}
	return v
}

// do evaluates a JavaScript statement for its effect.
func (tb *tab) do(expr string) {
	tb.t.Helper()
	eval[chromedp.Void](tb, expr)
}

// waitFor polls a JavaScript condition until it holds (20 s: a shared
// two-core machine can be slow).
func (tb *tab) waitFor(cond string) {
	tb.t.Helper()
	// The context bounds it too: a poll whose page goes away mid-poll
	// would otherwise wait on.
	ctx, cancel := context.WithTimeout(tb.ctx, 25*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](`(() => { try { return (`+cond+`); } catch { return false; } })()`,
		chromedp.WithPollingTimeout(20*time.Second), chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		state, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`location.hash + " | " + document.getElementById('status').textContent + " | " + document.getElementById('main').innerText.slice(0, 400)`))
		tb.t.Fatalf("waiting for %s: %v\npage: %s", cond, err, state)
	}
}

// text is the text of the first element matching a selector.
func (tb *tab) text(sel string) string {
	tb.t.Helper()
	return eval[string](tb, fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ""`, sel))
}

// open loads the console at a hash route.
func (tb *tab) open(hash string) {
	tb.t.Helper()
	tb.run("open "+hash, chromedp.Navigate(cloud.URL+"/console/"+hash))
}

// signIn signs in with the demo key: client credentials when withID,
// else the secret alone.
func (tb *tab) signIn(withID bool) {
	tb.t.Helper()
	tb.open("#/campaigns")
	tb.waitFor(`!!document.querySelector('form.signin')`)
	id := ""
	if withID {
		id = demo.KeyID
	}
	tb.do(fmt.Sprintf(`(() => { const f = document.querySelector('form.signin');
		f.client_id.value = %q; f.client_secret.value = %q; f.requestSubmit(); })()`, id, demo.Secret))
	tb.waitFor(`!!document.querySelector('#campaigns-h')`)
}

// setValue sets a control's value as typing would (an input event).
func (tb *tab) setValue(sel, value string) {
	tb.t.Helper()
	tb.do(fmt.Sprintf(`(() => { const el = document.querySelector(%q); el.value = %q;
		el.dispatchEvent(new Event('input', {bubbles: true})); el.dispatchEvent(new Event('change', {bubbles: true})); })()`, sel, value))
}

// typeInto types text into a control key by key, as a person does.
func (tb *tab) typeInto(sel, text string) {
	tb.t.Helper()
	tb.run("type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), text))
}

// click clicks the first element matching a selector with the mouse. A
// page that re-renders between finding the element and clicking it (a
// list refreshed by a request still in flight) replaces the node: the
// selector is then found again, a few times, rather than failing.
func (tb *tab) click(sel string) {
	tb.t.Helper()
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
		err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel)))
		cancel()
		if err == nil {
			return
		}
		if attempt == 5 || !strings.Contains(err.Error(), "Could not find node with given id") {
			tb.t.Fatalf("click %s: %v", sel, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// clickText clicks the first button or link whose text is text.
func (tb *tab) clickText(text string) {
	tb.t.Helper()
	tb.waitFor(fmt.Sprintf(`[...document.querySelectorAll('button, a')].some(b => b.textContent.trim() === %q)`, text))
	tb.do(fmt.Sprintf(`[...document.querySelectorAll('button, a')].find(b => b.textContent.trim() === %q).click()`, text))
}

// noDialogs fails the test if the page asked for a dialog (alert, confirm…).
func (tb *tab) noDialogs() {
	tb.t.Helper()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if len(tb.dialogs) > 0 {
		tb.t.Errorf("the page opened dialogs: %q", tb.dialogs)
	}
}

// axe runs axe-core on the page and fails the test on a serious or
// critical violation.
func (tb *tab) axe(pageName string) {
	tb.t.Helper()
	if !eval[bool](tb, `typeof window.axe === "object"`) {
		tb.run("inject axe", chromedp.Evaluate[chromedp.Void](axeSource))
	}
	raw := eval[string](tb, `axe.run(document, {resultTypes: ['violations']}).then(r => JSON.stringify(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))))`)
	var violations []struct {
		ID, Impact, Help string
		Nodes            []string
	}
	if err := json.Unmarshal([]byte(raw), &violations); err != nil {
		tb.t.Fatalf("axe: %v", err)
	}
	for _, v := range violations {
		tb.t.Errorf("%s: axe %s (%s): %s at %v", pageName, v.ID, v.Impact, v.Help, v.Nodes)
	}
}

// sizes are the screenshot viewports: a laptop and a phone.
var sizes = []struct{ w, h int64 }{{1280, 800}, {390, 844}}

// check runs axe on the page and photographs it at each size.
func (tb *tab) check(name string) {
	tb.t.Helper()
	tb.axe(name)
	for _, s := range sizes {
		tb.run("viewport", chromedp.EmulateViewport(s.w, s.h), chromedp.Sleep(150*time.Millisecond))
		png, err := chromedp.Run(tb.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			tb.t.Fatalf("screenshot %s: %v", name, err)
		}
		p := filepath.Join(shots, fmt.Sprintf("%s-%dx%d.png", name, s.w, s.h))
		if err := os.WriteFile(p, png, 0o644); err != nil {
			tb.t.Fatal(err)
		}
	}
	tb.run("viewport", chromedp.EmulateViewport(1280, 800))
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}
