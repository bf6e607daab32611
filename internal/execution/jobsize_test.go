package execution_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/profile"
)

// On main, a recipient whose job was over SQS's limit failed at enqueue,
// after the idempotency and execution records (and new profiles) were
// stored: every retry was a 500. Now the call is refused first.
func TestUnitaryRefusesAJobOverTheQueueLimitBeforeStoringAnything(t *testing.T) {
	store, q := memory.New(), &memory.Queue{}
	putCampaign(t, store, "camp-1", campaign.StatusLive, campaign.Transactional,
		campaign.Spec{Audience: campaign.Audience{Namespace: "crmId", CreateProfiles: true}})
	before := store.Fingerprint()
	req := execution.UnitaryRequest{RequestID: "r", CampaignID: "camp-1", Recipients: []execution.Recipient{
		{Type: "aep", UserID: "1", Namespace: "crmId"},
		{Type: "aep", UserID: "2", Namespace: "crmId", Profile: toObject(map[string]any{"bio": strings.Repeat("x", delivery.MaxJobSize)})},
	}}
	_, err := newService(store, q).Execute(context.Background(), acme, "hk_1", req)
	var de *derrors.Error
	if !errors.As(err, &de) || de.Kind != derrors.TooLarge {
		t.Fatalf("Unitary() error = %v, want TooLarge", err)
	}
	var fields []string
	for _, f := range de.Fields {
		fields = append(fields, f.Field)
	}
	if diff := cmp.Diff([]string{"recipients[1]"}, fields); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	if store.Fingerprint() != before {
		t.Error("the refused call stored something (a record, an execution or a profile)")
	}
	if _, err := store.GetRecord(context.Background(), acme, "r"); !derrors.Is(err, derrors.NotFound) {
		t.Errorf("GetRecord after the refused call = %v, want NotFound", err)
	}
	if n := len(q.Jobs()); n != 0 {
		t.Errorf("%d jobs were enqueued, want none", n)
	}
	if got, _ := store.BatchGet(context.Background(), acme, []profile.Identity{crm("1"), crm("2")}); len(got) != 0 {
		t.Errorf("%d profiles were created, want none", len(got))
	}
}

func TestAudienceContextThatCannotFitAJobIsRefusedBeforeStoringAnything(t *testing.T) {
	q := &memory.Queue{}
	svc, store, sched := audienceSetup(t, 3, 0, q)
	before := store.Fingerprint()
	// A thousand members of the longest identities make a job over the limit
	// with no context at all: the worst case is what is checked.
	svc.JobSize = 1000
	_, err := svc.Start(context.Background(), acme, "hk", execution.AudienceRequest{RequestID: "r1", CampaignID: "mk", Context: map[string]any{"k": "v"}})
	var de *derrors.Error
	if !errors.As(err, &de) || de.Kind != derrors.TooLarge || len(de.Fields) != 1 || de.Fields[0].Field != "context" {
		t.Fatalf("Start() error = %v, want TooLarge naming context", err)
	}
	if store.Fingerprint() != before || len(q.Jobs()) != 0 || len(sched.Schedules()) != 0 {
		t.Error("the refused execution stored, queued or scheduled something")
	}
	// The default job size leaves room for the largest context.
	svc.JobSize = 0
	big := map[string]any{"blob": strings.Repeat("\u2028", (execution.MaxContextSize-20)/6)}
	if _, err := svc.Start(context.Background(), acme, "hk", execution.AudienceRequest{RequestID: "r2", CampaignID: "mk", Context: big}); err != nil {
		t.Errorf("Start(the largest context) = %v, want it accepted", err)
	}
}
