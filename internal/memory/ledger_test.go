package memory_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/storetest"
	"github.com/heraldhq/herald/internal/tally"
	"github.com/heraldhq/herald/internal/tenant"
)

func TestLedgerContract(t *testing.T) {
	storetest.Ledger(t, storetest.LedgerHarness{
		New: func(*testing.T) storetest.LedgerStore { return memory.New() },
		PutLegacy: func(_ *testing.T, s storetest.LedgerStore, tn tenant.Tenant, e delivery.Entry) {
			s.(*memory.Store).PutLegacyEntry(tn, e)
		},
	})
}

func TestFeedbackContract(t *testing.T) {
	storetest.Feedback(t, func(*testing.T) storetest.FeedbackStore { return memory.New() })
}

// The memory store has no stream: its Tally moves the campaign's send
// counts itself, as the Reports function does from the table's stream.
func TestTallyKeepsTheCampaignsSendCounts(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	acme := tenant.Tenant{Org: "acme", Sandbox: "prod"}
	if err := s.Begin(ctx, acme, execution.Record{RequestID: "r-1"}, execution.Execution{ID: "ex-1", CampaignID: "c-1", RecipientCount: 2}); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		tag string
		o   delivery.Outcome
	}{{"a", delivery.Ambiguous("timeout")}, {"b", delivery.ExcludedSuppressed}, {"a", delivery.Sent}, {"a", delivery.Sent}} {
		if err := s.Tally(ctx, acme, "ex-1", 0, step.tag, step.o, ""); err != nil {
			t.Fatal(err)
		}
	}
	total, _, err := s.CampaignOutcomes(ctx, acme, "c-1", time.Time{})
	want := tally.Delta{Targeted: 2, Outcomes: map[string]int64{"sent": 1, "excluded:suppressed": 1}}
	if diff := cmp.Diff(want, total); diff != "" || err != nil {
		t.Errorf("CampaignOutcomes (-want +got):\n%s%v", diff, err)
	}
}
