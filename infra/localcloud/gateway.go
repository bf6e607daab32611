package localcloud

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"

	"github.com/heraldhq/herald/internal/logsafe"
	"github.com/heraldhq/herald/internal/tracing"
)

// HTTPHandler is a function behind an HTTP API route (payload format 2.0).
type HTTPHandler func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// AuthorizerHandler is an HTTP API Lambda authorizer with simple responses.
type AuthorizerHandler func(context.Context, events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error)

// SQSHandler is a function behind an SQS event source.
type SQSHandler func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)

// EventHandler is a function invoked with a raw JSON event (EventBridge,
// Scheduler, or any shape the function multiplexes).
type EventHandler func(context.Context, json.RawMessage) (any, error)

// Handlers are the in-process functions, by logical ID.
type Handlers struct {
	HTTP        map[string]HTTPHandler
	Authorizers map[string]AuthorizerHandler
	SQS         map[string]SQSHandler
	// Streams are functions behind a DynamoDB stream.
	Streams map[string]StreamHandler
	// Events are functions as EventBridge and Scheduler invoke them.
	Events map[string]EventHandler
}

// traced makes the function id's handlers start a trace on each
// invocation, as Lambda does with active tracing; nothing when tracer is
// nil.
func (h *Handlers) traced(tracer *tracing.Tracer, id string) {
	if tracer == nil {
		return
	}
	name := FunctionName(id)
	if fn, ok := h.HTTP[id]; ok {
		h.HTTP[id] = lambdaTrace(tracer, name, fn)
	}
	if fn, ok := h.SQS[id]; ok {
		h.SQS[id] = lambdaTrace(tracer, name, fn)
	}
	if fn, ok := h.Streams[id]; ok {
		h.Streams[id] = lambdaTrace(tracer, name, fn)
	}
	if fn, ok := h.Events[id]; ok {
		h.Events[id] = lambdaTrace(tracer, name, fn)
	}
}

func lambdaTrace[F ~func(context.Context, E) (R, error), E, R any](tracer *tracing.Tracer, name string, fn F) F {
	return func(ctx context.Context, e E) (R, error) {
		ctx, end := tracer.Invoke(ctx, name)
		defer end()
		return fn(ctx, e)
	}
}

// MaxBodyBytes is API Gateway's payload limit for HTTP APIs.
const MaxBodyBytes = 10 << 20

// APIID is the API id the gateway reports in requestContext.apiId.
const APIID = "heraldlocal"

// Gateway serves a Stack's HttpApi routes like API Gateway: it turns each
// request into a payload-2.0 event, runs the route's Lambda authorizer
// first, puts the authorizer's context at requestContext.authorizer.lambda
// and writes the function's response back.
type Gateway struct {
	stack    *Stack
	routes   []compiledRoute
	handlers Handlers
	log      *slog.Logger
	now      func() time.Time
	// contract, when set, sees every exchange (Options.Contract).
	contract Contract
}

type compiledRoute struct {
	Route
	segs []string
}

// NewGateway checks that every route of the stack has its handlers.
func NewGateway(s *Stack, h Handlers, log *slog.Logger) (*Gateway, error) {
	g := &Gateway{stack: s, handlers: h, log: log, now: time.Now}
	for _, r := range s.Routes {
		if h.HTTP[r.Function] == nil {
			return nil, fmt.Errorf("route %s: no HTTP handler for %s", r.Key(), r.Function)
		}
		if r.Authorizer != "" && h.Authorizers[r.Authorizer] == nil {
			return nil, fmt.Errorf("route %s: no authorizer handler for %s", r.Key(), r.Authorizer)
		}
		g.routes = append(g.routes, compiledRoute{Route: r, segs: splitPath(r.Path)})
	}
	return g, nil
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// match finds the route API Gateway would pick: the most specific path
// (literal segments before {param} before {proxy+}), then an exact method
// before ANY, then $default.
func (g *Gateway) match(method, path string) (*compiledRoute, map[string]string) {
	segs := splitPath(path)
	var best *compiledRoute
	var bestParams map[string]string
	var bestScore []int
	for i := range g.routes {
		r := &g.routes[i]
		if r.Path == "$default" || (r.Method != method && r.Method != "ANY") {
			continue
		}
		params, score, ok := matchSegments(r.segs, segs)
		if !ok {
			continue
		}
		if r.Method != "ANY" {
			score = append(score, 1)
		} else {
			score = append(score, 0)
		}
		if best == nil || slices.Compare(score, bestScore) > 0 {
			best, bestParams, bestScore = r, params, score
		}
	}
	if best == nil {
		for i := range g.routes {
			if g.routes[i].Path == "$default" {
				return &g.routes[i], nil
			}
		}
	}
	return best, bestParams
}

func matchSegments(route, path []string) (map[string]string, []int, bool) {
	params := map[string]string{}
	var score []int
	for i, rs := range route {
		if name, ok := strings.CutSuffix(strings.TrimPrefix(rs, "{"), "+}"); ok && strings.HasPrefix(rs, "{") {
			if i != len(route)-1 || len(path) <= i {
				return nil, nil, false
			}
			params[name] = unescape(strings.Join(path[i:], "/"))
			return params, append(score, 1), true
		}
		if i >= len(path) {
			return nil, nil, false
		}
		if strings.HasPrefix(rs, "{") && strings.HasSuffix(rs, "}") {
			if path[i] == "" {
				return nil, nil, false
			}
			params[rs[1:len(rs)-1]] = unescape(path[i])
			score = append(score, 2)
			continue
		}
		if rs != path[i] {
			return nil, nil, false
		}
		score = append(score, 3)
	}
	if len(route) != len(path) {
		return nil, nil, false
	}
	if len(params) == 0 {
		params = nil
	}
	return params, score, true
}

func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// ServeHTTP implements http.Handler.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if g.contract != nil {
		observed(g.contract, http.HandlerFunc(g.serve), w, r)
		return
	}
	g.serve(w, r)
}

func (g *Gateway) serve(w http.ResponseWriter, r *http.Request) {
	start := g.now()
	rt, params := g.match(r.Method, r.URL.Path)
	if rt == nil {
		writeMessage(w, http.StatusNotFound, "Not Found", "")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeMessage(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large", "")
			return
		}
		writeMessage(w, http.StatusBadRequest, "Bad Request", "")
		return
	}
	ev := g.event(r, rt, params, body, start)
	log := g.log.With("requestId", ev.RequestContext.RequestID, "routeKey", ev.RouteKey)
	ctx := r.Context()

	if rt.Authorizer != "" {
		res, err := g.handlers.Authorizers[rt.Authorizer](ctx, authorizerRequest(g.stack, ev))
		switch {
		case err != nil:
			log.ErrorContext(ctx, "authorizer failed", "function", rt.Authorizer, logsafe.Attr(err))
			writeMessage(w, http.StatusInternalServerError, "Internal Server Error", ev.RequestContext.RequestID)
			return
		case !res.IsAuthorized:
			writeMessage(w, http.StatusForbidden, "Forbidden", ev.RequestContext.RequestID)
			return
		}
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: res.Context}
	}

	resp, err := g.handlers.HTTP[rt.Function](ctx, ev)
	if err != nil {
		log.ErrorContext(ctx, "function failed", "function", rt.Function, logsafe.Attr(err))
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error", ev.RequestContext.RequestID)
		return
	}
	status := writeResponse(w, resp, ev.RequestContext.RequestID)
	log.DebugContext(ctx, "request", "function", rt.Function, "status", status, "durationMs", g.now().Sub(start).Milliseconds())
}

// event builds the payload-2.0 request exactly as API Gateway does.
func (g *Gateway) event(r *http.Request, rt *compiledRoute, params map[string]string, body []byte, now time.Time) events.APIGatewayV2HTTPRequest {
	headers := map[string]string{}
	for k, vs := range r.Header {
		k = strings.ToLower(k)
		if k == "cookie" {
			continue // payload 2.0 moves cookies to their own field
		}
		headers[k] = strings.Join(vs, ",")
	}
	headers["host"] = r.Host
	if r.ContentLength > 0 || len(body) > 0 {
		headers["content-length"] = fmt.Sprint(len(body))
	}
	sourceIP, port, _ := net.SplitHostPort(r.RemoteAddr)
	if xff := headers["x-forwarded-for"]; xff != "" {
		headers["x-forwarded-for"] = xff + ", " + sourceIP
	} else {
		headers["x-forwarded-for"] = sourceIP
	}
	if _, p, err := net.SplitHostPort(r.Host); err == nil {
		port = p
	}
	headers["x-forwarded-port"] = port
	headers["x-forwarded-proto"] = "http"

	var cookies []string
	for _, c := range r.Header.Values("Cookie") {
		for part := range strings.SplitSeq(c, ";") {
			if part = strings.TrimSpace(part); part != "" {
				cookies = append(cookies, part)
			}
		}
	}
	var query map[string]string
	if q := r.URL.Query(); len(q) > 0 {
		query = map[string]string{}
		for k, vs := range q {
			query[k] = strings.Join(vs, ",")
		}
	}
	routeKey := rt.Key()
	if rt.Path == "$default" {
		routeKey = "$default"
	}
	domain, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		domain = r.Host
	}
	prefix, _, _ := strings.Cut(domain, ".")
	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              routeKey,
		RawPath:               r.URL.EscapedPath(),
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		PathParameters:        params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     routeKey,
			AccountID:    g.stack.AccountID,
			Stage:        "$default",
			RequestID:    uuid.NewString(),
			APIID:        APIID,
			DomainName:   domain,
			DomainPrefix: prefix,
			Time:         now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.EscapedPath(),
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if len(body) > 0 {
		if utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		}
	}
	return ev
}

// authorizerRequest is the payload-2.0 authorizer event for a request.
// identitySource is empty: the template configures no identity source so
// the authorizer runs on every request.
func authorizerRequest(s *Stack, ev events.APIGatewayV2HTTPRequest) events.APIGatewayV2CustomAuthorizerV2Request {
	method, path := ev.RequestContext.HTTP.Method, ev.RawPath
	return events.APIGatewayV2CustomAuthorizerV2Request{
		Version:               "2.0",
		Type:                  "REQUEST",
		RouteArn:              fmt.Sprintf("arn:aws:execute-api:%s:%s:%s/%s/%s%s", s.Region, s.AccountID, APIID, ev.RequestContext.Stage, method, path),
		IdentitySource:        []string{},
		RouteKey:              ev.RouteKey,
		RawPath:               ev.RawPath,
		RawQueryString:        ev.RawQueryString,
		Cookies:               ev.Cookies,
		Headers:               ev.Headers,
		QueryStringParameters: ev.QueryStringParameters,
		RequestContext:        ev.RequestContext,
		PathParameters:        ev.PathParameters,
		StageVariables:        ev.StageVariables,
	}
}

// writeResponse writes a function's payload-2.0 response and returns the
// status written.
func writeResponse(w http.ResponseWriter, resp events.APIGatewayV2HTTPResponse, requestID string) int {
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			writeMessage(w, http.StatusInternalServerError, "Internal Server Error", requestID)
			return http.StatusInternalServerError
		}
		body = b
	}
	status := resp.StatusCode
	if status < 100 || status > 599 {
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error", requestID)
		return http.StatusInternalServerError
	}
	h := w.Header()
	h["Content-Type"] = nil // API Gateway does not sniff; neither do we
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	if requestID != "" {
		h.Set("Apigw-Requestid", requestID)
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return status
}

// writeMessage writes API Gateway's own error shape, {"message": "..."}.
func writeMessage(w http.ResponseWriter, status int, msg, requestID string) {
	w.Header().Set("Content-Type", "application/json")
	if requestID != "" {
		w.Header().Set("Apigw-Requestid", requestID)
	}
	w.WriteHeader(status)
	fmt.Fprintf(w, "{\"message\":%q}", msg)
}
