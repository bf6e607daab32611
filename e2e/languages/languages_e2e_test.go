// Package languages_test checks content variants per locale end to end:
// Herald runs as `make run` does (moto, the gateway, every function), a
// campaign with a French and a Canadian French variant is triggered for
// recipients of different locales, and what moto really received and what
// the ledger recorded are read back.
package languages_test

import (
	"context"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/infra/contract"
	"github.com/heraldhq/herald/infra/localcloud"
	"github.com/heraldhq/herald/internal/tenant"
)

var cloud *localcloud.Cloud

func TestMain(m *testing.M) {
	os.Exit(localcloud.RunSuite(m, &cloud, localcloud.Options{Timing: &localcloud.FastTiming, Contract: contract.MustLoad(),
		Log: localcloud.TestLog()}))
}

// Three recipients: one whose call names fr-CA, one whose stored profile
// says fr-FR (no such variant: French), one with no locale at all. Each
// gets its content, and the ledger says which.
func TestEachRecipientGetsTheVariantOfTheirLocale(t *testing.T) {
	ctx := context.Background()
	acct, err := cloud.NewAccount(ctx, tenant.Tenant{Org: "LANG1@AdobeOrg", Sandbox: "prod"}, "lang1."+localcloud.DemoSenderDomain)
	if err != nil {
		t.Fatal(err)
	}
	var cfg, camp struct{ ID string }
	cloud.MustExpect(t, acct, "POST", "/channel-configurations", map[string]any{"name": "Orders", "channel": "email", "category": "transactional",
		"email": map[string]any{"fromName": "Shop", "fromAddress": "orders@" + acct.Domain}}, 201, &cfg)
	cloud.MustExpect(t, acct, "POST", "/campaigns", map[string]any{"name": "Shipped", "type": "transactional", "channel": "email",
		"channelConfigurationId": cfg.ID, "audience": map[string]any{"namespace": "email"},
		"content": map[string]any{
			"email": map[string]any{"subject": "Order {{context.orderId}} shipped", "html": "<p>Hello {{profile.firstName}}</p>"},
			"variants": map[string]any{
				"fr":    map[string]any{"email": map[string]any{"subject": "Commande {{context.orderId}} expédiée", "html": "<p>Bonjour {{profile.firstName}}</p>"}},
				"fr-CA": map[string]any{"email": map[string]any{"subject": "Commande {{context.orderId}} en route", "html": "<p>Allô {{profile.firstName}}</p>"}},
			}}}, 201, &camp)
	var review struct {
		Errors   []struct{ Code, Field string }
		Warnings []struct{ Code, Field string }
	}
	cloud.MustExpect(t, acct, "POST", "/campaigns/"+camp.ID+"/review", nil, 200, &review)
	if len(review.Errors) != 0 {
		t.Fatalf("review errors %+v, want none", review.Errors)
	}
	cloud.MustExpect(t, acct, "POST", "/campaigns/"+camp.ID+"/activate", nil, 200, nil)

	var preview struct {
		Email   struct{ Subject string }
		Locale  string
		Variant string
	}
	cloud.MustExpect(t, acct, "POST", "/campaigns/"+camp.ID+"/preview", map[string]any{"locale": "fr-ca", "context": map[string]any{"orderId": "A-1"}},
		200, &preview)
	if preview.Email.Subject != "Commande A-1 en route" || preview.Locale != "fr-ca" || preview.Variant != "fr-CA" {
		t.Errorf("preview with fr-ca = %+v, want the fr-CA variant", preview)
	}

	ca, fr, en := "luc@"+acct.Domain, "zoe@"+acct.Domain, "ann@"+acct.Domain
	cloud.MustExpect(t, acct, "PUT", "/profiles/email/"+fr, map[string]any{"locale": "fr-FR", "attributes": map[string]any{"firstName": "Zoé"}}, 200, nil)
	var accepted struct{ ExecutionID string }
	cloud.MustExpect(t, acct, "POST", "/im/executions/unitary", map[string]any{"requestId": "lang-1", "campaignId": camp.ID, "recipients": []any{
		map[string]any{"type": "external", "namespace": "email", "userId": ca, "profile": map[string]any{"locale": "fr-CA", "firstName": "Luc"},
			"context": map[string]any{"orderId": "A-1"}},
		map[string]any{"type": "aep", "namespace": "email", "userId": fr, "context": map[string]any{"orderId": "A-2"}},
		map[string]any{"type": "external", "namespace": "email", "userId": en, "profile": map[string]any{"firstName": "Ann"},
			"context": map[string]any{"orderId": "A-3"}},
	}}, http.StatusAccepted, &accepted)
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := cloud.Drain(dctx); err != nil {
		t.Fatal(err)
	}

	all, err := cloud.Moto.SentEmails(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type sent struct{ To, Subject, Body string }
	var got []sent
	for _, e := range all {
		for _, to := range e.Destinations.To {
			if strings.HasSuffix(to, "@"+acct.Domain) {
				got = append(got, sent{to, e.Subject, e.Body})
			}
		}
	}
	sort.Slice(got, func(i, j int) bool { return got[i].To < got[j].To })
	want := []sent{
		{en, "Order A-3 shipped", "<p>Hello Ann</p>"},
		{ca, "Commande A-1 en route", "<p>Allô Luc</p>"},
		{fr, "Commande A-2 expédiée", "<p>Bonjour Zoé</p>"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("what moto received (-want +got):\n%s", diff)
	}

	var page struct {
		Recipients []struct{ UserID, Outcome, Variant string }
	}
	cloud.MustExpect(t, acct, "GET", "/executions/"+accepted.ExecutionID+"/recipients", nil, 200, &page)
	variants := map[string]string{}
	for _, r := range page.Recipients {
		if r.Outcome != "sent" {
			t.Errorf("recipient %s: %s, want sent", r.UserID, r.Outcome)
		}
		variants[r.UserID] = r.Variant
	}
	if diff := cmp.Diff(map[string]string{ca: "fr-CA", fr: "fr", en: "default"}, variants); diff != "" {
		t.Errorf("the ledger's variants (-want +got):\n%s", diff)
	}
}

// A variant with a template error and a variable the others lack is named
// by its path in the review, and activation is refused.
func TestReviewNamesTheVariant(t *testing.T) {
	ctx := context.Background()
	acct, err := cloud.NewAccount(ctx, tenant.Tenant{Org: "LANG2@AdobeOrg", Sandbox: "prod"}, "lang2."+localcloud.DemoSenderDomain)
	if err != nil {
		t.Fatal(err)
	}
	var cfg, camp struct{ ID string }
	cloud.MustExpect(t, acct, "POST", "/channel-configurations", map[string]any{"name": "Orders", "channel": "email", "category": "transactional",
		"email": map[string]any{"fromName": "Shop", "fromAddress": "orders@" + acct.Domain, "defaultLocale": "de"}}, 201, &cfg)
	cloud.MustExpect(t, acct, "POST", "/campaigns", map[string]any{"name": "Shipped", "type": "transactional", "channel": "email",
		"channelConfigurationId": cfg.ID, "audience": map[string]any{"namespace": "email"},
		"content": map[string]any{
			"email": map[string]any{"subject": "Shipped", "text": "Hello"},
			"variants": map[string]any{
				"de": map[string]any{"email": map[string]any{"subject": "Versandt {{#if}}", "text": "Hallo {{profile.firstName}}"}},
			}}}, 201, &camp)
	type finding struct{ Code, Field string }
	var review struct{ Errors, Warnings []finding }
	cloud.MustExpect(t, acct, "POST", "/campaigns/"+camp.ID+"/review", nil, 200, &review)
	if diff := cmp.Diff([]finding{{"template_syntax", "content.variants.de.email.subject"}}, review.Errors); diff != "" {
		t.Errorf("review errors (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]finding{{"variant_variable_mismatch", "content.variants.de"}}, review.Warnings); diff != "" {
		t.Errorf("review warnings (-want +got):\n%s", diff)
	}
	cloud.MustExpect(t, acct, "POST", "/campaigns/"+camp.ID+"/activate", nil, 422, nil)
}
