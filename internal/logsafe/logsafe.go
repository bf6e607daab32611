// Package logsafe names errors for logs by their codes and kinds, never by
// their text.
//
// An error's text is data as much as code: a provider's message names the
// recipient (SES sandbox's MessageRejected says "Email address is not
// verified. The following identities failed the check: jane@…"), a store's
// validation message may quote the value it refused, a decoder's the input
// it choked on, and Herald's own wrapping puts userIds, requestIds and keys
// in it. What an operator needs from a log line is which call failed and
// how: the AWS service and operation, the error code, the HTTP status and
// the AWS request id (which AWS support can look up), Herald's error kind,
// a timeout or a cancellation. Describe keeps exactly that.
//
// Error types that can name themselves safely implement Coder; constant
// messages written in Herald's code are Text. Anything else appears by its
// Go type only.
package logsafe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// Coder is an error that names itself for logs with a stable code that
// holds no data: a provider's error code, a render error's position, a
// domain error's kind.
type Coder interface {
	LogCode() string
}

// Text is an error whose message is a constant written in Herald's code,
// never built from data, so logs may quote it.
type Text string

func (t Text) Error() string { return string(t) }

// Describe returns what a log may say of err: the codes and kinds along its
// chain, e.g. "DynamoDB GetItem: ValidationException (HTTP 400, awsRequestId
// 7Q…)" or "send refused: MessageRejected: SESv2 SendEmail: MessageRejected
// (HTTP 400, awsRequestId …)". It never includes err's text. A part
// repeated by nested wrapping ("retry later: retry later: …") is said once.
// Describe(nil) is "".
func Describe(err error) string {
	return strings.Join(slices.Compact(describe(err, 0)), ": ")
}

// Attr is the "error" attribute of a log line about err.
func Attr(err error) slog.Attr {
	return slog.String("error", Describe(err))
}

// Wrap returns err with Describe(err) as its text, for an error handed to
// something that logs it (the Lambda runtime prints the error a handler
// returns). errors.Is and errors.As still see err. Wrap(nil) is nil.
func Wrap(err error) error {
	if err == nil {
		return nil
	}
	return &wrapped{err: err}
}

type wrapped struct{ err error }

func (w *wrapped) Error() string { return Describe(w.err) }
func (w *wrapped) Unwrap() error { return w.err }

// Interfaces of the AWS SDK's errors (smithy-go), matched by their
// methods so that domain packages can use logsafe without importing it.
type (
	operationError interface {
		Service() string
		Operation() string
	}
	apiError interface {
		ErrorCode() string
		ErrorMessage() string
	}
	statusError    interface{ HTTPStatusCode() int }
	requestIDError interface {
		ServiceRequestID() string
	}
)

// constant errors whose text is fixed by the standard library.
var constant = []error{context.Canceled, context.DeadlineExceeded, io.EOF, io.ErrUnexpectedEOF, net.ErrClosed,
	os.ErrDeadlineExceeded, strconv.ErrSyntax, strconv.ErrRange}

// maxDepth bounds the walk (an error chain is never this deep, but a
// cyclic one must not hang a log call).
const maxDepth = 32

func describe(err error, depth int) []string {
	if err == nil {
		return nil
	}
	if depth > maxDepth {
		return []string{"…"}
	}
	for _, c := range constant {
		if err == c {
			return []string{c.Error()}
		}
	}
	var parts []string
	switch e := err.(type) {
	case Text:
		return []string{string(e)}
	case *wrapped:
		return describe(e.err, depth+1)
	case Coder:
		if c := e.LogCode(); c != "" {
			parts = append(parts, c)
		}
	case operationError:
		return append(parts, operation(err, e))
	case apiError:
		return []string{e.ErrorCode()}
	case *json.SyntaxError:
		return []string{"invalid JSON at byte " + strconv.FormatInt(e.Offset, 10)}
	case *json.UnmarshalTypeError:
		return []string{"JSON value of the wrong type at byte " + strconv.FormatInt(e.Offset, 10)}
	case *strconv.NumError:
		parts = append(parts, "strconv."+e.Func)
	case *net.OpError:
		parts = append(parts, "network "+e.Op)
	case *net.DNSError:
		return []string{"DNS lookup failed"}
	case *url.Error:
		parts = append(parts, "HTTP "+e.Op)
	case *os.SyscallError:
		parts = append(parts, e.Syscall)
	case syscall.Errno:
		return []string{e.Error()}
	case statusError:
		parts = append(parts, "HTTP "+strconv.Itoa(e.HTTPStatusCode()))
	}
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		if j := joined(u.Unwrap(), depth); j != "" {
			parts = append(parts, j)
		}
		return parts
	case interface{ Unwrap() error }:
		inner := describe(u.Unwrap(), depth+1)
		if len(parts) == 0 && len(inner) == 0 {
			return []string{typeName(err)}
		}
		return append(parts, inner...)
	}
	if len(parts) == 0 {
		return []string{typeName(err)}
	}
	return parts
}

// operation describes an AWS SDK call's failure: service, operation, and
// the answer's code, status and request id when there was an answer; the
// transport's failure otherwise.
func operation(err error, op operationError) string {
	s := op.Service() + " " + op.Operation()
	var api apiError
	if !errors.As(err, &api) {
		if inner := describe(errors.Unwrap(err), 1); len(inner) > 0 {
			s += ": " + strings.Join(inner, ": ")
		}
		return s
	}
	s += ": " + api.ErrorCode()
	var details []string
	var st statusError
	if errors.As(err, &st) {
		details = append(details, "HTTP "+strconv.Itoa(st.HTTPStatusCode()))
	}
	var rid requestIDError
	if errors.As(err, &rid) && rid.ServiceRequestID() != "" {
		details = append(details, "awsRequestId "+rid.ServiceRequestID())
	}
	if len(details) > 0 {
		s += " (" + strings.Join(details, ", ") + ")"
	}
	return s
}

// joined describes the errors of an errors.Join, counting repeats: a job
// of twenty recipients throttled alike is "20× …", not twenty lines.
func joined(errs []error, depth int) string {
	var order []string
	count := map[string]int{}
	for _, e := range errs {
		d := strings.Join(slices.Compact(describe(e, depth+1)), ": ")
		if d == "" {
			continue
		}
		if count[d] == 0 {
			order = append(order, d)
		}
		count[d]++
	}
	for i, d := range order {
		if n := count[d]; n > 1 {
			order[i] = strconv.Itoa(n) + "× " + d
		}
	}
	if len(order) > 1 {
		return "[" + strings.Join(order, "; ") + "]"
	}
	return strings.Join(order, "")
}

func typeName(err error) string { return fmt.Sprintf("%T", err) }
