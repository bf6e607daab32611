// Package awssend makes one provider send call through the AWS SDK the way
// delivery needs it: at most one request (the caller removes the SDK's
// retries), bounded by a timeout, and its failure classified by what the
// provider may have done with the message.
//
// Whether the request was written is read from the HTTP client's trace
// (httptrace WroteRequest): a call that failed before its request was
// written never reached the provider and is safe to retry; one that
// failed after it — a timeout, a reset, a truncated answer, or a 5xx,
// which a provider may send after accepting the message — is uncertain.
// An answered refusal is classified by its error code.
package awssend

import (
	"context"
	"errors"
	"net"
	"net/http/httptrace"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/heraldhq/herald/internal/delivery"
)

// DefaultTimeout bounds one send call when the caller sets none.
const DefaultTimeout = 10 * time.Second

// Codes are a provider's error codes that do not mean "this message is
// refused": Throttle asks to slow down, Hold refuses the whole account or
// channel. Any other coded 4xx refuses the message.
type Codes struct {
	Throttle []string
	Hold     []string
}

// Call runs fn once with a context that traces its request and ends after
// timeout (DefaultTimeout when 0), and classifies its error.
func Call(ctx context.Context, timeout time.Duration, codes Codes, fn func(ctx context.Context) error) error {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	var wrote, answered atomic.Bool
	trace := &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err == nil {
				wrote.Store(true)
			}
		},
		GotFirstResponseByte: func() { answered.Store(true) },
	}
	cctx, cancel := context.WithTimeout(httptrace.WithClientTrace(ctx, trace), timeout)
	defer cancel()
	err := fn(cctx)
	if err == nil {
		return nil
	}
	return Classify(err, wrote.Load(), answered.Load(), codes)
}

// Classify says what a failed call's error means for its message: wrote
// tells whether the request was written, answered whether any of a
// response came back.
func Classify(err error, wrote, answered bool, codes Codes) *delivery.SendError {
	var re *smithyhttp.ResponseError
	status := 0
	if errors.As(err, &re) && re.Response != nil {
		status = re.HTTPStatusCode()
	}
	code := ""
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	se := func(f delivery.Failure, c string) *delivery.SendError {
		return &delivery.SendError{Failure: f, Code: c, Err: err}
	}
	switch {
	case status >= 500:
		// The provider may have taken the message before failing.
		return se(delivery.Uncertain, "5xx")
	case code != "" && slices.Contains(codes.Throttle, code):
		return se(delivery.Throttled, code)
	case status == 429:
		return se(delivery.Throttled, "429")
	case code != "" && slices.Contains(codes.Hold, code):
		return se(delivery.Held, code)
	case status >= 400 && code != "":
		return se(delivery.Refused, code)
	case status >= 400:
		return se(delivery.Refused, "http_"+strconv.Itoa(status))
	case status > 0 || answered:
		// An answer came back and could not be read: it may have said yes.
		return se(delivery.Uncertain, "truncated")
	case !wrote:
		return se(delivery.NotSent, "unreachable")
	case isTimeout(err):
		return se(delivery.Uncertain, "timeout")
	}
	return se(delivery.Uncertain, "reset")
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}
