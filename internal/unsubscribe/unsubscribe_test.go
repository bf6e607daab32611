package unsubscribe_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/tenant"
	"github.com/heraldhq/herald/internal/unsubscribe"
)

func TestTokens(t *testing.T) {
	s, err := unsubscribe.New(strings.Repeat("k", 32))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := unsubscribe.New(strings.Repeat("o", 32))
	c := unsubscribe.Claims{Tenant: tenant.Tenant{Org: "acme", Sandbox: "prod"}, Channel: "email", Address: "jane@example.com", CampaignID: "c1"}
	tok := s.Token(c)
	got, err := s.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c, got); diff != "" {
		t.Errorf("claims (-want +got):\n%s", diff)
	}
	body, sig, _ := strings.Cut(tok, ".")
	forged := strings.Replace(body, "YWNtZ", "Z2xvY", 1) + "." + sig // another tenant in the payload
	for name, bad := range map[string]string{
		"a flipped signature byte":      body + "." + flip(sig),
		"a flipped payload byte":        flip(body) + "." + sig,
		"another tenant in the payload": forged,
		"a token of another deployment": other.Token(c),
		"no signature":                  body,
		"empty":                         "",
		"garbage":                       "not.a-token",
	} {
		t.Run(name+" is rejected", func(t *testing.T) {
			if _, err := s.Verify(bad); !errors.Is(err, unsubscribe.ErrInvalid) {
				t.Errorf("Verify = %v, want ErrInvalid", err)
			}
		})
	}
	if _, err := unsubscribe.New("short"); err == nil {
		t.Error("New(short secret) succeeded")
	}
}

func flip(s string) string {
	b := []byte(s)
	if b[len(b)/2] == 'A' {
		b[len(b)/2] = 'B'
	} else {
		b[len(b)/2] = 'A'
	}
	return string(b)
}
