package campaign_test

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/memory"
)

func threeWay() *campaign.Experiment {
	return &campaign.Experiment{Treatments: []campaign.Treatment{
		{Name: "A", Percent: 45},
		{Name: "B", Percent: 30, Email: &campaign.EmailContent{Subject: "B", HTML: "b"}},
		{Name: "C", Percent: 12.5, Email: &campaign.EmailContent{Subject: "C", HTML: "c"}},
	}}
}

func TestAssignmentSplitsOneHundredThousandRecipientsWithinOnePercent(t *testing.T) {
	x := threeWay()
	const n = 100000
	got := map[string]int{}
	for i := range n {
		got[x.Assign("cmp-split", "crmId", fmt.Sprintf("user-%06d", i))]++
	}
	want := map[string]float64{"A": 45, "B": 30, "C": 12.5, campaign.Holdout: 12.5}
	for name, pct := range want {
		share := float64(got[name]) * 100 / n
		if math.Abs(share-pct) > 1 {
			t.Errorf("%s got %.2f %% of the recipients, want %.2f ± 1", name, share, pct)
		}
	}
	if len(got) != len(want) {
		t.Errorf("assigned to %v, want only %v", got, want)
	}
}

func TestAssignmentIsTheSameEveryTimeAndInEveryProcess(t *testing.T) {
	x := threeWay()
	// Golden: these buckets come from SHA-256 and must never change, or
	// people would switch treatments between executions of a campaign.
	golden := []struct {
		campaign, namespace, user string
		bucket                    int
		treatment                 string
	}{
		{"cmp-1", "email", "ada@example.com", 2064, "A"},
		{"cmp-1", "email", "bob@example.com", 2701, "A"},
		{"cmp-1", "email", "carol@example.com", 6824, "B"},
		{"cmp-1", "email", "dan@example.com", 6149, "B"},
		{"cmp-2", "email", "ada@example.com", 8860, campaign.Holdout},
		{"cmp-1", "crmId", "ada@example.com", 51, "A"},
		{"cmp-1", "crmId", "42", 164, "A"},
		{"cmp-1", "crmId", "user-8", 7722, "C"},
	}
	for _, g := range golden {
		if b := campaign.Bucket(g.campaign, g.namespace, g.user); b != g.bucket {
			t.Errorf("Bucket(%s, %s, %s) = %d, want %d", g.campaign, g.namespace, g.user, b, g.bucket)
		}
		for range 3 {
			if got := x.Assign(g.campaign, g.namespace, g.user); got != g.treatment {
				t.Errorf("Assign(%s, %s, %s) = %s, want %s", g.campaign, g.namespace, g.user, got, g.treatment)
			}
		}
	}
}

func TestAssignmentIsIndependentPerCampaign(t *testing.T) {
	same := 0
	for i := range 1000 {
		u := fmt.Sprint(i)
		if campaign.Bucket("cmp-a", "ns", u) == campaign.Bucket("cmp-b", "ns", u) {
			same++
		}
	}
	if same > 5 {
		t.Errorf("%d of 1000 recipients share their bucket in two campaigns; the campaign must change the hash", same)
	}
}

func TestAFullSplitHasNoHoldout(t *testing.T) {
	x := &campaign.Experiment{Treatments: []campaign.Treatment{{Name: "A", Percent: 50}, {Name: "B", Percent: 50}}}
	for i := range 5000 {
		if got := x.Assign("c", "ns", fmt.Sprint(i)); got == campaign.Holdout {
			t.Fatalf("recipient %d in the holdout of a split summing to 100", i)
		}
	}
	if h := x.HoldoutPercent(); h != 0 {
		t.Errorf("HoldoutPercent() = %v, want 0", h)
	}
	if h := threeWay().HoldoutPercent(); h != 12.5 {
		t.Errorf("HoldoutPercent() = %v, want 12.5", h)
	}
}

func TestExperimentsAreValidatedNamingTheField(t *testing.T) {
	tests := []struct {
		name string
		x    campaign.Experiment
		want []string
	}{
		{"no treatment", campaign.Experiment{}, []string{"content.experiment.treatments"}},
		{"six treatments", campaign.Experiment{Treatments: []campaign.Treatment{
			{Name: "a", Percent: 1}, {Name: "b", Percent: 1}, {Name: "c", Percent: 1}, {Name: "d", Percent: 1}, {Name: "e", Percent: 1}, {Name: "f", Percent: 1},
		}}, []string{"content.experiment.treatments"}},
		{"shares over 100", campaign.Experiment{Treatments: []campaign.Treatment{{Name: "a", Percent: 60}, {Name: "b", Percent: 40.01}}},
			[]string{"content.experiment.treatments"}},
		{"bad shares", campaign.Experiment{Treatments: []campaign.Treatment{{Name: "a", Percent: 0}, {Name: "b", Percent: 10.005}, {Name: "c", Percent: 101}}},
			[]string{"content.experiment.treatments.a.percent", "content.experiment.treatments.b.percent", "content.experiment.treatments.c.percent"}},
		{"bad names", campaign.Experiment{Treatments: []campaign.Treatment{{Name: "", Percent: 10}, {Name: "Holdout", Percent: 10}, {Name: "x", Percent: 10}, {Name: "X", Percent: 10}}},
			[]string{"content.experiment.treatments[0].name", "content.experiment.treatments.Holdout.name", "content.experiment.treatments.X.name"}},
		{"a treatment's content is checked as the default's", campaign.Experiment{Treatments: []campaign.Treatment{
			{Name: "B", Percent: 50, Email: &campaign.EmailContent{Subject: "a\nb", HTML: "x"},
				Variants: map[string]campaign.Variant{"not a tag": {Email: &campaign.EmailContent{Subject: "s", HTML: "x"}}}},
			{Name: "C", Percent: 50, SMS: &campaign.SMSContent{Body: "x"}},
		}}, []string{"content.experiment.treatments.B.email.subject", "content.experiment.treatments.B.variants.not a tag", "content.experiment.treatments.C.sms"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := emailCampaign(campaign.Transactional, okEmail)
			in.Content.Experiment = &tt.x
			_, err := newService(memory.New()).CreateCampaign(context.Background(), acme, in)
			got := fieldsOf(t, err, derrors.Invalid)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("invalid fields (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAValidExperimentIsStoredAndATreatmentWithoutContentIsTheControl(t *testing.T) {
	in := emailCampaign(campaign.Transactional, okEmail)
	in.Content.Experiment = threeWay()
	c, err := newService(memory.New()).CreateCampaign(context.Background(), acme, in)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(threeWay(), c.Draft.Content.Experiment); diff != "" {
		t.Errorf("stored experiment (-want +got):\n%s", diff)
	}
	a, _ := c.Draft.Content.Experiment.Treatment("A")
	if got := a.Content(c.Draft.Content); !a.Control() || got.Email.Subject != okEmail.Subject || got.Experiment != nil {
		t.Errorf("control A sends %+v, want the default content without the experiment", got)
	}
	b, _ := c.Draft.Content.Experiment.Treatment("B")
	if got := b.Content(c.Draft.Content); b.Control() || got.Email.Subject != "B" {
		t.Errorf("treatment B sends %+v, want its own content", got)
	}
}
