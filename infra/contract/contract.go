// Package contract holds the OpenAPI contract tests' checker: it validates
// every request and response an end-to-end suite makes through the local
// cloud against Herald's document (internal/openapi) and every /im/*
// response against Adobe Journey Optimizer's contract
// (../shared/reference/ajo-messaging.openapi.yaml beside the clone).
//
// It is for tests only: it links kin-openapi, which no function binary
// may (TestNoFunctionLinksTheValidator checks). A suite hooks it in with
// localcloud.Options{Contract: contract.MustLoad()}.
package contract

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/heraldhq/herald/infra/localcloud"
	"github.com/heraldhq/herald/internal/openapi"
)

// AJOContractPath is where the AJO contract lives, relative to the module
// root: beside the clone, as CI and the engineers' machines have it.
const AJOContractPath = "../shared/reference/ajo-messaging.openapi.yaml"

// ajoBasePath is AJO's base path, under which Herald serves every route.
const ajoBasePath = "/ajo"

// Checker validates exchanges (localcloud.Contract). Every violation is
// named by method, route, status and what is wrong, never by a body's
// values or an address.
type Checker struct {
	herald, ajo *openapi3.T

	pending sync.WaitGroup // validations under way
	one     sync.Mutex     // held by the one validation running

	mu         sync.Mutex
	pairs      int
	violations map[string]int // a violation's text → how many times
}

var _ localcloud.Contract = (*Checker)(nil)

func init() {
	// The unsubscribe routes answer HTML pages, and the console's files
	// are HTML, CSS, JavaScript and SVG: a string to the schema.
	for _, ct := range []string{"text/html", "text/css", "text/javascript", "image/svg+xml"} {
		openapi3filter.RegisterBodyDecoder(ct, func(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
			b, err := io.ReadAll(body)
			return string(b), err
		})
	}
}

// Load reads Herald's document and the AJO contract (found from the module
// root, the nearest directory above the working directory with a go.mod).
func Load() (*Checker, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	herald, err := LoadHerald()
	if err != nil {
		return nil, err
	}
	// AJO's own examples break its schemas (targetedProfileCount's
	// example is the string "2"): its document is checked without them.
	ajo, err := loadDoc(filepath.Join(root, filepath.FromSlash(AJOContractPath)), openapi3.DisableExamplesValidation())
	if err != nil {
		return nil, fmt.Errorf("the AJO contract (expected at %s beside the module): %w", AJOContractPath, err)
	}
	anyOfScheduledOrStarted(ajo)
	return &Checker{herald: herald, ajo: ajo, violations: map[string]int{}}, nil
}

// anyOfScheduledOrStarted reads AJO's audience execution answer, "oneOf
// imExecutionResponse, ScheduledExecutionResponse", as anyOf: AJO's
// imExecutionResponse requires no member and allows any, so a scheduled
// answer matches both, and no answer could keep oneOf. Herald's document
// requires executionId, which tells the two apart.
func anyOfScheduledOrStarted(ajo *openapi3.T) {
	item := ajo.Paths.Value("/im/executions/audience")
	if item == nil || item.Post == nil {
		return
	}
	resp := item.Post.Responses.Status(http.StatusAccepted)
	if resp == nil || resp.Value == nil {
		return
	}
	if mt := resp.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil && mt.Schema.Value != nil && len(mt.Schema.Value.OneOf) > 0 {
		mt.Schema.Value.AnyOf, mt.Schema.Value.OneOf = mt.Schema.Value.OneOf, nil
	}
}

// MustLoad is Load for a TestMain, which has no error to return: it
// panics with Load's error.
func MustLoad() *Checker {
	c, err := Load()
	if err != nil {
		panic(fmt.Sprintf("contract: %v", err))
	}
	return c
}

// LoadHerald loads and validates Herald's embedded OpenAPI document.
func LoadHerald() (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(openapi.Document())
	if err != nil {
		return nil, fmt.Errorf("load herald.openapi.json: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("herald.openapi.json is not valid: %w", err)
	}
	return doc, nil
}

func loadDoc(path string, opts ...openapi3.ValidationOption) (*openapi3.T, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	doc, err := openapi3.NewLoader().LoadFromData(data)
	if err != nil {
		return nil, err
	}
	return doc, doc.Validate(context.Background(), opts...)
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Observe validates one exchange and records what is wrong with it. It
// returns at once: the gateway answers the client without waiting, and
// one exchange is validated at a time (kin-openapi compiles a schema for
// each validation, which would otherwise slow the suite's timing-sensitive
// tests on a small machine). Verdict waits for every validation.
func (c *Checker) Observe(x localcloud.Exchange) {
	c.pending.Add(1)
	go func() {
		defer c.pending.Done()
		c.one.Lock()
		defer c.one.Unlock()
		c.observe(x)
	}()
}

func (c *Checker) observe(x localcloud.Exchange) {
	found := c.Check(x)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pairs++
	for _, v := range found {
		c.violations[v]++
	}
}

// Pairs is the number of exchanges validated, once they all are.
func (c *Checker) Pairs() int {
	c.pending.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pairs
}

// Verdict lists the violations, each once with its count, or returns nil.
// It prints the number of exchanges validated either way.
func (c *Checker) Verdict() error {
	c.pending.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(os.Stderr, "contract: %d request/response pairs validated, %d distinct violations\n", c.pairs, len(c.violations))
	if len(c.violations) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d distinct violations in %d exchanges:", len(c.violations), c.pairs)
	for _, v := range slices.Sorted(maps.Keys(c.violations)) {
		fmt.Fprintf(&b, "\n  %s (×%d)", v, c.violations[v])
	}
	return errors.New(b.String())
}

// Check validates one exchange and returns what is wrong with it, each
// line naming the method, the route and the status.
//
// Against Herald's document: the response always (an undocumented status
// is a violation); the request only when the response is a success, since
// the suites send malformed requests on purpose and expect a 4xx. A path
// the document lacks must be a 404, and a method its path lacks a 405
// with Allow, both in the errorResponse shape. Under /im/ (and /ajo/im/)
// the response is also held to AJO's contract: every status ≥ 400 in its
// errorResponse shape, a success by the schema AJO gives it. AJO's request
// schemas are narrower than what AJO accepts (typed context values), so
// requests are not held to them.
func (c *Checker) Check(x localcloud.Exchange) []string {
	var out []string
	path, _ := strings.CutPrefix(x.Path, ajoBasePath)
	if path != x.Path && path != "" && path[0] != '/' {
		path = x.Path // "/ajox" is not under /ajo
	}
	pattern, route, params, err := findRoute(c.herald, x.Method, path)
	name := x.Method + " " + redacted(path)
	if pattern != "" {
		name = x.Method + " " + pattern
	}
	fail := func(what string, args ...any) {
		out = append(out, fmt.Sprintf("%s → %d: %s", name, x.Status, fmt.Sprintf(what, args...)))
	}
	// A gzipped body (Content-Encoding: gzip, as GET /openapi.json
	// answers a client that accepts it) is held to the contract as the
	// client reads it, decompressed.
	if strings.EqualFold(x.ResponseHeader.Get("Content-Encoding"), "gzip") {
		body, gzErr := gunzip(x.ResponseBody)
		if gzErr != nil {
			fail("Content-Encoding gzip, but the body is not gzip: %v", gzErr)
			return out
		}
		x.ResponseBody = body
	}
	switch {
	case errors.Is(err, routers.ErrPathNotFound):
		if x.Status != http.StatusNotFound {
			fail("the document has no such path; want 404")
		}
		c.checkError(c.herald, x, fail)
	case errors.Is(err, routers.ErrMethodNotAllowed):
		if x.Status != http.StatusMethodNotAllowed {
			fail("the document has no such method on the path; want 405")
		} else if x.ResponseHeader.Get("Allow") == "" {
			fail("405 without Allow")
		}
		c.checkError(c.herald, x, fail)
	default:
		c.checkHerald(x, route, params, fail)
	}
	if strings.HasPrefix(path, "/im/") {
		c.checkAJO(x, path, fail)
	}
	return out
}

func (c *Checker) checkHerald(x localcloud.Exchange, route *routers.Route, params map[string]string, fail func(string, ...any)) {
	in := requestInput(x, route, params)
	if x.Status >= 200 && x.Status < 300 {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			fail("request: %s", describe(err, x.RequestBody))
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: x.Status, Header: x.ResponseHeader,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
	out.SetBodyBytes(x.ResponseBody)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		fail("response: %s", describe(err, x.ResponseBody))
	}
}

func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// checkAJO holds an /im/* response to the AJO contract.
func (c *Checker) checkAJO(x localcloud.Exchange, path string, fail func(string, ...any)) {
	if x.Status >= 400 {
		c.checkError(c.ajo, x, func(what string, args ...any) { fail("AJO contract: "+what, args...) })
		return
	}
	_, route, params, err := findRoute(c.ajo, x.Method, path)
	if err != nil {
		fail("AJO contract: a success for a route AJO does not have")
		return
	}
	in := requestInput(x, route, params)
	in.Options.ExcludeRequestBody = true
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: x.Status, Header: x.ResponseHeader,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
	out.SetBodyBytes(x.ResponseBody)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		fail("AJO contract: response: %s", describe(err, x.ResponseBody))
	}
}

// checkError holds an error response to doc's errorResponse schema.
func (c *Checker) checkError(doc *openapi3.T, x localcloud.Exchange, fail func(string, ...any)) {
	schema := doc.Components.Schemas["errorResponse"]
	if schema == nil || schema.Value == nil {
		fail("the document has no errorResponse schema")
		return
	}
	if ct := x.ResponseHeader.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		fail("error with Content-Type %q, not JSON", ct)
		return
	}
	var v any
	if err := json.Unmarshal(x.ResponseBody, &v); err != nil {
		fail("error body is not JSON")
		return
	}
	var opts []openapi3.SchemaValidationOption
	if doc.IsOpenAPI31OrLater() {
		opts = append(opts, openapi3.EnableJSONSchema2020())
	}
	if err := schema.Value.VisitJSON(v, opts...); err != nil {
		fail("error body is not an errorResponse: %s", describe(err, x.ResponseBody))
		return
	}
	if doc != c.ajo {
		return
	}
	// AJO's schema requires none of its members; its shape is all of them.
	obj, _ := v.(map[string]any)
	var missing []string
	for _, name := range slices.Sorted(maps.Keys(schema.Value.Properties)) {
		if _, ok := obj[name]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		fail("error body is not an errorResponse: it lacks %s", strings.Join(missing, ", "))
	}
}

func requestInput(x localcloud.Exchange, route *routers.Route, params map[string]string) *openapi3filter.RequestValidationInput {
	req, _ := http.NewRequest(x.Method, "http://herald.local"+x.Path+"?"+x.RawQuery, bytes.NewReader(x.RequestBody))
	req.Header = x.RequestHeader.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	return &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}}
}

// findRoute finds the operation of doc that serves method and path as
// Herald's router does (internal/httpapi): segments match literally, a
// {param} matches one non-empty segment, and the most literal match wins.
// pattern is the path's template whenever the path is doc's.
func findRoute(doc *openapi3.T, method, path string) (pattern string, _ *routers.Route, _ map[string]string, _ error) {
	segs := split(path)
	var best string
	var bestParams map[string]string
	bestScore := -1
	for _, p := range doc.Paths.InMatchingOrder() {
		params, score, ok := match(split(p), segs)
		if ok && score > bestScore {
			best, bestParams, bestScore = p, params, score
		}
	}
	if best == "" {
		return "", nil, nil, routers.ErrPathNotFound
	}
	item := doc.Paths.Value(best)
	op := item.GetOperation(method)
	if op == nil {
		return best, nil, nil, routers.ErrMethodNotAllowed
	}
	return best, &routers.Route{Spec: doc, Path: best, PathItem: item, Method: method, Operation: op}, bestParams, nil
}

func split(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

func match(pattern, path []string) (map[string]string, int, bool) {
	if len(pattern) != len(path) {
		return nil, 0, false
	}
	params := map[string]string{}
	score := 0
	for i, ps := range pattern {
		if strings.HasPrefix(ps, "{") && strings.HasSuffix(ps, "}") {
			if path[i] == "" {
				return nil, 0, false
			}
			v, err := url.PathUnescape(path[i])
			if err != nil {
				v = path[i]
			}
			params[ps[1:len(ps)-1]] = v
			continue
		}
		if ps != path[i] {
			return nil, 0, false
		}
		score += 1 << (len(pattern) - i) // earlier literal segments weigh more
	}
	return params, score, true
}

// redacted names a path no route has by its first segment only: the rest
// may hold an address.
func redacted(path string) string {
	segs := split(path)
	if len(segs) == 0 {
		return "/"
	}
	first := segs[0]
	if len(first) > 40 {
		first = first[:40] + "…"
	}
	if len(segs) == 1 {
		return "/" + first
	}
	return "/" + first + "/…"
}
