package status_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/status"
)

func TestStatusCountsRecipientsDeferredByQuietHoursAsPending(t *testing.T) {
	ctx := context.Background()
	parking := memory.New()
	job := func(userIDs ...string) delivery.Job {
		j := delivery.Job{Tenant: acme, ExecutionID: "ex-1", CampaignID: "c1", Version: 1, DeferUntil: time.Date(2026, 3, 29, 6, 0, 0, 0, time.UTC)}
		for _, id := range userIDs {
			j.Recipients = append(j.Recipients, delivery.Recipient{Type: delivery.TypeAEP, Namespace: "crmId", UserID: id})
		}
		return j
	}
	for _, p := range []delivery.ParkedJob{
		{ID: "q1", Job: job("a", "b"), Reason: delivery.ReasonQuietHours},
		{ID: "q2", Job: job("c"), Reason: delivery.ReasonQuietHours},
		{ID: "dlq", Job: job("d"), Reason: "dead-letter queue"}, // closed, counted as failed
	} {
		if err := parking.Park(ctx, acme, p); err != nil {
			t.Fatal(err)
		}
	}
	st := &store{sum: status.Summary{ID: "ex-1", Kind: "audience", CampaignID: "c1", Recipients: 5, Settled: true},
		counts: map[delivery.Outcome]int64{delivery.Sent: 1, delivery.FailedRetriesExhausted: 1}}
	svc := &status.Service{Store: st, Parked: parking}
	got, err := svc.Get(ctx, acme, "ex-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Pending != 3 || got.Deferred != 3 || got.Status != status.InProgress {
		t.Errorf("status = pending %d, deferred %d, %s; want 3 pending, all deferred, InProgress", got.Pending, got.Deferred, got.Status)
	}
	// Once they have their outcomes, nothing is read as deferred.
	st.counts[delivery.Sent] = 4
	if got, err := svc.Get(ctx, acme, "ex-1"); err != nil || got.Deferred != 0 || got.Status != status.Completed {
		t.Errorf("completed status = %+v, %v; want none deferred", got, err)
	}
}
