package eventapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/logsafe"
	"github.com/heraldhq/herald/internal/strictjson"
	"github.com/heraldhq/herald/internal/tenant"
)

// HTTPAPI is the Trigger function's HTTP API, from package httpapi, which
// eventapi does not import: the functions that take events only (Dispatch,
// Reports, …) link eventapi, and so do not link the HTTP routes, the
// OpenAPI document or the console.
type HTTPAPI struct {
	// Serve answers an API Gateway HTTP API request (the handler
	// httpapi.TriggerWithAudiences returns).
	Serve func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
	// ErrorReply is the answer to a refused request (httpapi.ErrorReply):
	// a refused event is answered with its body.
	ErrorReply func(ctx context.Context, log *slog.Logger, requestID string, err error) events.APIGatewayV2HTTPResponse
}

// TriggerHandler is the Trigger function's Lambda entry point: it accepts
// any event shape and answers in that shape's terms.
type TriggerHandler func(ctx context.Context, raw json.RawMessage) (any, error)

// Trigger multiplexes the event shapes that reach the Trigger function:
//
//   - an API Gateway HTTP API request (payload 2.0) goes to api.Serve;
//   - an EventBridge event (events.EventBridgeEvent) whose detail is the
//     JSON body of a REST call;
//   - an EventBridge Scheduler input that is that body itself.
//
// Events and schedules carry no credential: the function's invoke
// permission is the authentication, and they act for the deployment's
// configured event tenant (ev; none configured refuses them). They get
// the same decoding, validation, idempotency and outcome as the REST call:
// a body with recipients is a unitary execution, any other an audience
// one. A refusal is final (logged, nil error, so nothing retries it); an
// internal failure is an error, so Lambda's async retry tries again.
func Trigger(api HTTPAPI, svc *execution.Unitary, aud *execution.AudienceExecutions, ev tenant.Tenant, log *slog.Logger) TriggerHandler {
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		var probe struct {
			RouteKey       *string         `json:"routeKey"`
			RequestContext json.RawMessage `json:"requestContext"`
			DetailType     *string         `json:"detail-type"`
		}
		if err := json.Unmarshal(raw, &probe); err != nil {
			log.ErrorContext(ctx, "trigger event is not a JSON object")
			return nil, nil
		}
		if probe.RouteKey != nil && probe.RequestContext != nil {
			var req events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(raw, &req); err != nil {
				return nil, logsafe.Wrap(fmt.Errorf("decode HTTP API event: %w", err))
			}
			return api.Serve(ctx, req)
		}
		body, by, eventID := []byte(raw), "scheduler", ""
		if probe.DetailType != nil {
			var e events.EventBridgeEvent
			if err := json.Unmarshal(raw, &e); err != nil {
				log.ErrorContext(ctx, "EventBridge event does not decode")
				return nil, nil
			}
			body, by, eventID = e.Detail, "events:"+e.Source, e.ID
		}
		status, out, err := runBody(ctx, svc, aud, ev, by, body)
		if err != nil {
			if derrors.KindOf(err) == derrors.Internal {
				log.ErrorContext(ctx, "event trigger failed; it will be retried", "eventId", eventID, logsafe.Attr(err))
				// The runtime logs the error it is given: its codes only.
				return nil, logsafe.Wrap(err)
			}
			resp := api.ErrorReply(ctx, log, eventID, err)
			log.WarnContext(ctx, "event trigger refused", "eventId", eventID, "status", resp.StatusCode)
			return json.RawMessage(resp.Body), nil
		}
		log.InfoContext(ctx, "event trigger accepted", "eventId", eventID, "status", status, "createdBy", by)
		return out, nil
	}
}

// runBody runs one execution body for the event tenant.
func runBody(ctx context.Context, svc *execution.Unitary, aud *execution.AudienceExecutions, ev tenant.Tenant, by string, body []byte) (int, any, error) {
	if ev.Validate() != nil {
		return 0, nil, derrors.New(derrors.Forbidden, "events and schedules are not accepted: no event tenant is configured (HERALD_EVENT_ORG, HERALD_EVENT_SANDBOX)")
	}
	p := auth.Principal{KeyID: by, Tenant: ev}
	if err := strictjson.CheckText(body); err != nil {
		return 0, nil, err
	}
	var probe struct {
		Recipients json.RawMessage `json:"recipients"`
	}
	_ = json.Unmarshal(body, &probe)
	if probe.Recipients != nil {
		req, err := execution.DecodeUnitary(body)
		if err != nil {
			return 0, nil, err
		}
		if err := req.Validate(); err != nil {
			return 0, nil, err
		}
		resp, err := svc.Execute(ctx, p.Tenant, p.KeyID, req)
		return http.StatusAccepted, resp, err
	}
	req, err := execution.DecodeAudience(body)
	if err != nil {
		return 0, nil, err
	}
	if err := req.Validate(); err != nil {
		return 0, nil, err
	}
	resp, err := aud.Start(ctx, p.Tenant, p.KeyID, req)
	return http.StatusAccepted, resp, err
}
