package dynamo_test

import (
	"context"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/recurrence"
	"github.com/heraldhq/herald/internal/render"
)

// A context is kept as JSON; a number beyond float64 (1e400) is valid
// JSON and must read back as sent, not fail every later read (a 500 on
// each GET, and a fan-out that could never load its execution).
func TestContextNumbersReadBackExactly(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	// Members in the call's order (not sorted): they read back in it.
	context := render.MustParseObject(`{"s":"x","huge":1e400,"exact":12345678901234567890.5}`)
	same := func(what string, got render.Object) {
		t.Helper()
		if !got.Equal(context) {
			g, _ := got.MarshalJSON()
			t.Errorf("%s context = %s, want %s", what, g, `{"s":"x","huge":1e400,"exact":12345678901234567890.5}`)
		}
	}

	rec := recurrence.Recurrence{ID: "r1", CampaignID: "c1", Expression: "rate(1 day)", TimeZone: "UTC", Context: context,
		ScheduleName: "h-r1", CreatedAt: now}
	if err := s.PutRecurrence(ctx, acme, rec); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetRecurrence(ctx, acme, "c1", "r1")
	if err != nil {
		t.Fatalf("GetRecurrence: %v", err)
	}
	same("GetRecurrence", got.Context)
	list, err := s.ListRecurrences(ctx, acme, "c1")
	if err != nil || len(list) != 1 {
		t.Fatalf("ListRecurrences = %d, %v; want 1, nil", len(list), err)
	}
	same("ListRecurrences", list[0].Context)

	ex := execution.AudienceExecution{ID: "ax1", RequestID: "rq1", CampaignID: "c1", Version: 1, Channel: "email", AudienceID: "a1",
		Context: context, CreatedAt: now, CreatedBy: "hk", State: execution.StateRunning}
	if err := s.BeginAudience(ctx, acme, execution.Record{RequestID: "rq1", BodyHash: "h", ExpiresAt: now.Add(execution.IdempotencyTTL)}, ex); err != nil {
		t.Fatal(err)
	}
	gotEx, err := s.GetAudienceExecution(ctx, acme, "ax1")
	if err != nil {
		t.Fatalf("GetAudienceExecution: %v", err)
	}
	same("GetAudienceExecution", gotEx.Context)
}

// encoding/json writes '<' as \u003c: a 190 KB context of markup, within
// the 200 KB limit, became a 1.1 MB document, over DynamoDB's 400 KB item.
func TestMarkupContextsFitTheirItem(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	context := render.MustParseObject(`{"html":"` + strings.Repeat("<a&b>", 38<<10) + `"}`)
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
	if !got.Context.Equal(context) {
		t.Error("GetRecurrence context differs from the one stored")
	}
}
