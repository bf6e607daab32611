package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/metrics"
	"github.com/heraldhq/herald/internal/ratelimit"
	"github.com/heraldhq/herald/internal/strictjson"
	"github.com/heraldhq/herald/internal/tenant"
)

// HandlerFunc is what API Gateway invokes for an HTTP API route.
type HandlerFunc func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// request is what a route sees: the event, the caller and its body.
type request struct {
	event     events.APIGatewayV2HTTPRequest
	principal auth.Principal
	body      []byte
	// report collects requestId/campaignId for the error report.
	report map[string]string
	// basePath is AJOBasePath when the caller reached the route under it.
	basePath string
	// trigger is the matched route's trigger name, for the Triggers
	// metric ("" for any other route).
	trigger string
}

func (r *request) tenant() tenant.Tenant { return r.principal.Tenant }

func (r *request) param(name string) string { return r.event.PathParameters[name] }

// route is one entry of a function's route table.
type route struct {
	// scopes lists the scopes that may call the route (any of them); nil
	// means the route needs no credential.
	scopes  []auth.Scope
	maxBody int
	// namesRequest: the body names its request (requestId, campaignId),
	// which every error of the route reports, even one found before the
	// body is decoded (a bad credential, a body over the limit, bad JSON).
	// The route records the decoded names in report (requestId always set,
	// empty or not); until it has, an error scans the body for them.
	namesRequest bool
	// group is the rate limit group of an authenticated route; empty is
	// ratelimit.Management.
	group ratelimit.Group
	// trigger names an execution API route that sends (unitary,
	// highthroughput, audience): the Triggers metric counts its answers.
	trigger string
	handle  func(ctx context.Context, r *request) (int, any, error)
}

// router serves a route table keyed by API Gateway's routeKey
// ("POST /campaigns/{id}/activate"): API Gateway (or the local gateway)
// has matched the route and filled pathParameters already.
//
// A routeKey the table does not hold ($default, the catch-all routes) is
// resolved from the request's path (resolve); known then lists the route
// keys of the whole API so that a wrong method on a path the other
// function serves is still a 405 with its Allow header.
type router struct {
	routes map[string]route
	known  []string
	log    *slog.Logger
	// limiter, when set, holds each tenant to its rate limits (admit).
	limiter Limiter
	// access authenticates the callers of authorized routes.
	access Access
	// metrics, when set, counts the trigger routes' answers.
	metrics Metrics
}

// Metrics records the operators' metrics (*metrics.Recorder).
type Metrics interface {
	Add(m metrics.Metric, v float64, d metrics.Dims)
}

// WithMetrics counts every answer of a trigger route in m (Triggers, by
// route, status and outcome).
func WithMetrics(m Metrics) Option { return func(rt *router) { rt.metrics = m } }

// Limiter decides whether a tenant may make one more request of a route
// group now (*ratelimit.Limiter).
type Limiter interface {
	// Allow returns nil to admit the request, or a derrors.TooManyRequests
	// error, whose RetryAfter becomes the Retry-After header, to refuse it.
	Allow(ctx context.Context, t tenant.Tenant, g ratelimit.Group) error
}

// Option configures a handler.
type Option func(*router)

// WithLimiter holds every authenticated route to l's rate limits; a
// refused request is a 429 before its body is read.
func WithLimiter(l Limiter) Option { return func(rt *router) { rt.limiter = l } }

// with applies opts to rt.
func (rt *router) with(opts []Option) *router {
	for _, o := range opts {
		o(rt)
	}
	return rt
}

// admit asks the limiter about an authenticated request (the tenant is
// known); public routes are not limited.
func (rt *router) admit(ctx context.Context, r *request, rte route) error {
	if rt.limiter == nil || rte.scopes == nil {
		return nil
	}
	g := rte.group
	if g == "" {
		g = ratelimit.Management
	}
	return rt.limiter.Allow(ctx, r.principal.Tenant, g)
}

// Authenticator decides who a request comes from (auth.Authenticator,
// usually over auth.CachedKeys).
type Authenticator interface {
	Authenticate(ctx context.Context, h auth.Headers) (auth.Principal, error)
}

// Access is how a function's routes know their callers: every authorized
// route authenticates in the function itself (no Lambda authorizer), and
// the token route issues access tokens when Tokens is set.
type Access struct {
	Auth   Authenticator
	Tokens *auth.Tokens
	// Now is the clock of token issue (nil: the wall clock).
	Now func() time.Time
}

func (rt *router) serve(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	start := time.Now()
	reqID := ev.RequestContext.RequestID
	r := &request{event: ev, report: map[string]string{}}
	status, resp := rt.dispatch(ctx, r)
	if rt.metrics != nil && r.trigger != "" {
		outcome := "refused"
		if status < 300 {
			outcome = "accepted"
		}
		rt.metrics.Add(metrics.Triggers, 1, metrics.Dims{Route: r.trigger, Status: strconv.Itoa(status), Outcome: outcome,
			Tenant: r.principal.Tenant})
	}
	// Only ids and statuses are logged: never bodies, addresses or context.
	rt.log.InfoContext(ctx, "request", "awsRequestId", reqID, "route", r.event.RouteKey, "status", status,
		"tenant", r.principal.Tenant.String(), "keyId", r.principal.KeyID, "ms", time.Since(start).Milliseconds())
	return resp, nil
}

func (rt *router) dispatch(ctx context.Context, r *request) (int, events.APIGatewayV2HTTPResponse) {
	var rte route
	fail := func(err error) (int, events.APIGatewayV2HTTPResponse) {
		if _, decoded := r.report["requestId"]; rte.namesRequest && !decoded {
			// Failed before the route decoded the body: read the names
			// from it (only now, so a request that succeeds parses once).
			scanRequestNames(r.event, r.report)
		}
		resp := errorResponse(ctx, rt.log, r.event.RequestContext.RequestID, err, r.report)
		return resp.StatusCode, resp
	}
	rte, ok := rt.routes[r.event.RouteKey]
	if !ok {
		var allow []string
		var err error
		if rte, allow, err = rt.resolve(r); err != nil {
			status, resp := fail(err)
			if allow != nil {
				resp.Headers["Allow"] = strings.Join(allow, ", ")
			}
			return status, resp
		}
	}
	r.trigger = rte.trigger
	if rte.scopes != nil {
		p, err := rt.authenticate(ctx, r)
		if err != nil {
			return fail(err)
		}
		r.principal = p
		if !hasAny(p, rte.scopes) {
			return fail(derrors.New(derrors.Forbidden, "the credential lacks the %s scope", rte.scopes[0]))
		}
	}
	if err := rt.admit(ctx, r, rte); err != nil {
		return fail(err)
	}
	if err := checkParams(r.event); err != nil {
		return fail(err)
	}
	body, err := readBody(r.event, rte.maxBody)
	if err != nil {
		return fail(err)
	}
	r.body = body
	status, out, err := rte.handle(ctx, r)
	if err != nil {
		return fail(err)
	}
	if raw, ok := out.(events.APIGatewayV2HTTPResponse); ok {
		return raw.StatusCode, raw // a non-JSON answer (HTML, 204)
	}
	if status == http.StatusNoContent {
		return status, events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: map[string]string{"Content-Type": "application/json"}}
	}
	resp := jsonResponse(status, out)
	if e, ok := out.(interface{ ETag() string }); ok {
		resp.Headers["ETag"] = e.ETag()
	}
	return status, resp
}

func hasAny(p auth.Principal, scopes []auth.Scope) bool {
	for _, s := range scopes {
		if p.Has(s) {
			return true
		}
	}
	return false
}

func readBody(ev events.APIGatewayV2HTTPRequest, limit int) ([]byte, error) {
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			return nil, derrors.Validation(derrors.FieldError{Field: "body", Message: "is not valid base64"})
		}
		body = b
	}
	if limit > 0 && len(body) > limit {
		return nil, derrors.New(derrors.TooLarge, "the request body is %d bytes; the limit is %d", len(body), limit)
	}
	// encoding/json would turn bad text into U+FFFD without a word.
	if err := strictjson.CheckText(body); err != nil {
		return nil, err
	}
	return body, nil
}

// scanRequestNames copies the top-level requestId and campaignId of a
// JSON object body into report, best effort: it reads the body as far as
// it is well formed, matches names as encoding/json does (the last of
// case-insensitively equal names wins) and skips values that are not
// strings or are longer than maxPathParam. The route's decoder, once it
// succeeds, has the last word.
func scanRequestNames(ev events.APIGatewayV2HTTPRequest, report map[string]string) {
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			return
		}
		body = b
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return
		}
		key, _ := t.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return
		}
		for _, name := range []string{"requestId", "campaignId"} {
			var v string
			if strings.EqualFold(key, name) && json.Unmarshal(raw, &v) == nil && len(v) <= maxPathParam {
				report[name] = strings.ToValidUTF8(v, "\uFFFD")
			}
		}
	}
}

// maxPathParam bounds a path parameter: every id Herald issues or
// accepts (campaigns, profiles, addresses, executions) is far shorter, and
// a store key built from a longer one could exceed DynamoDB's key size.
const maxPathParam = 512

// checkParams refuses path and query parameters that are not valid UTF-8
// (a key built from one would not be the key the caller meant) and path
// parameters over maxPathParam bytes.
func checkParams(ev events.APIGatewayV2HTTPRequest) error {
	var f derrors.Fields
	for _, m := range []map[string]string{ev.PathParameters, ev.QueryStringParameters} {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if !utf8.ValidString(k) || !utf8.ValidString(m[k]) {
				f.Add(strings.ToValidUTF8(k, "\uFFFD"), "must be valid UTF-8")
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(ev.PathParameters)) {
		if len(ev.PathParameters[k]) > maxPathParam {
			f.Add(k, "must be at most %d bytes", maxPathParam)
		}
	}
	return f.Err()
}

// credentialHeaders are the request headers authentication reads.
var credentialHeaders = [...]string{"authorization", "x-api-key", "x-gw-ims-org-id", "x-sandbox-name"}

// authenticate establishes the caller from the request's own headers.
// The tenant comes only from here, never from a body or a header a route
// reads.
func (rt *router) authenticate(ctx context.Context, r *request) (auth.Principal, error) {
	if rt.access.Auth == nil {
		return auth.Principal{}, errors.New("the router has no authenticator")
	}
	h := make(auth.Headers, len(credentialHeaders))
	for _, name := range credentialHeaders {
		if v := r.header(name); v != "" {
			h[name] = v
		}
	}
	return rt.access.Auth.Authenticate(ctx, h)
}

// header returns a request header. API Gateway lower-cases their names;
// the local gateway and hand-written events may not.
func (r *request) header(name string) string {
	if v, ok := r.event.Headers[name]; ok {
		return v
	}
	for k, v := range r.event.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
