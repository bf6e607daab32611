package httpapi

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

// EventHandler is the Trigger function's Lambda entry point: it accepts
// any event shape and answers in that shape's terms.
type EventHandler func(ctx context.Context, raw json.RawMessage) (any, error)

// TriggerEvents multiplexes the event shapes that reach the Trigger
// function:
//
//   - an API Gateway HTTP API request (payload 2.0) goes to httpHandler;
//   - an EventBridge event whose detail is the JSON body of a REST call;
//   - an EventBridge Scheduler input that is that body itself.
//
// Events and schedules carry no credential: the function's invoke
// permission is the authentication, and they act for the deployment's
// configured event tenant (ev; none configured refuses them). They get
// the same validation, idempotency and outcome as the REST call: a body
// with recipients is a unitary execution, any other an audience one. A
// refusal is final (logged, nil error, so nothing retries it); an
// internal failure is an error, so Lambda's async retry tries again.
func TriggerEvents(httpHandler HandlerFunc, svc *execution.Service, aud *execution.Audiences, ev tenant.Tenant, log *slog.Logger) EventHandler {
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		var probe struct {
			RouteKey       *string         `json:"routeKey"`
			RequestContext json.RawMessage `json:"requestContext"`
			DetailType     *string         `json:"detail-type"`
			Source         string          `json:"source"`
			ID             string          `json:"id"`
			Detail         json.RawMessage `json:"detail"`
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
			return httpHandler(ctx, req)
		}
		body, by := []byte(raw), "scheduler"
		if probe.DetailType != nil {
			body, by = probe.Detail, "events:"+probe.Source
		}
		status, out, err := runEventBody(ctx, svc, aud, ev, by, body)
		if err != nil {
			if derrors.KindOf(err) == derrors.Internal {
				log.ErrorContext(ctx, "event trigger failed; it will be retried", "eventId", probe.ID, logsafe.Attr(err))
				// The runtime logs the error it is given: its codes only.
				return nil, logsafe.Wrap(err)
			}
			resp := errorResponse(ctx, log, probe.ID, err, nil)
			log.WarnContext(ctx, "event trigger refused", "eventId", probe.ID, "status", resp.StatusCode)
			return json.RawMessage(resp.Body), nil
		}
		log.InfoContext(ctx, "event trigger accepted", "eventId", probe.ID, "status", status, "createdBy", by)
		return out, nil
	}
}

func runEventBody(ctx context.Context, svc *execution.Service, aud *execution.Audiences, ev tenant.Tenant, by string, body []byte) (int, any, error) {
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
		var req execution.UnitaryRequest
		if err := decodeJSON(body, &req, false); err != nil {
			return 0, nil, err
		}
		if err := req.Validate(); err != nil {
			return 0, nil, err
		}
		resp, err := svc.Unitary(ctx, p.Tenant, p.KeyID, req)
		return http.StatusAccepted, resp, err
	}
	req, err := decodeAudienceRequest(body, map[string]string{})
	if err != nil {
		return 0, nil, err
	}
	resp, err := aud.Start(ctx, p.Tenant, p.KeyID, req)
	return http.StatusAccepted, resp, err
}
