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
	_, err := svc.Start(context.Background(), acme, "hk", execution.AudienceRequest{RequestID: "r1", CampaignID: "mk", Context: toObject(map[string]any{"k": "v"})})
	var de *derrors.Error
	if !errors.As(err, &de) || de.Kind != derrors.TooLarge || len(de.Fields) != 1 || de.Fields[0].Field != "context" {
		t.Fatalf("Start() error = %v, want TooLarge naming context", err)
	}
	if store.Fingerprint() != before || len(q.Jobs()) != 0 || len(sched.Schedules()) != 0 {
		t.Error("the refused execution stored, queued or scheduled something")
	}
	// The default job size leaves room for the largest context.
	svc.JobSize = 0
	big := toObject(map[string]any{"blob": strings.Repeat("\u2028", (execution.MaxContextSize-20)/6)})
	if _, err := svc.Start(context.Background(), acme, "hk", execution.AudienceRequest{RequestID: "r2", CampaignID: "mk", Context: big}); err != nil {
		t.Errorf("Start(the largest context) = %v, want it accepted", err)
	}
}

// A call's recipients travel together in as few jobs as fit the queue's
// limit, in the call's order: each job is filled until the next recipient
// would take it over (sizes added without encoding every candidate, which
// the encodings here check).
func TestUnitaryRecipientsTravelInAsFewJobsAsFit(t *testing.T) {
	store, q := memory.New(), &memory.Queue{}
	putCampaign(t, store, "camp-1", campaign.StatusLive, campaign.Transactional, campaign.Spec{})
	var req execution.UnitaryRequest
	req.RequestID, req.CampaignID = "r", "camp-1"
	for i := range 5 {
		req.Recipients = append(req.Recipients, execution.Recipient{Type: "external", UserID: strings.Repeat("u", i+1), Namespace: "crmId",
			Context: toObject(map[string]any{"bio": strings.Repeat("x", delivery.MaxJobSize*2/5)})})
	}
	if _, err := newService(store, q).Execute(context.Background(), acme, "hk_1", req); err != nil {
		t.Fatal(err)
	}
	jobs := q.Jobs()
	var got [][]string
	for i, j := range jobs {
		var ids []string
		for _, r := range j.Recipients {
			ids = append(ids, r.UserID)
		}
		got = append(got, ids)
		b, err := delivery.EncodeJob(j)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > delivery.MaxJobSize {
			t.Errorf("job %d is %d bytes, over %d", i, len(b), delivery.MaxJobSize)
		}
		if i+1 < len(jobs) {
			grown := j
			grown.Recipients = append(append([]delivery.Recipient(nil), j.Recipients...), jobs[i+1].Recipients[0])
			if b, _ := delivery.EncodeJob(grown); len(b) <= delivery.MaxJobSize {
				t.Errorf("job %d had room for the next recipient (%d bytes with it)", i, len(b))
			}
		}
	}
	if diff := cmp.Diff([][]string{{"u", "uu"}, {"uuu", "uuuu"}, {"uuuuu"}}, got); diff != "" {
		t.Errorf("recipients by job (-want +got):\n%s", diff)
	}
}
