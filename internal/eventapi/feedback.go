package eventapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"

	"github.com/heraldhq/herald/internal/feedback"
	"github.com/heraldhq/herald/internal/logsafe"
)

// Feedback adapts the Feedback function's three event sources (see
// feedback.Decode: SES events from EventBridge, SMS delivery status from
// CloudWatch Logs, push failures from SNS) to the service: every event of
// the payload is applied. An error fails the invocation so Lambda retries
// it whole (applying an event again changes nothing); events whose entry
// is not ready yet are the usual reason.
func Feedback(s *feedback.Service, log *slog.Logger) func(context.Context, json.RawMessage) (feedback.Result, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(ctx context.Context, raw json.RawMessage) (feedback.Result, error) {
		evs, err := feedback.Decode(raw)
		if err != nil {
			log.ErrorContext(ctx, "feedback payload refused", logsafe.Attr(err))
			return feedback.Result{}, err
		}
		var res feedback.Result
		var errs []error
		for _, ev := range evs {
			applied, err := s.Apply(ctx, ev)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			res.Count(applied)
		}
		if err := errors.Join(errs...); err != nil {
			log.WarnContext(ctx, "feedback events to retry", "events", len(errs), "of", len(evs), logsafe.Attr(err))
			return res, err
		}
		log.InfoContext(ctx, "feedback events applied", "recorded", res.Recorded, "repeated", res.Repeated,
			"unknown", res.Unknown, "unrelated", res.Unrelated)
		return res, nil
	}
}
