package logsafe_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/logsafe"
)

// pii is in every error's text below; no description may hold it.
const pii = "jane@example.com"

// apiErr is what the AWS SDK returns for an answered refusal.
func apiErr(service, op, code string, status int) error {
	return &smithy.OperationError{ServiceID: service, OperationName: op, Err: &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
			Err: &smithy.GenericAPIError{Code: code, Message: "Email address is not verified: " + pii}},
		RequestID: "req-1"}}
}

// coded is an error type that names itself.
type coded struct{ err error }

func (c coded) Error() string   { return "render failed on " + pii + ": " + c.err.Error() }
func (c coded) LogCode() string { return "render_error line 2 col 7" }
func (c coded) Unwrap() error   { return c.err }

// retry wraps an error as delivery.RetryError does.
type retry struct{ err error }

func (r retry) Error() string   { return "retry later: " + r.err.Error() }
func (r retry) LogCode() string { return "retry later" }
func (r retry) Unwrap() error   { return r.err }

func TestDescribeKeepsCodesAndKindsNeverText(t *testing.T) {
	_, syntaxErr := strconv.Atoi(pii)
	var jsonSyntax, jsonType error
	jsonSyntax = json.Unmarshal([]byte(`{"userId":"`+pii), new(any))
	jsonType = json.Unmarshal([]byte(`{"userId":"`+pii+`"}`), new(struct{ UserID int }))
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil is nothing", nil, ""},
		{"an AWS refusal is its service, operation, code, status and request id",
			fmt.Errorf("get profile %s: %w", pii, apiErr("DynamoDB", "GetItem", "ValidationException", 400)),
			"DynamoDB GetItem: ValidationException (HTTP 400, awsRequestId req-1)"},
		{"an AWS call that got no answer is its transport's failure",
			&smithy.OperationError{ServiceID: "SQS", OperationName: "SendMessage", Err: &url.Error{Op: "Post", URL: "http://" + pii,
				Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}},
			"SQS SendMessage: HTTP Post: network dial: connect: connection refused"},
		{"a deadline is a deadline", fmt.Errorf("send to %s: %w", pii, context.DeadlineExceeded), "context deadline exceeded"},
		{"a JSON syntax error is its offset", fmt.Errorf("decode job: %w", jsonSyntax), "invalid JSON at byte 27"},
		{"a JSON type error is its offset", jsonType, "JSON value of the wrong type at byte 28"},
		{"a number that does not parse keeps the function, not the input", syntaxErr, "strconv.Atoi: invalid syntax"},
		{"a formatted message is only its type", fmt.Errorf("unknown address %s", pii), "*errors.errorString"},
		{"Herald's constant text is kept", fmt.Errorf("claim %s: %w", pii, logsafe.Text("another delivery holds the claim")),
			"another delivery holds the claim"},
		{"a Coder names itself, then its cause", coded{errors.New(pii)}, "render_error line 2 col 7: *errors.errorString"},
		{"a domain error is its kind", fmt.Errorf("profile %s: %w", pii, derrors.New(derrors.NotFound, "no profile %s", pii)), "not_found"},
		{"a code repeated by nested wrapping is said once",
			retry{fmt.Errorf("1 of 2 recipients: %w", retry{apiErr("DynamoDB", "GetItem", "ValidationException", 400)})},
			"retry later: DynamoDB GetItem: ValidationException (HTTP 400, awsRequestId req-1)"},
		{"joined errors are counted", errors.Join(apiErr("SESv2", "SendEmail", "Throttling", 400), apiErr("SESv2", "SendEmail", "Throttling", 400),
			logsafe.Text("over this process's send rate")),
			"[2× SESv2 SendEmail: Throttling (HTTP 400, awsRequestId req-1); over this process's send rate]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := logsafe.Describe(tt.err)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Describe (-want +got):\n%s", diff)
			}
			// Most errors above carry the address in their text; none of
			// their descriptions may.
			if strings.Contains(got, pii) {
				t.Errorf("Describe = %q holds the address", got)
			}
		})
	}
}

func TestWrapGivesTheDescriptionAndKeepsTheChain(t *testing.T) {
	err := fmt.Errorf("fire execution for %s: %w", pii, apiErr("DynamoDB", "GetItem", "ValidationException", 400))
	w := logsafe.Wrap(fmt.Errorf("x: %w", err))
	if diff := cmp.Diff(logsafe.Describe(err), w.Error()); diff != "" {
		t.Errorf("Wrap(err).Error() (-want +got):\n%s", diff)
	}
	var op *smithy.OperationError
	if !errors.As(w, &op) || !errors.Is(w, err) {
		t.Errorf("Wrap(err) lost err's chain")
	}
	if logsafe.Wrap(nil) != nil {
		t.Error("Wrap(nil) != nil")
	}
	if got := logsafe.Describe(fmt.Errorf("again: %w", w)); got != logsafe.Describe(err) {
		t.Errorf("a wrapped error described again = %q, want %q", got, logsafe.Describe(err))
	}
}

func TestAttrIsTheErrorAttribute(t *testing.T) {
	a := logsafe.Attr(errors.New(pii))
	if a.Key != "error" || a.Value.String() != "*errors.errorString" {
		t.Errorf("Attr = %v", a)
	}
}
