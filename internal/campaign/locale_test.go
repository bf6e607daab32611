package campaign_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/memory"
)

func TestMatchLocaleFallsBackToTheLanguageThenTheDefault(t *testing.T) {
	tags := []string{"en", "fr", "fr-CA", "zh-Hant"}
	tests := []struct {
		locale, want string
	}{
		{"fr-CA", "fr-CA"},
		{"fr-ca", "fr-CA"},
		{"FR-CA", "fr-CA"},
		{"fr_CA", "fr-CA"},
		{"fr-FR", "fr"},
		{"fr", "fr"},
		{"Fr", "fr"},
		{"fr-Latn-CA", "fr"},
		{"zh-Hant-TW", "zh-Hant"},
		{"zh-Hans", ""},
		{"de-DE", ""},
		{"de", ""},
		{"", ""},
		{"f", ""},
	}
	for _, tt := range tests {
		if got := campaign.MatchLocale(tags, tt.locale); got != tt.want {
			t.Errorf("MatchLocale(%v, %q) = %q, want %q", tags, tt.locale, got, tt.want)
		}
	}
	if got := campaign.MatchLocale(nil, "fr"); got != "" {
		t.Errorf("MatchLocale without variants = %q, want the default content", got)
	}
}

func TestVariantsAreValidatedAsTheDefaultContentIs(t *testing.T) {
	in := emailCampaign(campaign.Transactional, okEmail)
	in.Content.Variants = map[string]campaign.Variant{
		"fr":        {Email: &campaign.EmailContent{Subject: "a\nb", HTML: "x"}},
		"FR":        {Email: &campaign.EmailContent{Subject: "ok", HTML: "x"}},
		"not a tag": {Email: &campaign.EmailContent{Subject: "ok", HTML: "x"}},
		"de":        {SMS: &campaign.SMSContent{Body: "x"}},
	}
	_, err := newService(memory.New()).CreateCampaign(context.Background(), acme, in)
	got := fieldsOf(t, err, derrors.Invalid)
	want := []string{"content.variants.de.sms", "content.variants.fr", "content.variants.fr.email.subject", "content.variants.not a tag"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("invalid fields (-want +got):\n%s", diff)
	}
}

func TestVariantsAreStoredAndPatchedPerLocale(t *testing.T) {
	ctx := context.Background()
	svc := newService(memory.New())
	in := emailCampaign(campaign.Transactional, okEmail)
	in.Content.Variants = map[string]campaign.Variant{
		"fr":    {Email: &campaign.EmailContent{Subject: "Bonjour", HTML: "<p>Salut</p>"}},
		"fr-CA": {Email: &campaign.EmailContent{Subject: "Allô", HTML: "<p>Salut</p>"}},
	}
	c, err := svc.CreateCampaign(ctx, acme, in)
	if err != nil {
		t.Fatalf("CreateCampaign: %v", err)
	}
	d, err := svc.UpdateCampaign(ctx, acme, c.ID, campaignPatch(t, `{"content":{"variants":{"fr-CA":null,"de":{"email":{"subject":"Hallo","text":"Hallo"}}}}}`), 0)
	if err != nil {
		t.Fatalf("UpdateCampaign: %v", err)
	}
	if diff := cmp.Diff([]string{"de", "fr"}, d.Draft.Content.Locales()); diff != "" {
		t.Errorf("locales after the patch (-want +got):\n%s", diff)
	}
	if got := d.Draft.Content.Variants["fr"].Email.Subject; got != "Bonjour" {
		t.Errorf("the fr variant the patch did not name became %q", got)
	}
}

func TestConfigurationDefaultLocaleIsABCP47Tag(t *testing.T) {
	ctx := context.Background()
	svc := newService(memory.New())
	cfg := validConfig()
	cfg.Email.DefaultLocale = "fr_CA!"
	_, err := svc.CreateConfig(ctx, acme, cfg)
	if diff := cmp.Diff([]string{"email.defaultLocale"}, fieldsOf(t, err, derrors.Invalid)); diff != "" {
		t.Errorf("invalid fields (-want +got):\n%s", diff)
	}
	cfg.Email.DefaultLocale = "fr-CA"
	got, err := svc.CreateConfig(ctx, acme, cfg)
	if err != nil || got.DefaultLocale() != "fr-CA" {
		t.Errorf("CreateConfig with fr-CA = %+v, %v", got, err)
	}
}
