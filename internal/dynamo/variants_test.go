package dynamo

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
)

// A document stored before content variants existed loads with none, and
// content without variants is stored exactly as it was before them.
func TestContentWithoutVariantsIsStoredAsBefore(t *testing.T) {
	const old = `{"channelConfigurationId":"cfg","content":{"email":{"subject":"Hi","html":"Hi there"}},"audience":{"namespace":"email"},"schedule":{}}`
	var d specDoc
	if err := json.Unmarshal([]byte(old), &d); err != nil {
		t.Fatal(err)
	}
	s := fromSpecDoc(d)
	if s.Content.Variants != nil || s.Content.Email == nil || s.Content.Email.Subject != "Hi" {
		t.Errorf("old document loads as %+v", s.Content)
	}
	b, err := json.Marshal(toSpecDoc(s))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(old, string(b)); diff != "" {
		t.Errorf("stored again (-before +now):\n%s", diff)
	}
}

func TestVariantsRoundTripThroughTheDocument(t *testing.T) {
	s := campaign.Spec{Content: campaign.Content{SMS: &campaign.SMSContent{Body: "Hi"},
		Variants: map[string]campaign.Variant{"fr": {SMS: &campaign.SMSContent{Body: "Salut"}}, "fr-CA": {SMS: &campaign.SMSContent{Body: "Allô"}}}}}
	roundTripSpec(t, s)
}

func TestExperimentsRoundTripThroughTheDocument(t *testing.T) {
	s := campaign.Spec{Content: campaign.Content{SMS: &campaign.SMSContent{Body: "Hi"},
		Experiment: &campaign.Experiment{Treatments: []campaign.Treatment{
			{Name: "control", Percent: 40},
			{Name: "B", Percent: 40.5, SMS: &campaign.SMSContent{Body: "Hey"},
				Variants: map[string]campaign.Variant{"fr": {SMS: &campaign.SMSContent{Body: "Coucou"}}}},
		}}}}
	roundTripSpec(t, s)
}

// roundTripSpec checks that s reads back as it was through the stored
// document.
func roundTripSpec(t *testing.T, s campaign.Spec) {
	t.Helper()
	b, err := json.Marshal(toSpecDoc(s))
	if err != nil {
		t.Fatal(err)
	}
	var d specDoc
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s, fromSpecDoc(d)); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}
