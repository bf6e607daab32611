package auth_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/memory"
)

var ring = auth.StaticKeyring{ID: "k1", Key: []byte(strings.Repeat("s", 32))}

// issue mints a key and trades its credentials for a token at now.
func issue(t *testing.T, store auth.KeyStore, scopes ...auth.Scope) (auth.Key, string, auth.Tokens) {
	t.Helper()
	k, secret := mintKey(t, store, scopes...)
	tokens := auth.Tokens{Keys: store, Keyring: ring}
	tok, err := tokens.Issue(context.Background(), k.ID, secret, now)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	if tok.ExpiresIn != 24*time.Hour || strings.Count(tok.AccessToken, ".") != 2 {
		t.Fatalf("Issue = %+v, want a JWT valid for 24 h", tok)
	}
	return k, tok.AccessToken, tokens
}

func bearer(tok string) auth.Headers { return auth.Headers{"authorization": "Bearer " + tok} }

func TestAccessTokenAuthenticatesAsItsKey(t *testing.T) {
	store := memory.New()
	k, tok, tokens := issue(t, store, auth.ScopeTrigger, auth.ScopeRead)
	at := func(d time.Duration) auth.Authenticator {
		return auth.Authenticator{Keys: store, Tokens: &tokens, Now: func() time.Time { return now.Add(d) }}
	}
	want := auth.Principal{KeyID: k.ID, Tenant: acme, Scopes: []auth.Scope{auth.ScopeTrigger, auth.ScopeRead}}

	got, err := at(time.Hour).Authenticate(context.Background(), auth.Headers{"authorization": "Bearer " + tok,
		"x-api-key": k.ID, "x-gw-ims-org-id": acme.Org, "x-sandbox-name": acme.Sandbox})
	if err != nil {
		t.Fatalf("Authenticate(token, AJO headers): %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("principal (-want +got):\n%s", diff)
	}
	if _, err := at(24*time.Hour-time.Second).Authenticate(context.Background(), bearer(tok)); err != nil {
		t.Errorf("a token one second before expiry: %v", err)
	}
	_, err = at(24*time.Hour).Authenticate(context.Background(), bearer(tok))
	if !derrors.Is(err, derrors.Unauthenticated) || !strings.Contains(err.Error(), "expired") {
		t.Errorf("an expired token: %v, want Unauthenticated naming expiry", err)
	}
	if _, err := at(0).Authenticate(context.Background(), auth.Headers{"authorization": "Bearer " + tok, "x-api-key": "hk_other"}); !derrors.Is(err, derrors.Unauthenticated) {
		t.Errorf("a token with another client's x-api-key: %v, want Unauthenticated", err)
	}
	if _, err := at(0).Authenticate(context.Background(), auth.Headers{"authorization": "Bearer " + tok, "x-gw-ims-org-id": "globex@AdobeOrg"}); !derrors.Is(err, derrors.Forbidden) {
		t.Errorf("a token sent for another org: %v, want Forbidden", err)
	}
	if _, err := (auth.Authenticator{Keys: store}).Authenticate(context.Background(), bearer(tok)); !derrors.Is(err, derrors.Unauthenticated) {
		t.Errorf("a token where tokens are not accepted: %v, want Unauthenticated", err)
	}
}

func TestTamperedTokensAreRefused(t *testing.T) {
	store := memory.New()
	_, tok, tokens := issue(t, store, auth.ScopeRead)
	other, _, _ := issue(t, store, auth.ScopeTrigger, auth.ScopeManage, auth.ScopeRead)
	a := auth.Authenticator{Keys: store, Tokens: &tokens, Now: func() time.Time { return now }}
	head, rest, _ := strings.Cut(tok, ".")
	payload, sig, _ := strings.Cut(rest, ".")
	claims, _ := base64.RawURLEncoding.DecodeString(payload)
	reencode := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	header, _ := base64.RawURLEncoding.DecodeString(head)

	forged := map[string]string{
		"scopes widened":         head + "." + reencode(strings.Replace(string(claims), `"scope":"read"`, `"scope":"read manage trigger"`, 1)) + "." + sig,
		"another key named":      head + "." + reencode(strings.Replace(string(claims), `"sub":"`, `"sub":"`+other.ID+`","x":"`, 1)) + "." + sig,
		"lifetime extended":      head + "." + reencode(strings.Replace(string(claims), `"exp":`, `"exp":9`, 1)) + "." + sig,
		"signature cut":          head + "." + payload + ".",
		"signature of another":   head + "." + payload + "." + reencode(strings.Repeat("x", 32)),
		"alg none":               reencode(strings.Replace(string(header), "HS256", "none", 1)) + "." + payload + ".",
		"unknown signing key id": reencode(strings.Replace(string(header), `"kid":"k1"`, `"kid":"k9"`, 1)) + "." + payload + "." + sig,
		"not base64":             "a.b.c",
		"four parts":             tok + ".x",
	}
	for name, f := range forged {
		t.Run(name, func(t *testing.T) {
			if f == tok {
				t.Fatal("the forgery is the token itself")
			}
			if _, err := a.Authenticate(context.Background(), bearer(f)); !derrors.Is(err, derrors.Unauthenticated) {
				t.Errorf("Authenticate(%s) error = %v, want Unauthenticated", name, err)
			}
		})
	}
	wrongKey := auth.Tokens{Keys: store, Keyring: auth.StaticKeyring{ID: "k1", Key: []byte(strings.Repeat("t", 32))}}
	if _, err := (auth.Authenticator{Keys: store, Tokens: &wrongKey}).Authenticate(context.Background(), bearer(tok)); !derrors.Is(err, derrors.Unauthenticated) {
		t.Errorf("a token checked with another signing key: %v, want Unauthenticated", err)
	}
}

func TestIssueRefusesWrongClients(t *testing.T) {
	store := memory.New()
	k, secret := mintKey(t, store, auth.ScopeRead)
	other, otherSecret := mintKey(t, store, auth.ScopeRead)
	tokens := auth.Tokens{Keys: store, Keyring: ring}
	for name, c := range map[string][2]string{
		"another key's id":        {other.ID, secret},
		"another key's secret":    {k.ID, otherSecret},
		"an unknown secret":       {k.ID, "hrld_" + strings.Repeat("z", 43)},
		"no client id":            {"", secret},
		"a secret without prefix": {k.ID, strings.TrimPrefix(secret, "hrld_")},
	} {
		if _, err := tokens.Issue(context.Background(), c[0], c[1], now); !derrors.Is(err, derrors.Unauthenticated) {
			t.Errorf("Issue(%s) error = %v, want Unauthenticated", name, err)
		}
	}
	down := auth.Tokens{Keys: failingKeys{err: errors.New("timeout")}, Keyring: ring}
	if _, err := down.Issue(context.Background(), k.ID, secret, now); !derrors.Is(err, derrors.Unavailable) {
		t.Errorf("Issue with the key store down: %v, want Unavailable", err)
	}
}

func TestTokenCarriesTheKeysScopesOnly(t *testing.T) {
	store := memory.New()
	k, tok, tokens := issue(t, store, auth.ScopeTrigger)
	c, err := tokens.Verify(context.Background(), tok, now)
	if err != nil {
		t.Fatal(err)
	}
	if c.Scope != "trigger" || c.KeyID != k.ID || c.ClientID != k.ID || c.Org != acme.Org || c.Sandbox != acme.Sandbox {
		t.Errorf("claims = %+v, want the key's id, tenant and scope trigger", c)
	}
}

func TestRevokedClientsTokensStopWorking(t *testing.T) {
	store := memory.New()
	k, tok, tokens := issue(t, store, auth.ScopeRead)
	a := auth.Authenticator{Keys: store, Tokens: &tokens, Now: func() time.Time { return now }}
	if _, err := a.Authenticate(context.Background(), bearer(tok)); err != nil {
		t.Fatalf("before revocation: %v", err)
	}
	if err := store.RevokeKey(context.Background(), k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(context.Background(), bearer(tok)); !derrors.Is(err, derrors.Unauthenticated) {
		t.Errorf("a revoked client's token: %v, want Unauthenticated", err)
	}
}

func TestRotationKeepsTokensAndRetiresTheOldSecret(t *testing.T) {
	store := memory.New()
	k, old := mintKey(t, store, auth.ScopeRead)
	tokens := auth.Tokens{Keys: store, Keyring: ring}
	tok, err := tokens.Issue(context.Background(), k.ID, old, now)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := auth.Rotate(context.Background(), store, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	a := auth.Authenticator{Keys: store, Tokens: &tokens, Now: func() time.Time { return now }}
	if _, err := a.Authenticate(context.Background(), bearer(old)); !derrors.Is(err, derrors.Unauthenticated) {
		t.Errorf("the old secret after rotation: %v, want Unauthenticated", err)
	}
	if p, err := a.Authenticate(context.Background(), bearer(fresh)); err != nil || p.KeyID != k.ID {
		t.Errorf("the new secret: %+v, %v; want key %s", p, err, k.ID)
	}
	if _, err := a.Authenticate(context.Background(), bearer(tok.AccessToken)); err != nil {
		t.Errorf("a token issued before rotation: %v, want it valid until it expires", err)
	}
	if _, err := auth.Rotate(context.Background(), store, "hk_unknown"); !derrors.Is(err, derrors.NotFound) {
		t.Errorf("Rotate(unknown) = %v, want NotFound", err)
	}
}

// countingKeys counts reads and can be switched off.
type countingKeys struct {
	auth.KeyReader
	reads int
	err   error
}

func (c *countingKeys) GetKey(ctx context.Context, h string) (auth.Key, error) {
	c.reads++
	if c.err != nil {
		return auth.Key{}, c.err
	}
	return c.KeyReader.GetKey(ctx, h)
}

func (c *countingKeys) GetKeyByID(ctx context.Context, id string) (auth.Key, error) {
	c.reads++
	if c.err != nil {
		return auth.Key{}, c.err
	}
	return c.KeyReader.GetKeyByID(ctx, id)
}

func TestCachedKeysRemembersAnswersForTheTTL(t *testing.T) {
	store := memory.New()
	k, secret := mintKey(t, store, auth.ScopeRead)
	counted := &countingKeys{KeyReader: store}
	clock := now
	cache := &auth.CachedKeys{Keys: counted, Now: func() time.Time { return clock }}
	a := auth.Authenticator{Keys: cache}
	for range 5 {
		if _, err := a.Authenticate(context.Background(), bearer(secret)); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Authenticate(context.Background(), bearer("hrld_"+strings.Repeat("u", 43))); !derrors.Is(err, derrors.Unauthenticated) {
			t.Fatal(err)
		}
	}
	if counted.reads != 2 {
		t.Errorf("10 requests with 2 credentials read the store %d times, want 2", counted.reads)
	}
	if err := store.RevokeKey(context.Background(), k.ID); err != nil {
		t.Fatal(err)
	}
	clock = now.Add(auth.CacheTTL - time.Second)
	if _, err := a.Authenticate(context.Background(), bearer(secret)); err != nil {
		t.Errorf("within the TTL the cached key still answers: %v", err)
	}
	clock = now.Add(auth.CacheTTL)
	if _, err := a.Authenticate(context.Background(), bearer(secret)); !derrors.Is(err, derrors.Unauthenticated) {
		t.Errorf("a revoked key after the TTL: %v, want Unauthenticated", err)
	}
	// A failure is not an answer: it is not remembered.
	counted.err = errors.New("timeout")
	clock = clock.Add(auth.CacheTTL)
	for range 2 {
		if _, err := a.Authenticate(context.Background(), bearer(secret)); !derrors.Is(err, derrors.Unavailable) {
			t.Errorf("with the store down: %v, want Unavailable", err)
		}
	}
	if counted.reads != 5 {
		t.Errorf("reads = %d, want 5 (two failures each read the store)", counted.reads)
	}
}

func TestStaticKeyringNamesItsKey(t *testing.T) {
	if _, err := ring.VerifyingKey(context.Background(), "other"); !derrors.Is(err, derrors.NotFound) {
		t.Errorf("VerifyingKey(other) = %v, want NotFound", err)
	}
}

// BenchmarkAuthenticateWarm is the per-request cost of authentication in
// a warm container: the key is in the cache, as for every call but one a
// minute.
func BenchmarkAuthenticateWarm(b *testing.B) {
	store := memory.New()
	k, secret, err := auth.Mint(context.Background(), store, acme, []auth.Scope{auth.ScopeTrigger}, now)
	if err != nil {
		b.Fatal(err)
	}
	cache := &auth.CachedKeys{Keys: store, Now: func() time.Time { return now }}
	tokens := auth.Tokens{Keys: cache, Keyring: ring}
	tok, err := tokens.Issue(context.Background(), k.ID, secret, now)
	if err != nil {
		b.Fatal(err)
	}
	a := auth.Authenticator{Keys: cache, Tokens: &tokens, Now: func() time.Time { return now }}
	for name, cred := range map[string]string{"secret": secret, "token": tok.AccessToken} {
		b.Run(name, func(b *testing.B) {
			h := auth.Headers{"authorization": "Bearer " + cred, "x-api-key": k.ID}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Authenticate(context.Background(), h); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
