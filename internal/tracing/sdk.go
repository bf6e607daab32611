package tracing

import (
	"context"
	"errors"
	"reflect"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// TraceHeader is the HTTP header that carries a trace to an AWS service:
// SQS keeps it with the messages of the call (AWSTraceHeader), SNS and
// SES pass it on.
const TraceHeader = "X-Amzn-Trace-Id"

// AddSDKMiddleware records each AWS call made under a traced context as a
// subsegment (namespace aws: service, operation, region, request id,
// table or queue, status, attempts, error code) and passes the trace on
// in its trace header. Add it to aws.Config.APIOptions; under an untraced
// context it costs one context lookup per call.
func AddSDKMiddleware(stack *middleware.Stack) error {
	if err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("HeraldTraceCall", traceCall), middleware.After); err != nil {
		return err
	}
	if err := stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("HeraldTraceHeader", traceHeader), middleware.After); err != nil {
		return err
	}
	return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("HeraldTraceResponse", traceResponse), middleware.Before)
}

func traceCall(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	if From(ctx) == nil {
		return next.HandleInitialize(ctx, in)
	}
	ctx, s := Child(ctx, awsmiddleware.GetServiceID(ctx))
	fields := map[string]any{"operation": awsmiddleware.GetOperationName(ctx), "region": awsmiddleware.GetRegion(ctx)}
	for _, f := range resourceFields {
		if v := stringField(in.Parameters, f.input); v != "" {
			fields[f.name] = v
		}
	}
	out, md, err := next.HandleInitialize(ctx, in)
	if id, ok := awsmiddleware.GetRequestIDMetadata(md); ok {
		fields["request_id"] = id
	}
	s.mu.Lock()
	s.doc.Namespace = "aws"
	if s.attempts > 1 {
		fields["retries"] = s.attempts - 1
	}
	s.doc.AWS = fields
	if err != nil {
		status := 0
		if s.doc.HTTP != nil {
			status = s.doc.HTTP.Response.Status
		}
		classify(&s.doc, status, err)
	}
	s.mu.Unlock()
	s.End(nil)
	return out, md, err
}

// classify flags an AWS call's failure as X-Ray does: a throttle (429 or
// a throttling code) and other 4xx are errors, the rest faults.
func classify(d *document, status int, err error) {
	code := ""
	if ae, ok := errors.AsType[smithy.APIError](err); ok {
		code = ae.ErrorCode()
	}
	switch {
	case status == 429 || throttlingCodes[code]:
		d.Error, d.Throttle = true, true
	case status >= 400 && status < 500:
		d.Error = true
	default:
		d.Fault = true
	}
	d.Cause = causeOf(err, true)
}

var throttlingCodes = map[string]bool{
	"Throttling": true, "ThrottlingException": true, "ThrottledException": true,
	"TooManyRequestsException": true, "ProvisionedThroughputExceededException": true,
	"RequestLimitExceeded": true, "RequestThrottled": true, "RequestThrottledException": true,
}

func traceHeader(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	if s := From(ctx); s != nil && s.parent != nil {
		if req, ok := in.Request.(*smithyhttp.Request); ok {
			req.Header.Set(TraceHeader, HeaderFrom(ctx))
		}
		s.mu.Lock()
		s.attempts++
		s.mu.Unlock()
	}
	return next.HandleFinalize(ctx, in)
}

func traceResponse(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
	out, md, err := next.HandleDeserialize(ctx, in)
	if s := From(ctx); s != nil && s.parent != nil {
		if resp, ok := out.RawResponse.(*smithyhttp.Response); ok {
			s.mu.Lock()
			s.doc.HTTP = &httpInfo{}
			s.doc.HTTP.Response.Status = resp.StatusCode
			s.mu.Unlock()
		}
	}
	return out, md, err
}

// resourceFields are the inputs' fields that name what a call acts on,
// and their names in the subsegment's aws object.
var resourceFields = []struct{ input, name string }{{"TableName", "table_name"}, {"QueueUrl", "queue_url"}}

// stringField reads an input's string field by name (TableName,
// QueueUrl): every service's inputs spell them alike, and naming the
// input types would link every client into every function.
func stringField(params any, name string) string {
	v := reflect.ValueOf(params)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return ""
	}
	f := v.Elem().FieldByName(name)
	if !f.IsValid() || f.Kind() != reflect.Pointer || f.IsNil() || f.Elem().Kind() != reflect.String {
		return ""
	}
	return f.Elem().String()
}
