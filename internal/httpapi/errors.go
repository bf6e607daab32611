// Package httpapi is Herald's HTTP transport: the API Gateway (payload
// 2.0) handlers of the Trigger and Manage functions, each authenticating
// its own routes, and the IMS-style token route. Handlers decode the
// event, call one service method and map the result or error to a
// response; every error, on every route, has the AJO errorResponse shape
// extended with detail and errors[].
package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/logsafe"
	"github.com/heraldhq/herald/internal/strictjson"
)

// ErrorResponse is the body of every error: the AJO contract's
// errorResponse plus detail and, for validation, the wrong fields.
type ErrorResponse struct {
	Type   string               `json:"type"`
	Title  string               `json:"title"`
	Status int                  `json:"status"`
	Detail string               `json:"detail,omitempty"`
	Report Report               `json:"report"`
	Errors []derrors.FieldError `json:"errors,omitempty"`
	// Warnings come with a refused activation (review warnings).
	Warnings []derrors.FieldError `json:"warnings,omitempty"`
	// OAuthError and OAuthErrorDescription are RFC 6749's error members,
	// on the token route's errors only (OAuth client libraries read them).
	OAuthError            string `json:"error,omitempty"`
	OAuthErrorDescription string `json:"error_description,omitempty"`
}

// Report carries what the request was about (requestId, campaignId).
type Report struct {
	AdditionalContext map[string]string `json:"additionalContext"`
}

type errorKind struct {
	status int
	slug   string
	title  string
}

// errorKinds is the one table from domain error kinds to HTTP.
var errorKinds = map[derrors.Kind]errorKind{
	derrors.Internal:         {http.StatusInternalServerError, "internal", "An internal error occurred"},
	derrors.Invalid:          {http.StatusBadRequest, "invalid-request", "The request is invalid"},
	derrors.Unauthenticated:  {http.StatusUnauthorized, "unauthenticated", "Unauthorized"},
	derrors.Forbidden:        {http.StatusForbidden, "forbidden", "Forbidden"},
	derrors.NotFound:         {http.StatusNotFound, "not-found", "Not found"},
	derrors.MethodNotAllowed: {http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed"},
	derrors.Conflict:         {http.StatusConflict, "conflict", "Conflict"},
	derrors.Precondition:     {http.StatusPreconditionFailed, "precondition-failed", "Precondition failed"},
	derrors.TooLarge:         {http.StatusRequestEntityTooLarge, "payload-too-large", "Payload too large"},
	derrors.Unprocessable:    {http.StatusUnprocessableEntity, "unprocessable", "The request cannot be processed"},
	derrors.Throttled:        {http.StatusServiceUnavailable, "throttled", "Service busy, retry later"},
	derrors.TooManyRequests:  {http.StatusTooManyRequests, "too-many-requests", "Too many requests"},
	derrors.Unavailable:      {http.StatusServiceUnavailable, "unavailable", "Service unavailable, retry later"},
}

// ErrorTypeBase prefixes the type URI of every error.
const ErrorTypeBase = "urn:herald:error:"

// errorResponse maps err to a response. Unknown errors become a generic
// 500, logged once here with the request id; known ones are not logged
// (their details may name userIds).
// ErrorReply is the response an error gets, in the documented error shape
// (for the entries that answer outside HTTP, such as EventBridge events).
func ErrorReply(ctx context.Context, log *slog.Logger, requestID string, err error) events.APIGatewayV2HTTPResponse {
	return errorResponse(ctx, log, requestID, err, nil)
}

func errorResponse(ctx context.Context, log *slog.Logger, requestID string, err error, extra map[string]string) events.APIGatewayV2HTTPResponse {
	return errorResponseWith(ctx, log, requestID, err, extra, nil)
}

// errorResponseWith is errorResponse with a last change to the body.
func errorResponseWith(ctx context.Context, log *slog.Logger, requestID string, err error, extra map[string]string, edit func(*ErrorResponse)) events.APIGatewayV2HTTPResponse {
	kind := derrors.KindOf(err)
	k := errorKinds[kind]
	body := ErrorResponse{Type: ErrorTypeBase + k.slug, Title: k.title, Status: k.status,
		Report: Report{AdditionalContext: map[string]string{}}}
	for n, v := range extra {
		if v != "" {
			body.Report.AdditionalContext[n] = v
		}
	}
	var de *derrors.Error
	var retryAfter time.Duration
	if errors.As(err, &de) {
		body.Detail = de.Detail
		body.Errors = de.Fields
		body.Warnings = de.Warnings
		retryAfter = de.RetryAfter
	}
	switch kind {
	case derrors.Internal:
		log.ErrorContext(ctx, "request failed", "awsRequestId", requestID, logsafe.Attr(err))
		body.Detail = "an internal error occurred; it has been logged with request id " + requestID
	case derrors.Unavailable:
		log.WarnContext(ctx, "dependency unavailable", "awsRequestId", requestID, logsafe.Attr(err))
	}
	if edit != nil {
		edit(&body)
	}
	resp := jsonResponse(k.status, body)
	if retryAfter > 0 {
		resp.Headers["Retry-After"] = retryAfterSeconds(retryAfter)
	}
	return resp
}

// retryAfterSeconds is d as Retry-After's delay-seconds: whole seconds,
// rounded up, at least 1 (a client reading 0 would retry at once).
func retryAfterSeconds(d time.Duration) string {
	return strconv.FormatInt(max(1, int64((d+time.Second-1)/time.Second)), 10)
}

func jsonResponse(status int, v any) events.APIGatewayV2HTTPResponse {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		b.Reset()
		b.WriteString(`{"type":"urn:herald:error:internal","title":"An internal error occurred","status":500,"report":{"additionalContext":{}}}`)
		status = http.StatusInternalServerError
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       strings.TrimRight(b.String(), "\n"),
	}
}

// decodeJSON decodes a management body with the one decoder (strictjson),
// refusing unknown fields; the execution API's bodies are decoded by
// execution.DecodeUnitary and DecodeAudience, which ignore them.
func decodeJSON(body []byte, v any) error { return strictjson.Decode(body, v) }
