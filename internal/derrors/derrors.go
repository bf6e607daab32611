// Package derrors defines the error kinds Herald's domain returns and that
// the HTTP edge maps to status codes and the documented error shape.
//
// Domain code returns *Error values (built with the constructors below) and
// wraps them with context using fmt.Errorf("...: %w", err); the edge finds
// them again with errors.As. Any other error is an internal failure: the
// edge answers 500 with a generic message and logs it once.
package derrors

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Kind classifies an error for the caller. The zero Kind is Internal.
type Kind int

// The kinds of error a caller can act on.
const (
	Internal         Kind = iota // a bug or an unavailable dependency: 500
	Invalid                      // the input is wrong: 400, with field errors
	Unauthenticated              // no or unknown credential: 401
	Forbidden                    // the credential may not do this: 403
	NotFound                     // no such resource for this tenant: 404
	Conflict                     // the resource's state forbids it: 409
	Precondition                 // a stale If-Match: 412
	TooLarge                     // the body is over the limit: 413
	Unprocessable                // well-formed but cannot be processed: 422
	Throttled                    // a dependency asked us to slow down: 429/503
	MethodNotAllowed             // the path exists, not with this method: 405
	TooManyRequests              // the tenant is over its rate limit: 429
	Unavailable                  // a dependency cannot answer now: 503 with Retry-After
)

// kindNames are the kinds as logs name them.
var kindNames = [...]string{Internal: "internal", Invalid: "invalid", Unauthenticated: "unauthenticated", Forbidden: "forbidden",
	NotFound: "not_found", Conflict: "conflict", Precondition: "precondition", TooLarge: "too_large",
	Unprocessable: "unprocessable", Throttled: "throttled", MethodNotAllowed: "method_not_allowed",
	TooManyRequests: "too_many_requests",
	Unavailable:     "unavailable"}

// String names the kind ("not_found").
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind_" + strconv.Itoa(int(k))
}

// FieldError names one wrong field by its JSON path (e.g.
// "recipients[2].channelData.emailAddress") and says what is wrong with it.
type FieldError struct {
	// Code, when set, names the rule that failed (campaign review codes
	// such as "template_syntax").
	Code    string `json:"code,omitempty"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is a domain error with a kind, a message safe to show to the
// caller, and optional field errors.
type Error struct {
	Kind   Kind
	Detail string
	Fields []FieldError
	// Warnings accompany Fields where a check also found things that do
	// not stop the request (campaign review).
	Warnings []FieldError
	// RetryAfter, when positive, is how long the caller should wait
	// before trying again (the Retry-After header).
	RetryAfter time.Duration
	// Cause is what went wrong underneath, for logs only (an Unavailable
	// error's AWS error); Detail is what the caller is told.
	Cause error
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Cause }

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return e.Detail
	}
	return fmt.Sprintf("%s: %s: %s", e.Detail, e.Fields[0].Field, e.Fields[0].Message)
}

// LogCode names the error for logs by its kind alone: its detail and
// fields may quote the input (see package logsafe).
func (e *Error) LogCode() string { return e.Kind.String() }

// New returns an *Error of the given kind with a formatted detail message.
func New(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Detail: fmt.Sprintf(format, args...)}
}

// Unavailability returns an Unavailable error: what could not answer
// (detail, shown to the caller), its cause (logged) and when to retry.
func Unavailability(cause error, retryAfter time.Duration, format string, args ...any) *Error {
	return &Error{Kind: Unavailable, Detail: fmt.Sprintf(format, args...), Cause: cause, RetryAfter: retryAfter}
}

// Validation returns an Invalid error listing the wrong fields.
func Validation(fields ...FieldError) *Error {
	return &Error{Kind: Invalid, Detail: "the request is invalid", Fields: fields}
}

// KindOf reports the kind of the first *Error in err's chain, or Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Is reports whether err's chain holds an *Error of the given kind.
func Is(err error, kind Kind) bool {
	return err != nil && KindOf(err) == kind
}

// Fields collects field errors; its Err method returns nil when none were
// added, so a validator can add as it goes and return v.Err() at the end.
type Fields []FieldError

// Add records that field is wrong.
func (f *Fields) Add(field, format string, args ...any) {
	*f = append(*f, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Err returns a Validation error for the collected fields, or nil.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	return Validation(f...)
}
