package dynamo_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/recurrence"
)

// A context is kept as JSON; a number beyond float64 (1e400) is valid
// JSON and must read back as sent, not fail every later read (a 500 on
// each GET, and a fan-out that could never load its execution).
func TestContextNumbersReadBackExactly(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	context := map[string]any{"huge": json.Number("1e400"), "exact": json.Number("12345678901234567890.5"), "s": "x"}

	rec := recurrence.Recurrence{ID: "r1", CampaignID: "c1", Expression: "rate(1 day)", TimeZone: "UTC", Context: context,
		ScheduleName: "h-r1", CreatedAt: now}
	if err := s.PutRecurrence(ctx, acme, rec); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetRecurrence(ctx, acme, "c1", "r1")
	if err != nil {
		t.Fatalf("GetRecurrence: %v", err)
	}
	if diff := cmp.Diff(context, got.Context); diff != "" {
		t.Errorf("GetRecurrence context (-want +got):\n%s", diff)
	}
	list, err := s.ListRecurrences(ctx, acme, "c1")
	if err != nil || len(list) != 1 {
		t.Fatalf("ListRecurrences = %d, %v; want 1, nil", len(list), err)
	}
	if diff := cmp.Diff(context, list[0].Context); diff != "" {
		t.Errorf("ListRecurrences context (-want +got):\n%s", diff)
	}

	ex := execution.AudienceExecution{ID: "ax1", RequestID: "rq1", CampaignID: "c1", Version: 1, Channel: "email", AudienceID: "a1",
		Context: context, CreatedAt: now, CreatedBy: "hk", State: execution.StateRunning}
	if err := s.BeginAudience(ctx, acme, execution.Record{RequestID: "rq1", BodyHash: "h", ExpiresAt: now.Add(execution.IdempotencyTTL)}, ex); err != nil {
		t.Fatal(err)
	}
	gotEx, err := s.GetAudienceExecution(ctx, acme, "ax1")
	if err != nil {
		t.Fatalf("GetAudienceExecution: %v", err)
	}
	if diff := cmp.Diff(context, gotEx.Context); diff != "" {
		t.Errorf("GetAudienceExecution context (-want +got):\n%s", diff)
	}
}

// encoding/json writes '<' as \u003c: a 190 KB context of markup, within
// the 200 KB limit, became a 1.1 MB document, over DynamoDB's 400 KB item.
func TestMarkupContextsFitTheirItem(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	context := map[string]any{"html": strings.Repeat("<a&b>", 38<<10)}
	rec := recurrence.Recurrence{ID: "r2", CampaignID: "c2", Expression: "rate(1 day)", TimeZone: "UTC", Context: context, ScheduleName: "h-r2", CreatedAt: now}
	if err := s.PutRecurrence(ctx, acme, rec); err != nil {
		t.Fatalf("PutRecurrence: %v", err)
	}
	ex := execution.AudienceExecution{ID: "ax2", RequestID: "rq2", CampaignID: "c2", Version: 1, Channel: "email", AudienceID: "a1",
		Context: context, CreatedAt: now, CreatedBy: "hk", State: execution.StateRunning}
	if err := s.BeginAudience(ctx, acme, execution.Record{RequestID: "rq2", BodyHash: "h", ExpiresAt: now.Add(execution.IdempotencyTTL)}, ex); err != nil {
		t.Fatalf("BeginAudience: %v", err)
	}
	got, err := s.GetRecurrence(ctx, acme, "c2", "r2")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(context, got.Context); diff != "" {
		t.Errorf("GetRecurrence context (-want +got):\n%s", diff)
	}
}
