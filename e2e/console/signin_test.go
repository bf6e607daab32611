package console_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// Signing in with client credentials trades them for an access token kept
// in sessionStorage only: not in localStorage, not in the URL.
func TestSignInKeepsTheTokenInSessionStorageOnly(t *testing.T) {
	tb := newTab(t)
	tb.open("")
	tb.waitFor(`!!document.querySelector('form.signin')`)
	tb.check("signin")
	tb.signIn(true)
	tb.waitFor(`document.body.textContent.includes('Order shipped')`)
	stored := eval[struct {
		Token     string  `json:"token"`
		ExpiresAt float64 `json:"expiresAt"`
		Kind      string  `json:"kind"`
	}](tb, `JSON.parse(sessionStorage.getItem('herald.session'))`)
	if stored.Kind != "token" || stored.Token == "" || stored.Token == demo.Secret || stored.ExpiresAt == 0 {
		t.Errorf("session = kind %q, token set %t, secret stored %t, expiresAt %v; want an access token with its expiry",
			stored.Kind, stored.Token != "", stored.Token == demo.Secret, stored.ExpiresAt)
	}
	if local := eval[int](tb, `localStorage.length`); local != 0 {
		t.Errorf("localStorage holds %d items, want none", local)
	}
	if url := eval[string](tb, `location.href`); strings.Contains(url, stored.Token) || strings.Contains(url, demo.Secret) {
		t.Errorf("the URL %s holds the credential", url)
	}
	tb.check("campaigns")
}

// An expired token (found at the next call, or by the timer on an idle
// page), or one the API refuses, sends the person back to sign in with a
// message, and forgets the token.
func TestAnExpiredTokenReturnsToSignIn(t *testing.T) {
	tb := newTab(t)
	tb.signIn(true)
	tb.do(`(() => { const s = JSON.parse(sessionStorage.getItem('herald.session')); s.expiresAt = Date.now() - 1000;
		sessionStorage.setItem('herald.session', JSON.stringify(s)); location.hash = '#/campaigns/new'; })()`)
	tb.waitFor(`!!document.querySelector('form.signin') && document.getElementById('status').textContent.includes('expired')`)
	if eval[bool](tb, `sessionStorage.getItem('herald.session') !== null`) {
		t.Error("the expired session is still stored")
	}

	// A token that expires while the page is idle: back to sign in
	// without a click.
	tb.signIn(true)
	tb.do(`(() => { const s = JSON.parse(sessionStorage.getItem('herald.session')); s.expiresAt = Date.now() + 300;
		sessionStorage.setItem('herald.session', JSON.stringify(s)); location.hash = '#/audiences'; })()`)
	tb.waitFor(`!!document.querySelector('form.signin') && document.getElementById('status').textContent.includes('expired')`)

	// A token the API no longer accepts: the first call's 401 signs out.
	tb.signIn(true)
	tb.do(`(() => { const s = JSON.parse(sessionStorage.getItem('herald.session')); s.token = 'hrld_at_revoked';
		sessionStorage.setItem('herald.session', JSON.stringify(s)); location.hash = '#/campaigns/new'; })()`)
	tb.waitFor(`!!document.querySelector('form.signin')`)
	if eval[bool](tb, `sessionStorage.getItem('herald.session') !== null`) {
		t.Error("the refused token is still stored")
	}
}

// The console is usable from the keyboard: Tab reaches the sign-in
// fields and the button in order, Enter signs in, and Tab then Enter
// follows the first link of the page.
func TestSignInAndNavigateWithTheKeyboard(t *testing.T) {
	tb := newTab(t)
	tb.open("")
	tb.waitFor(`!!document.querySelector('form.signin')`)
	focused := func() string {
		return eval[string](tb, `(document.activeElement.name || document.activeElement.textContent || '').trim()`)
	}
	want := []string{"Skip to content", "client_id", "client_secret", "Sign in"}
	for i, w := range want {
		tb.run("tab", chromedp.KeyEvent(kb.Tab))
		if got := focused(); got != w {
			t.Fatalf("Tab %d focuses %q, want %q", i+1, got, w)
		}
		switch w {
		case "client_id":
			tb.run("type", chromedp.KeyEvent(demo.KeyID))
		case "client_secret":
			tb.run("type", chromedp.KeyEvent(demo.Secret))
		}
	}
	tb.run("enter", chromedp.KeyEvent(kb.Enter))
	tb.waitFor(`!!document.querySelector('#campaigns-h')`)
	// The skip link leads to the content; its first link is New campaign.
	tb.do(`document.getElementById('main').focus()`)
	tb.run("tab", chromedp.KeyEvent(kb.Tab))
	if got := focused(); got != "New campaign" {
		t.Fatalf("the first control of the campaigns page is %q, want New campaign", got)
	}
	tb.run("enter", chromedp.KeyEvent(kb.Enter))
	tb.waitFor(`location.hash === '#/campaigns/new' && !!document.querySelector('input[name=name]')`)
}
