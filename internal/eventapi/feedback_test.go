package eventapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/eventapi"
	"github.com/heraldhq/herald/internal/feedback"
	"github.com/heraldhq/herald/internal/memory"
)

func TestFeedbackAppliesEveryEventAndFailsTheInvocationForRetries(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	h := eventapi.Feedback(&feedback.Service{Store: memory.New(), Now: func() time.Time { return now }}, nil)
	ses := func(at time.Time) json.RawMessage {
		raw, _ := json.Marshal(map[string]any{"source": "aws.ses", "detail": map[string]any{"eventType": "Send",
			"mail": map[string]any{"messageId": "m", "timestamp": at, "tags": map[string][]string{"heraldRecipient": {"nope"}}}}})
		return raw
	}
	res, err := h(context.Background(), ses(now.Add(-time.Hour)))
	if err != nil || res.Unknown != 1 {
		t.Errorf("an old event of no entry: %+v, %v; want unknown", res, err)
	}
	if _, err := h(context.Background(), ses(now.Add(-time.Minute))); !errors.Is(err, feedback.ErrNotYet) {
		t.Errorf("a recent event of no entry: %v, want ErrNotYet (retried)", err)
	}
	if _, err := h(context.Background(), json.RawMessage(`{"neither":"shape"}`)); err == nil {
		t.Error("an unknown payload: no error")
	}
}
