package feedback_test

import (
	"context"
	"encoding/json"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/feedback"
	"github.com/heraldhq/herald/internal/memory"
)

// sesPayload is an EventBridge SES event of eventType about the email
// entry tagged tag.
func sesPayload(b *testing.B, tag, eventType string) json.RawMessage {
	b.Helper()
	raw, err := json.Marshal(map[string]any{"source": "aws.ses", "detail-type": "Email " + eventType, "detail": map[string]any{
		"eventType": eventType, "mail": map[string]any{"messageId": "m-" + tag, "timestamp": t0.Add(time.Minute),
			"tags": map[string][]string{delivery.TagName: {tag}}},
		"delivery": map[string]any{"timestamp": t0.Add(2 * time.Minute), "smtpResponse": "250 ok"}}})
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// The Feedback function's work per event (what eventapi.Feedback does,
// without its log line), with in-memory fakes: decode
// an EventBridge SES Delivery event, find the entry, record it (entry,
// counters of the execution, the campaign and the hour).
func BenchmarkFeedbackHandle(b *testing.B) {
	s := memory.New()
	payloads := make([]json.RawMessage, b.N)
	for i := range b.N {
		e := sent(b, s, "u"+strconv.Itoa(i), campaign.Email, delivery.Sent, "")
		payloads[i] = sesPayload(b, e.Tag, "Delivery")
	}
	svc := service(s)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		evs, err := feedback.Decode(payloads[i])
		if err != nil || len(evs) != 1 {
			b.Fatalf("Decode = %v, %v", evs, err)
		}
		if res, err := svc.Apply(ctx, evs[0]); err != nil || res != feedback.Recorded {
			b.Fatalf("Apply = %v, %v", res, err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// One hot campaign: every core records events of its messages at once,
// each write conditional on its entry's revision and adding to the same
// campaign's counters.
func BenchmarkFeedbackHotCampaign(b *testing.B) {
	s := memory.New()
	entries := make([]delivery.Entry, b.N)
	for i := range b.N {
		entries[i] = sent(b, s, "u"+strconv.Itoa(i), campaign.Email, delivery.Sent, "")
	}
	svc := service(s)
	ctx := context.Background()
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			e := entries[next.Add(1)-1]
			if _, err := svc.Apply(ctx, emailEvent(e, feedback.Open)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	fb, _ := s.ExecutionFeedback(ctx, acme, "ex-1")
	if fb[feedback.CountOpened] != int64(b.N) {
		b.Fatalf("opened %d, want %d", fb[feedback.CountOpened], b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
