package preview_test

import (
	"context"
	"testing"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/preview"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/strictjson"
)

// localizedCampaign is a draft with a French and a Canadian French
// variant.
func (f *fixture) localizedCampaign(t testing.TB) string {
	t.Helper()
	c, err := f.camps.CreateCampaign(context.Background(), acme, campaign.CampaignInput{Name: "Orders", Type: campaign.Transactional,
		Channel: campaign.Email, ChannelConfigID: f.cfgID, Audience: campaign.Audience{Namespace: "crmId"},
		Content: campaign.Content{Email: &campaign.EmailContent{Subject: "Hello {{profile.firstName}}", Text: "default"},
			Variants: map[string]campaign.Variant{
				"fr":    {Email: &campaign.EmailContent{Subject: "Bonjour {{profile.firstName}}", Text: "fr"}},
				"fr-CA": {Email: &campaign.EmailContent{Subject: "Allô {{profile.firstName}} {{context.x}}", Text: "fr-CA"}},
			}}})
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func TestPreviewRendersTheVariantOfALocale(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	id := f.localizedCampaign(t)
	if err := f.store.Put(ctx, acme, profile.Profile{Namespace: "crmId", ID: "7", Locale: "fr-FR", Attributes: map[string]any{"firstName": "Zoé"}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                           string
		in                             preview.Request
		subject, locale, variant, text string
		vars                           int
	}{
		{"the request's locale picks the variant", preview.Request{Locale: "fr-ca", Profile: obj(t, map[string]any{"firstName": "Luc"})},
			"Allô Luc", "fr-ca", "fr-CA", "fr-CA", 2},
		{"without one, the profile's locale does, as in a trigger", preview.Request{Profile: obj(t, map[string]any{"locale": "fr-BE", "firstName": "Luc"})},
			"Bonjour Luc", "fr-BE", "fr", "fr", 1},
		{"then the stored profile's", preview.Request{UserID: "7"}, "Bonjour Zoé", "fr-FR", "fr", "fr", 1},
		{"a locale without a variant renders the default content", preview.Request{Locale: "de", Profile: obj(t, map[string]any{"firstName": "Max"})},
			"Hello Max", "de", "default", "default", 1},
		{"no locale at all renders the default content", preview.Request{}, "Hello", "", "default", "default", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.svc.Preview(ctx, acme, id, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got.Email.Subject != tt.subject || got.Email.Text != tt.text || got.Locale != tt.locale || got.Variant != tt.variant || len(got.Variables) != tt.vars {
				t.Errorf("preview = subject %q text %q locale %q variant %q variables %v; want %q %q %q %q and %d variables",
					got.Email.Subject, got.Email.Text, got.Locale, got.Variant, got.Variables, tt.subject, tt.text, tt.locale, tt.variant, tt.vars)
			}
		})
	}
	if _, err := f.svc.Preview(ctx, acme, id, preview.Request{Locale: "not a locale"}); !derrors.Is(err, derrors.Invalid) {
		t.Errorf("preview with a malformed locale = %v, want a 400", err)
	}
}

func TestPreviewUsesTheConfigurationsDefaultLocale(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	id := f.localizedCampaign(t)
	edit, err := strictjson.ParsePatch[campaign.ConfigInput]([]byte(`{"email":{"defaultLocale":"fr"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.camps.UpdateConfig(ctx, acme, f.cfgID, edit, 0); err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.Preview(ctx, acme, id, preview.Request{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Variant != "fr" || got.Locale != "fr" {
		t.Errorf("preview = locale %q variant %q, want the configuration's fr", got.Locale, got.Variant)
	}
}

func TestPreviewOfContentWithoutVariantsNamesNone(t *testing.T) {
	f := newFixture(t)
	id := f.campaign(t, false)
	got, err := f.svc.Preview(context.Background(), acme, id, preview.Request{Locale: "fr"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Variant != "" || got.Locale != "" {
		t.Errorf("preview = locale %q variant %q, want neither", got.Locale, got.Variant)
	}
}

func TestProofsSendTheVariantOfTheirLocale(t *testing.T) {
	f := newFixture(t)
	id := f.localizedCampaign(t)
	res, err := f.svc.Proofs(context.Background(), acme, id, preview.ProofRequest{Recipients: []string{"qa@example.com"}, Locale: "fr-CA",
		Profile: obj(t, map[string]any{"firstName": "Luc"}), Context: obj(t, map[string]any{"x": "!"})})
	if err != nil {
		t.Fatal(err)
	}
	if res.Variant != "fr-CA" || res.Locale != "fr-CA" {
		t.Errorf("proof result = locale %q variant %q, want fr-CA", res.Locale, res.Variant)
	}
	sent := f.mailer.Sent()
	if len(sent) != 1 || sent[0].Subject != "[Proof] Allô Luc !" {
		t.Errorf("sent %+v, want the fr-CA proof", sent)
	}
}
