package delivery_test

import (
	"context"
	"log/slog"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/profile"
)

// localized is email content with a French and a Canadian French variant.
var localized = campaign.Content{
	Email: &campaign.EmailContent{Subject: "Hello {{profile.firstName}}", Text: "default"},
	Variants: map[string]campaign.Variant{
		"fr":    {Email: &campaign.EmailContent{Subject: "Bonjour {{profile.firstName}}", Text: "fr"}},
		"fr-CA": {Email: &campaign.EmailContent{Subject: "Allô {{profile.firstName}}", Text: "fr-CA"}},
	},
}

func TestRecipientLocaleComesFromTheCallThenTheProfileThenTheConfiguration(t *testing.T) {
	tm, err := delivery.ParseContent(campaign.Email, localized)
	if err != nil {
		t.Fatalf("ParseContent: %v", err)
	}
	call := func(l any) delivery.Recipient {
		return delivery.Recipient{Profile: toObject(map[string]any{"locale": l, "firstName": "Ann"})}
	}
	tests := []struct {
		name        string
		r           delivery.Recipient
		stored      string
		cfgDefault  string
		wantLocale  string
		wantVariant string
	}{
		{"the call's profile locale wins over the stored profile and the configuration", call("fr-CA"), "en", "fr", "fr-CA", "fr-CA"},
		{"the stored profile's locale comes next", delivery.Recipient{}, "fr-FR", "fr-CA", "fr-FR", "fr"},
		{"the configuration's default locale comes last", delivery.Recipient{}, "", "fr-ca", "fr-ca", "fr-CA"},
		{"with no locale anywhere the default content is sent", delivery.Recipient{}, "", "", "", "default"},
		{"a regional locale without its variant falls back to the language", call("fr-BE"), "", "", "fr-BE", "fr"},
		{"a language without a variant falls back to the default content", call("de-DE"), "fr", "", "de-DE", "default"},
		{"tags match regardless of case", call("FR-ca"), "", "", "FR-ca", "fr-CA"},
		{"a call locale that is not a string is ignored", call(42), "fr", "", "fr", "fr"},
		{"an empty call locale is ignored", call(""), "", "fr-CA", "fr-CA", "fr-CA"},
		{"a proof's locale wins over everything", delivery.Recipient{Locale: "fr", Profile: call("fr-CA").Profile}, "en", "en", "fr", "fr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := delivery.RecipientLocale(tt.r, profile.Profile{Locale: tt.stored}, campaign.ChannelConfig{SMS: &campaign.SMSSettings{DefaultLocale: tt.cfgDefault}})
			if got != tt.wantLocale {
				t.Errorf("RecipientLocale = %q, want %q", got, tt.wantLocale)
			}
			if v := tm.For(got).Variant(); v != tt.wantVariant {
				t.Errorf("For(%q).Variant() = %q, want %q", got, v, tt.wantVariant)
			}
		})
	}
}

func TestContentWithoutVariantsNamesNoVariant(t *testing.T) {
	tm, err := delivery.ParseContent(campaign.Email, campaign.Content{Email: &campaign.EmailContent{Subject: "s", Text: "t"}})
	if err != nil {
		t.Fatalf("ParseContent: %v", err)
	}
	if got := tm.For("fr-CA"); got != tm || got.Variant() != "" {
		t.Errorf("For on content without variants = %p %q, want the content itself and no variant name", got, got.Variant())
	}
}

func TestAVariantsRenderErrorNamesTheVariant(t *testing.T) {
	c := campaign.Content{Email: &campaign.EmailContent{Subject: "s", Text: "t"},
		Variants: map[string]campaign.Variant{"fr": {Email: &campaign.EmailContent{Subject: `{{formatDate profile.n "yyyy"}}`, Text: "t"}}}}
	tm, err := delivery.ParseContent(campaign.Email, c)
	if err != nil {
		t.Fatalf("ParseContent: %v", err)
	}
	_, err = tm.For("fr").Render(delivery.Data(map[string]any{"n": "not a date"}, toObject(nil), nil), false)
	ce, ok := err.(*delivery.ContentError)
	if !ok || ce.Field != "content.variants.fr.email.subject" {
		t.Errorf("render error = %v, want one naming content.variants.fr.email.subject", err)
	}
	_, err = delivery.ParseContent(campaign.Email, campaign.Content{Email: c.Email,
		Variants: map[string]campaign.Variant{"de": {Email: &campaign.EmailContent{Subject: "{{#if}}"}}}})
	if ce, ok := err.(*delivery.ContentError); !ok || ce.Field != "content.variants.de.email.subject" {
		t.Errorf("parse error = %v, want one naming content.variants.de.email.subject", err)
	}
}

func TestDispatchSendsEachRecipientTheirVariantAndRecordsIt(t *testing.T) {
	ctx := context.Background()
	store, mailer := memory.New(), &memory.Mailer{}
	settings := defaultSettings
	settings.DefaultLocale = "fr"
	cfg := campaign.ChannelConfig{ID: "cfg-1", Name: "cfg", Channel: campaign.Email, Category: campaign.Transactional, Email: &settings, Revision: 1}
	if err := store.CreateConfig(ctx, acme, cfg); err != nil {
		t.Fatalf("CreateConfig: %v", err)
	}
	spec := campaign.Spec{ChannelConfigID: "cfg-1", Content: localized, Audience: campaign.Audience{Namespace: "email"}}
	c := campaign.Campaign{ID: "camp-1", Name: "c", Type: campaign.Transactional, Channel: campaign.Email, Status: campaign.StatusLive,
		Draft: spec, LiveVersion: 1, Revision: 1}
	if err := store.CreateCampaign(ctx, acme, c); err != nil {
		t.Fatalf("CreateCampaign: %v", err)
	}
	v := campaign.Version{CampaignID: "camp-1", Number: 1, Type: campaign.Transactional, Channel: campaign.Email, Spec: spec, ActivatedAt: t0}
	if err := store.Activate(ctx, acme, c, v, 1); err != nil {
		t.Fatalf("Activate: %v", err)
	}
	if err := store.Put(ctx, acme, profile.Profile{Namespace: "email", ID: "en@example.com", Locale: "en-US",
		Attributes: map[string]any{"firstName": "Ann"}}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	d := &delivery.Dispatcher{Campaigns: store, Profiles: store, Ledger: store, Mailer: mailer, Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return t0 }}
	err := d.Dispatch(ctx, job(
		delivery.Recipient{Type: "external", Namespace: "email", UserID: "ca@example.com", Profile: toObject(map[string]any{"locale": "fr-CA", "firstName": "Luc"})},
		delivery.Recipient{Type: "aep", Namespace: "email", UserID: "en@example.com"},
		delivery.Recipient{Type: "external", Namespace: "email", UserID: "fr@example.com", Profile: toObject(map[string]any{"firstName": "Zoé"})},
	))
	if err != nil {
		t.Fatalf("Dispatch: %v", err)
	}
	type sent struct{ To, Subject, Text string }
	var got []sent
	for _, e := range mailer.Sent() {
		got = append(got, sent{e.To, e.Subject, e.Text})
	}
	sort.Slice(got, func(i, j int) bool { return got[i].To < got[j].To })
	want := []sent{
		{"ca@example.com", "Allô Luc", "fr-CA"},
		{"en@example.com", "Hello Ann", "default"},
		{"fr@example.com", "Bonjour Zoé", "fr"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sent (-want +got):\n%s", diff)
	}
	variants := map[string]string{}
	for _, e := range store.AllEntries() {
		variants[e.UserID] = e.Variant
	}
	wantVariants := map[string]string{"ca@example.com": "fr-CA", "en@example.com": "default", "fr@example.com": "fr"}
	if diff := cmp.Diff(wantVariants, variants); diff != "" {
		t.Errorf("ledger variants (-want +got):\n%s", diff)
	}
}

func TestDispatchOfContentWithoutVariantsRecordsNone(t *testing.T) {
	f := newFixture(t, defaultContent, defaultSettings)
	r := delivery.Recipient{Type: "external", Namespace: "email", UserID: "jane@example.com", Profile: toObject(map[string]any{"locale": "fr"})}
	if err := f.d.Dispatch(context.Background(), job(r)); err != nil {
		t.Fatalf("Dispatch: %v", err)
	}
	for _, e := range f.store.AllEntries() {
		if e.Outcome != delivery.Sent || e.Variant != "" {
			t.Errorf("entry %s: outcome %s variant %q, want sent and no variant", e.UserID, e.Outcome, e.Variant)
		}
	}
}

func TestAVariantWritesDatesAndNumbersInItsLocale(t *testing.T) {
	const src = `{{formatDate context.at "EEEE d MMMM"}} {{formatNumber context.total 2}}`
	c := campaign.Content{SMS: &campaign.SMSContent{Body: src},
		Variants: map[string]campaign.Variant{"fr-CA": {SMS: &campaign.SMSContent{Body: src}}, "tlh": {SMS: &campaign.SMSContent{Body: src}}}}
	tm, err := delivery.ParseContent(campaign.SMS, c)
	if err != nil {
		t.Fatalf("ParseContent: %v", err)
	}
	data := delivery.Data(nil, toObject(nil), toObject(map[string]any{"at": "2026-07-14T12:00:00Z", "total": 1234.5}))
	for _, tt := range []struct{ locale, want string }{
		{"", "Tuesday 14 July 1234.50"},
		{"fr-CA", "mardi 14 juillet 1\u00a0234,50"},
		{"tlh", "Tuesday 14 July 1234.50"}, // a variant of a locale without CLDR data here: as the default
	} {
		r, err := tm.For(tt.locale).Render(data, false)
		if err != nil {
			t.Fatalf("Render %q: %v", tt.locale, err)
		}
		if r.SMS.Body != tt.want {
			t.Errorf("variant for %q renders %q, want %q", tt.locale, r.SMS.Body, tt.want)
		}
	}
}
