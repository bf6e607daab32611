package preview_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/preview"
	"github.com/heraldhq/herald/internal/profile"
)

var experiment = &campaign.Experiment{Treatments: []campaign.Treatment{
	{Name: "control", Percent: 40},
	{Name: "B", Percent: 40, Email: &campaign.EmailContent{Subject: "B {{profile.firstName}}", Text: "b"},
		Variants: map[string]campaign.Variant{"fr": {Email: &campaign.EmailContent{Subject: "B-fr {{context.x}}", Text: "b"}}}},
}}

// experimentCampaign is a draft whose content has an experiment: the
// control, treatment B (with a French variant) and a 20 % holdout.
func (f *fixture) experimentCampaign(t testing.TB) string {
	t.Helper()
	c, err := f.camps.CreateCampaign(context.Background(), acme, campaign.CampaignInput{Name: "Orders", Type: campaign.Transactional,
		Channel: campaign.Email, ChannelConfigID: f.cfgID, Audience: campaign.Audience{Namespace: "crmId"},
		Content: campaign.Content{Email: &campaign.EmailContent{Subject: "Hello {{profile.firstName}}", Text: "default"}, Experiment: experiment}})
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// userIn returns a userId (crmId) the experiment of campaign id assigns
// to treatment.
func userIn(id, treatment string) string {
	for i := 0; ; i++ {
		if u := fmt.Sprint(i); experiment.Assign(id, "crmId", u) == treatment {
			return u
		}
	}
}

func TestPreviewSaysWhichTreatmentARecipientGets(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	id := f.experimentCampaign(t)
	for _, tr := range []string{"control", "B", campaign.Holdout} {
		if err := f.store.Put(ctx, acme, profile.Profile{Namespace: "crmId", ID: userIn(id, tr), Locale: "fr-CA",
			Attributes: map[string]any{"firstName": "Zoé"}}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name                                 string
		in                                   preview.Request
		subject, treatment, variant, warning string
	}{
		{"a named treatment is rendered", preview.Request{Treatment: "B", Profile: obj(t, map[string]any{"firstName": "Luc"})}, "B Luc", "B", "default", ""},
		{"a named treatment's locale variant is chosen as Dispatch chooses it", preview.Request{Treatment: "B", Locale: "fr-CA"}, "B-fr", "B", "fr", ""},
		{"a recipient in B gets B in their locale", preview.Request{UserID: userIn(id, "B")}, "B-fr", "B", "fr", ""},
		{"a recipient in the control gets the default content", preview.Request{UserID: userIn(id, "control")}, "Hello Zoé", "control", "", ""},
		{"a recipient in the holdout is said to get nothing", preview.Request{UserID: userIn(id, campaign.Holdout)}, "Hello Zoé", campaign.Holdout, "",
			preview.CodeHoldout},
		{"without a treatment or a recipient the default content is rendered", preview.Request{}, "Hello", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.svc.Preview(ctx, acme, id, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			warning := ""
			if len(got.Warnings) > 0 {
				warning = got.Warnings[0].Code
			}
			if got.Email.Subject != tt.subject || got.Treatment != tt.treatment || got.Variant != tt.variant || warning != tt.warning {
				t.Errorf("preview = subject %q treatment %q variant %q warnings %v; want %q %q %q %q",
					got.Email.Subject, got.Treatment, got.Variant, got.Warnings, tt.subject, tt.treatment, tt.variant, tt.warning)
			}
		})
	}
	_, err := f.svc.Preview(ctx, acme, id, preview.Request{Treatment: "Z"})
	var de *derrors.Error
	if !errors.As(err, &de) || de.Kind != derrors.Invalid || len(de.Fields) != 1 || de.Fields[0].Field != "treatment" {
		t.Errorf("preview of an unknown treatment = %v, want a 400 naming treatment", err)
	}
}

func TestProofsSendTheTreatmentTheyName(t *testing.T) {
	f := newFixture(t)
	id := f.experimentCampaign(t)
	res, err := f.svc.Proofs(context.Background(), acme, id, preview.ProofRequest{Recipients: []string{"qa@example.com"}, Treatment: "B",
		Locale: "fr", Context: obj(t, map[string]any{"x": "!"})})
	if err != nil {
		t.Fatal(err)
	}
	if res.Treatment != "B" || res.Variant != "fr" {
		t.Errorf("proof result = treatment %q variant %q, want B fr", res.Treatment, res.Variant)
	}
	proofs := 0
	f.svc.NewID = func() string { proofs++; return fmt.Sprint("second-", proofs) }
	if res, err := f.svc.Proofs(context.Background(), acme, id, preview.ProofRequest{Recipients: []string{"qa@example.com"}}); err != nil || res.Results[0].Outcome != "sent" {
		t.Fatalf("proof naming no treatment: %+v, %v", res, err)
	}
	var got []string
	for _, e := range f.mailer.Sent() {
		got = append(got, e.Subject)
	}
	if want := []string{"[Proof] B-fr !", "[Proof] Hello"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("sent %q, want %q (a proof naming no treatment sends the default content)", got, want)
	}
	_, err = f.svc.Proofs(context.Background(), acme, id, preview.ProofRequest{Recipients: []string{"qa@example.com"}, Treatment: "holdout"})
	if !derrors.Is(err, derrors.Invalid) {
		t.Errorf("a proof of the holdout = %v, want a 400 naming treatment", err)
	}
}
