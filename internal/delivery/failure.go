package delivery

import (
	"errors"
	"fmt"
)

// Failure says what a failed provider call means for the message, and so
// what Herald does next. Senders report it in a *SendError.
type Failure int

// Failures, from safest to least certain.
const (
	// NotSent: the request never reached the provider (a refused
	// connection, a reset before the request was written). Retried later
	// with backoff; past the deadline, failed:provider_unavailable.
	NotSent Failure = iota + 1
	// Throttled: the provider refused the message for now (TooManyRequests,
	// Throttling, 429). Retried later with backoff; past the deadline,
	// failed:throttled.
	Throttled
	// Refused: the provider refused this message for good (a validation
	// or rejection code): failed:<code>.
	Refused
	// Held: the provider refuses the account or the channel
	// (SendingPaused, AccountSuspended, a KMS key it cannot use). Nothing
	// was taken; the channel is held for the tenant until a probe
	// succeeds, and recipients wait until their deadline
	// (failed:<code> after it).
	Held
	// Uncertain: no complete answer came after the request was written
	// (a timeout, a reset, a truncated body), or the provider answered
	// 5xx: it may have taken the message. Recorded as ambiguous:<code>,
	// never re-sent blindly.
	Uncertain
)

var failureNames = map[Failure]string{NotSent: "not_sent", Throttled: "throttled", Refused: "refused", Held: "held", Uncertain: "uncertain"}

func (f Failure) String() string {
	if n, ok := failureNames[f]; ok {
		return n
	}
	return fmt.Sprintf("Failure(%d)", int(f))
}

// SendError is a sender's failure. Code is stable and safe to log and to
// show: a provider error code (MessageRejected, SendingPausedException)
// or Herald's name for what happened (unreachable, timeout, reset,
// truncated, 5xx). Err, the underlying error, may carry provider text
// (which can name the recipient) and is never logged.
type SendError struct {
	Failure Failure
	Code    string
	Err     error
}

func (e *SendError) Error() string {
	return fmt.Sprintf("send %s: %s", e.Failure, e.Code)
}

func (e *SendError) Unwrap() error { return e.Err }

// LogCode names the failure for logs by its code ("send refused:
// MessageRejected"); Err follows, described by codes alone.
func (e *SendError) LogCode() string { return "send " + e.Failure.String() + ": " + e.Code }

// Classify returns err's SendError; an error a sender did not classify
// counts as Uncertain ("unclassified"): Herald cannot tell it sent nothing.
func Classify(err error) *SendError {
	var se *SendError
	if errors.As(err, &se) {
		return se
	}
	return &SendError{Failure: Uncertain, Code: "unclassified", Err: err}
}
