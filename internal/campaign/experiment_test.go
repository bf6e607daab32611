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

func TestPromotingATreatmentMakesItTheContentOfANewVersion(t *testing.T) {
	ctx := context.Background()
	store := memory.New()
	svc := newService(store)
	cfg, err := svc.CreateConfig(ctx, acme, emailCfg(campaign.Transactional))
	if err != nil {
		t.Fatal(err)
	}
	in := emailCampaign(campaign.Transactional, okEmail)
	in.ChannelConfigID = cfg.ID
	in.Content.Experiment = threeWay()
	in.Content.Experiment.Treatments[1].Variants = map[string]campaign.Variant{"fr": {Email: &campaign.EmailContent{Subject: "B-fr", HTML: "b"}}}
	c, err := svc.CreateCampaign(ctx, acme, in)
	if err != nil {
		t.Fatal(err)
	}
	if c, err = svc.Activate(ctx, acme, c.ID); err != nil || c.LiveVersion != 1 {
		t.Fatalf("Activate = %+v, %v", c, err)
	}
	if _, err := svc.PromoteTreatment(ctx, acme, c.ID, "B", c.Revision+5); !derrors.Is(err, derrors.Precondition) {
		t.Errorf("promote with a stale If-Match = %v, want a precondition failure", err)
	}
	for _, name := range []string{"", "Z", campaign.Holdout} {
		if _, err := svc.PromoteTreatment(ctx, acme, c.ID, name, 0); fmt.Sprint(fieldsOf(t, err, derrors.Invalid)) != "[treatment]" {
			t.Errorf("promote %q = %v, want an error on treatment", name, err)
		}
	}
	p, err := svc.PromoteTreatment(ctx, acme, c.ID, "B", c.Revision)
	if err != nil {
		t.Fatal(err)
	}
	want := campaign.Content{Email: &campaign.EmailContent{Subject: "B", HTML: "b"},
		Variants: map[string]campaign.Variant{"fr": {Email: &campaign.EmailContent{Subject: "B-fr", HTML: "b"}}}}
	if diff := cmp.Diff(want, p.Draft.Content); diff != "" || !p.DraftPending || p.Status != campaign.StatusLive {
		t.Errorf("after promoting B: status %s, pending %t, draft content (-want +got):\n%s", p.Status, p.DraftPending, diff)
	}
	live, err := svc.GetVersion(ctx, acme, c.ID, 1)
	if err != nil || live.Spec.Content.Experiment == nil {
		t.Errorf("the live version changed before activation: %+v, %v", live.Spec.Content, err)
	}
	a, err := svc.Activate(ctx, acme, c.ID)
	if err != nil || a.LiveVersion != 2 {
		t.Fatalf("Activate the promoted draft = %+v, %v; want version 2", a, err)
	}
	v2, _ := svc.GetVersion(ctx, acme, c.ID, 2)
	if diff := cmp.Diff(want, v2.Spec.Content); diff != "" {
		t.Errorf("version 2's content (-want +got):\n%s", diff)
	}
	if _, err := svc.PromoteTreatment(ctx, acme, c.ID, "B", 0); fmt.Sprint(fieldsOf(t, err, derrors.Invalid)) != "[treatment]" {
		t.Errorf("promote once the experiment ended = %v, want an error on treatment", err)
	}
	// Promoting the control keeps the default content and ends the experiment.
	in.Name = "c2"
	c2, _ := svc.CreateCampaign(ctx, acme, in)
	p2, err := svc.PromoteTreatment(ctx, acme, c2.ID, "A", 0)
	if err != nil || p2.Draft.Content.Experiment != nil || p2.Draft.Content.Email.Subject != okEmail.Subject {
		t.Errorf("promote the control = %+v, %v; want the default content without experiment", p2.Draft.Content, err)
	}
}
