package status_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/status"
	"github.com/heraldhq/herald/internal/tenant"
)

var acme = tenant.Tenant{Org: "acme", Sandbox: "prod"}

// store is a hand-written status.Store.
type store struct {
	sum     status.Summary
	counts  map[delivery.Outcome]int64
	entries []delivery.Entry
	query   status.Query
}

func (s *store) Summary(_ context.Context, _ tenant.Tenant, id string) (status.Summary, error) {
	if id != s.sum.ID {
		return status.Summary{}, derrors.New(derrors.NotFound, "no")
	}
	return s.sum, nil
}

func (s *store) Counts(context.Context, tenant.Tenant, string) (map[delivery.Outcome]int64, error) {
	return s.counts, nil
}

func (s *store) Page(_ context.Context, _ tenant.Tenant, _ string, q status.Query) ([]delivery.Entry, string, error) {
	s.query = q
	return s.entries, "next", nil
}

func (s *store) CampaignExecutions(_ context.Context, _ tenant.Tenant, campaignID, cursor string, limit int) ([]string, string, error) {
	if campaignID != s.sum.CampaignID {
		return nil, "", nil
	}
	return []string{s.sum.ID}, "", nil
}

// campaigns is a hand-written status.Campaigns knowing one campaign.
type campaigns string

func (c campaigns) GetCampaign(_ context.Context, _ tenant.Tenant, id string) (campaign.Campaign, error) {
	if id != string(c) {
		return campaign.Campaign{}, derrors.New(derrors.NotFound, "campaign %q not found", id)
	}
	return campaign.Campaign{ID: id}, nil
}

func TestACampaignListsItsExecutionsWithTheirStatus(t *testing.T) {
	s := &store{sum: status.Summary{ID: "ex", Kind: "audience", CampaignID: "cmp", Recipients: 3, Settled: true,
		RecurrenceID: "rec-1", QueuedBehind: 40 * time.Second}, counts: map[delivery.Outcome]int64{delivery.Sent: 3}}
	svc := &status.Service{Store: s, Campaigns: campaigns("cmp")}
	got, err := svc.ByCampaign(context.Background(), acme, "cmp", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Executions) != 1 || got.Executions[0].Status != status.Completed || got.Executions[0].RecurrenceID != "rec-1" {
		t.Fatalf("executions %+v, want ex completed, from rec-1", got.Executions)
	}
	w := got.Executions[0].Warnings
	if len(w) != 1 || w[0].Code != status.CodeQueuedBehind || !strings.Contains(w[0].Message, "40s") || !strings.Contains(w[0].Message, "recurrence") {
		t.Errorf("warnings %+v, want queued_behind naming 40s and the recurrence", w)
	}
	if _, err := svc.ByCampaign(context.Background(), acme, "other", "", 0); !derrors.Is(err, derrors.NotFound) {
		t.Errorf("an unknown campaign: %v, want not found", err)
	}
	for _, limit := range []int{-1, 101} {
		_, err := svc.ByCampaign(context.Background(), acme, "cmp", "", limit)
		var de *derrors.Error
		if !errors.As(err, &de) || len(de.Fields) != 1 || de.Fields[0].Field != "limit" {
			t.Errorf("limit %d: %v, want an error on limit", limit, err)
		}
	}
}

func TestStatusAddsUpEveryOutcome(t *testing.T) {
	tests := []struct {
		name string
		sum  status.Summary
		want string
		pend int64
	}{
		{"every recipient counted is completed", status.Summary{ID: "ex", Kind: "unitary", Recipients: 5, Settled: true}, status.Completed, 0},
		{"a recipient without an outcome is in progress", status.Summary{ID: "ex", Kind: "unitary", Recipients: 6, Settled: true}, status.InProgress, 1},
		{"an audience still being read is in progress", status.Summary{ID: "ex", Kind: "audience", Recipients: 5}, status.InProgress, 0},
		{"a cancelled audience execution failed", status.Summary{ID: "ex", Kind: "audience", Recipients: 5, Failed: "cancelled before it ran"}, status.Failed, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &store{sum: tt.sum, counts: map[delivery.Outcome]int64{delivery.Sent: 2, delivery.ExcludedNoAddress: 1,
				"failed:MessageRejected": 1, "ambiguous:5xx": 1}}
			got, err := (&status.Service{Store: s}).Get(context.Background(), acme, "ex")
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tt.want || got.Pending != tt.pend {
				t.Errorf("status %s pending %d, want %s %d", got.Status, got.Pending, tt.want, tt.pend)
			}
			if diff := cmp.Diff(status.Counts{Sent: 2, Excluded: 1, Failed: 1, Ambiguous: 1}, got.Counts); diff != "" {
				t.Errorf("counts (-want +got):\n%s", diff)
			}
		})
	}
	s := &store{sum: status.Summary{ID: "ex", Recipients: 3, Settled: true, Outside: map[delivery.Outcome]int64{delivery.ExcludedRateWindow: 3}}}
	got, _ := (&status.Service{Store: s}).Get(context.Background(), acme, "ex")
	if got.Status != status.Completed || got.Outcomes[string(delivery.ExcludedRateWindow)] != 3 {
		t.Errorf("members past the window = %+v, want them counted", got)
	}
	if _, err := (&status.Service{Store: s}).Get(context.Background(), acme, "other"); !derrors.Is(err, derrors.NotFound) {
		t.Errorf("unknown execution = %v, want NotFound", err)
	}
}

func TestRecipientsShowNoAddressAndValidateTheirQuery(t *testing.T) {
	k := delivery.Key{ExecutionID: "ex", Namespace: "crmId", UserID: "42", Channel: campaign.Email}
	t0 := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	s := &store{sum: status.Summary{ID: "ex"}, entries: []delivery.Entry{
		{Key: k, State: delivery.Done, Outcome: "failed:MessageRejected", Attempts: 1, ClaimedAt: t0, MessageID: "m"},
		{Key: delivery.Key{ExecutionID: "ex", Namespace: "crmId", UserID: "43", Channel: campaign.Email}, State: delivery.Claimed, LastCode: "Throttling", Attempts: 2},
	}}
	svc := &status.Service{Store: s}
	p, err := svc.Recipients(context.Background(), acme, "ex", status.Query{Outcome: "failed"})
	if err != nil {
		t.Fatal(err)
	}
	want := status.Page{Cursor: "next", Recipients: []status.Recipient{
		{Namespace: "crmId", UserID: "42", Channel: "email", State: "done", Outcome: "failed:MessageRejected", Reason: "MessageRejected", MessageID: "m", Attempts: 1, ClaimedAt: t0},
		{Namespace: "crmId", UserID: "43", Channel: "email", State: "claimed", Reason: "Throttling", Attempts: 2},
	}}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("page (-want +got):\n%s", diff)
	}
	if s.query.Limit != 50 {
		t.Errorf("default limit = %d, want 50", s.query.Limit)
	}
	for _, q := range []status.Query{{Outcome: "lost"}, {Outcome: "failed:"}, {Outcome: "sent:x"}, {Limit: 101}, {Outcome: "failed:a b"}} {
		if _, err := svc.Recipients(context.Background(), acme, "ex", q); !derrors.Is(err, derrors.Invalid) {
			t.Errorf("Recipients(%+v) = %v, want Invalid", q, err)
		}
	}
	if _, err := (&status.Service{Store: s}).Redrive(context.Background(), acme, "ex"); !derrors.Is(err, derrors.Unprocessable) {
		t.Errorf("Redrive without a redriver = %v, want Unprocessable", err)
	}
}
