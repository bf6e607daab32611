// Package faultproxy injects AWS faults between Herald and moto: an HTTP
// proxy in front of moto that knows each call's operation (JSON
// X-Amz-Target, Query Action=, SES v2 and Scheduler REST paths) and fails
// the calls a Plan names, the ways networks and providers fail — an
// AWS-shaped error answer, a throttle, a reset before or after forwarding,
// a 5xx after forwarding, latency, a dropped answer, a duplicated request.
//
// A request that never reaches the provider cannot be made by a proxy:
// the client has written it to the proxy's socket by the time the proxy
// decides. That fault (Unreachable) is injected on the client's side by
// Transport, as the refused connection a dead endpoint gives.
//
// The local cloud runs one in front of moto (herald-local -fault-plan FILE
// loads a Plan), and the fault-injection tests change its rules as they go.
package faultproxy

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Fault is what a rule does to the requests it matches.
type Fault string

// Faults.
const (
	// Error answers an AWS-shaped error (Rule.Status, Rule.Code,
	// Rule.Message; by default the service's 500) without forwarding.
	Error Fault = "error"
	// Throttle answers the service's throttling error without forwarding.
	Throttle Fault = "throttle"
	// Reset closes the connection with an RST without forwarding (the
	// client has written its request: to it the answer is lost).
	Reset Fault = "reset"
	// ForwardReset forwards the request, then closes the connection
	// without answering: the provider did it, the client never hears.
	ForwardReset Fault = "forward-reset"
	// Forward5xx forwards the request, then answers a 500.
	Forward5xx Fault = "forward-5xx"
	// Delay waits Rule.Delay, then forwards (even if the client has given
	// up by then, as a slow network would deliver it).
	Delay Fault = "delay"
	// Drop forwards the request and never answers: the client waits until
	// its timeout.
	Drop Fault = "drop"
	// Duplicate forwards the request twice and answers the second.
	Duplicate Fault = "duplicate"
	// Unreachable refuses the connection before anything is written (only
	// through Transport).
	Unreachable Fault = "unreachable"
)

// Duration is a time.Duration written as "2s" in a plan file.
type Duration time.Duration

// UnmarshalJSON reads "2s" or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		*d = Duration(v)
		return err
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("duration: want \"2s\": %w", err)
	}
	*d = Duration(n)
	return nil
}

// MarshalJSON writes the duration as "2s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// Rule fails the requests of one operation whose body holds every Match
// string.
type Rule struct {
	Name string `json:"name,omitempty"`
	// Operation is the AWS operation: SendEmail, Publish, PutItem,
	// UpdateItem, TransactWriteItems, SendMessageBatch, ... ("*" for any).
	Operation string `json:"operation"`
	// Match lists substrings the request body must all hold (a userId, a
	// requestId, `"S":"claimed"`).
	Match []string `json:"match,omitempty"`
	Fault Fault    `json:"fault"`
	// Status and Code shape an Error (or Throttle) answer.
	Status int    `json:"status,omitempty"`
	Code   string `json:"code,omitempty"`
	// Message is the error's text in an Error or Throttle answer
	// ("injected fault" by default). Providers put data in theirs: SES
	// sandbox's MessageRejected names the address ("Email address is not
	// verified. The following identities failed the check in region
	// US-EAST-1: jane@example.com"), SNS's InvalidParameter quotes the
	// phone number or token.
	Message string `json:"message,omitempty"`
	// Delay is Delay's wait.
	Delay Duration `json:"delay,omitempty"`
	// Times is how many matching requests the rule fails; 0 is every one.
	Times int `json:"times,omitempty"`
	// For ends the rule that long after its first hit; 0 never does.
	For Duration `json:"for,omitempty"`
	// Probability is the chance a matching request is failed (0: always).
	Probability float64 `json:"probability,omitempty"`
}

// Plan is a set of rules; the first rule that takes a request applies.
type Plan struct {
	// Seed makes Probability rolls repeatable (0: random).
	Seed  uint64 `json:"seed,omitempty"`
	Rules []Rule `json:"rules"`
}

// LoadPlan reads a plan from a JSON file.
func LoadPlan(path string) (Plan, error) {
	var p Plan
	b, err := os.ReadFile(path)
	if err != nil {
		return p, fmt.Errorf("fault plan: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return p, fmt.Errorf("fault plan %s: %w", path, err)
	}
	for i, r := range p.Rules {
		if err := r.validate(); err != nil {
			return p, fmt.Errorf("fault plan %s: rules[%d]: %w", path, i, err)
		}
	}
	return p, nil
}

func (r Rule) validate() error {
	switch r.Fault {
	case Error, Throttle, Reset, ForwardReset, Forward5xx, Delay, Drop, Duplicate, Unreachable:
	default:
		return fmt.Errorf("unknown fault %q", r.Fault)
	}
	if r.Operation == "" {
		return fmt.Errorf("operation is required (\"*\" for any)")
	}
	if r.Fault == Delay && r.Delay <= 0 {
		return fmt.Errorf("a delay needs delay")
	}
	if r.Probability < 0 || r.Probability > 1 {
		return fmt.Errorf("probability must be between 0 and 1")
	}
	return nil
}

// Event is one injected fault.
type Event struct {
	At        time.Time
	Rule      string
	Operation string
	Fault     Fault
}

// Proxy forwards requests to an AWS endpoint (moto), failing those its
// rules take. It is safe for concurrent use.
type Proxy struct {
	target *url.URL
	client *http.Client

	mu     sync.Mutex
	rules  []*ruleState
	rng    *rand.Rand
	events []Event
	calls  map[string]int
	// inFlight and peak count, per operation, the calls under way and the
	// most ever under way at once (since ResetPeaks).
	inFlight, peak map[string]int
	// logging and log: the calls seen since StartLog.
	logging bool
	log     []Call
}

// Call is one AWS call the proxy saw: its operation, when its request
// had arrived (body read) and when its answer had been written, short of
// the final flush — so a call its client makes after reading the answer
// always starts after this one's End.
type Call struct {
	Service, Operation string
	Start, End         time.Time
}

type ruleState struct {
	Rule
	hits  int
	first time.Time
}

// New returns a proxy to target ("http://127.0.0.1:5000") applying plan.
func New(target string, plan Plan) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("fault proxy target: %w", err)
	}
	p := &Proxy{target: u, client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}}}
	p.SetPlan(plan)
	return p, nil
}

// SetPlan replaces every rule (and resets their counts).
func (p *Proxy) SetPlan(plan Plan) {
	p.mu.Lock()
	defer p.mu.Unlock()
	seed := plan.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	p.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	p.rules = nil
	for _, r := range plan.Rules {
		p.rules = append(p.rules, &ruleState{Rule: r})
	}
}

// Add appends rules to the plan.
func (p *Proxy) Add(rules ...Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range rules {
		p.rules = append(p.rules, &ruleState{Rule: r})
	}
}

// Remove deletes the rules named name.
func (p *Proxy) Remove(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	kept := p.rules[:0]
	for _, r := range p.rules {
		if r.Name != name {
			kept = append(kept, r)
		}
	}
	p.rules = kept
}

// Hits returns how many requests the rules named name have failed.
func (p *Proxy) Hits(name string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, r := range p.rules {
		if r.Name == name {
			n += r.hits
		}
	}
	return n
}

// Calls returns how many requests of each operation the proxy has seen.
func (p *Proxy) Calls() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.calls))
	for k, v := range p.calls {
		out[k] = v
	}
	return out
}

// Peak returns the most calls of the operation that were under way at
// once since the proxy started or ResetPeaks: how concurrently Herald
// calls it.
func (p *Proxy) Peak(op string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peak[op]
}

// ResetPeaks starts counting Peak again from the calls under way now.
func (p *Proxy) ResetPeaks() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for op := range p.peak {
		p.peak[op] = p.inFlight[op]
	}
}

// StartLog starts recording every call (CallLog), forgetting those
// recorded before.
func (p *Proxy) StartLog() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.logging, p.log = true, nil
}

// CallLog returns the calls recorded since StartLog, in the order they
// ended, and stops recording.
func (p *Proxy) CallLog() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.logging = false
	return append([]Call(nil), p.log...)
}

// Depth is the length of the longest chain of calls each of which
// started after the one before it had ended: the round trips a caller
// waited for one after another (calls that overlap ran in parallel).
func Depth(calls []Call) int {
	sorted := slices.Clone(calls)
	slices.SortFunc(sorted, func(a, b Call) int { return a.Start.Compare(b.Start) })
	depth, best := make([]int, len(sorted)), 0
	for i, c := range sorted {
		depth[i] = 1
		for j := range i {
			if !sorted[j].End.After(c.Start) {
				depth[i] = max(depth[i], depth[j]+1)
			}
		}
		best = max(best, depth[i])
	}
	return best
}

// Events returns every fault injected so far.
func (p *Proxy) Events() []Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Event(nil), p.events...)
}

// take returns the rule that fails this request, if any, counting it.
func (p *Proxy) take(op string, body []byte, clientSide bool) *Rule {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	for _, r := range p.rules {
		if (r.Fault == Unreachable) != clientSide {
			continue
		}
		if r.Operation != "*" && r.Operation != op {
			continue
		}
		if r.Times > 0 && r.hits >= r.Times {
			continue
		}
		if r.For > 0 && !r.first.IsZero() && now.Sub(r.first) >= time.Duration(r.For) {
			continue
		}
		matched := true
		for _, m := range r.Match {
			if !bytes.Contains(body, []byte(m)) {
				matched = false
				break
			}
		}
		if !matched {
			continue
		}
		if r.Probability > 0 && r.Probability < 1 && p.rng.Float64() >= r.Probability {
			continue
		}
		r.hits++
		if r.first.IsZero() {
			r.first = now
		}
		p.events = append(p.events, Event{At: now, Rule: r.Name, Operation: op, Fault: r.Fault})
		rule := r.Rule
		return &rule
	}
	return nil
}

// Operation names the AWS operation of a request and its service.
func Operation(h http.Header, method, path string, body []byte) (service, op string) {
	if t := h.Get("X-Amz-Target"); t != "" {
		prefix, name, _ := strings.Cut(t, ".")
		switch {
		case strings.HasPrefix(prefix, "DynamoDB"):
			return "dynamodb", name
		case strings.HasPrefix(prefix, "AmazonSQS"):
			return "sqs", name
		}
		return strings.ToLower(prefix), name
	}
	if strings.HasPrefix(path, "/v2/email/") {
		switch {
		case method == http.MethodPost && path == "/v2/email/outbound-emails":
			return "ses", "SendEmail"
		case path == "/v2/email/account":
			return "ses", "GetAccount"
		case strings.HasPrefix(path, "/v2/email/identities"):
			return "ses", "EmailIdentity"
		}
		return "ses", method + " " + path
	}
	if strings.HasPrefix(path, "/schedules") || strings.HasPrefix(path, "/schedule-groups") {
		return "scheduler", method + " " + path
	}
	if vals, err := url.ParseQuery(string(body)); err == nil && vals.Get("Action") != "" {
		return "sns", vals.Get("Action")
	}
	return "", ""
}

// ServeHTTP forwards r to the target, unless a rule fails it.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read request: "+err.Error(), http.StatusBadGateway)
		return
	}
	service, op := Operation(r.Header, r.Method, r.URL.Path, body)
	start := time.Now()
	p.mu.Lock()
	if p.calls == nil {
		p.calls, p.inFlight, p.peak = map[string]int{}, map[string]int{}, map[string]int{}
	}
	p.calls[op]++
	p.inFlight[op]++
	p.peak[op] = max(p.peak[op], p.inFlight[op])
	p.mu.Unlock()
	defer func() {
		// Before the handler returns: the server flushes the answer's end
		// only then, so the client cannot have it yet.
		end := time.Now()
		p.mu.Lock()
		p.inFlight[op]--
		if p.logging && !strings.HasPrefix(r.URL.Path, "/moto-api") {
			p.log = append(p.log, Call{Service: service, Operation: op, Start: start, End: end})
		}
		p.mu.Unlock()
	}()
	var rule *Rule
	if op != "" && !strings.HasPrefix(r.URL.Path, "/moto-api") {
		rule = p.take(op, body, false)
	}
	if rule == nil {
		p.forwardAndCopy(w, r, body)
		return
	}
	switch rule.Fault {
	case Error:
		writeError(w, service, rule.Status, rule.Code, rule.Message, false)
	case Throttle:
		writeError(w, service, rule.Status, rule.Code, rule.Message, true)
	case Reset:
		reset(w)
	case ForwardReset:
		if resp, err := p.forward(r, body); err == nil {
			resp.Body.Close()
		}
		reset(w)
	case Forward5xx:
		if resp, err := p.forward(r, body); err == nil {
			resp.Body.Close()
		}
		writeError(w, service, 500, "", "", false)
	case Delay:
		time.Sleep(time.Duration(rule.Delay))
		p.forwardAndCopy(w, r, body)
	case Drop:
		if resp, err := p.forward(r, body); err == nil {
			resp.Body.Close()
		}
		select {
		case <-r.Context().Done():
		case <-time.After(time.Minute):
		}
		reset(w)
	case Duplicate:
		if resp, err := p.forward(r, body); err == nil {
			resp.Body.Close()
		}
		p.forwardAndCopy(w, r, body)
	}
}

// forward sends the request to the target, detached from the client: a
// request the client gave up on still arrives, as it would over a slow
// network.
func (p *Proxy) forward(r *http.Request, body []byte) (*http.Response, error) {
	u := *p.target
	u.Path, u.RawQuery = r.URL.Path, r.URL.RawQuery
	req, err := http.NewRequest(r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = r.Header.Clone()
	req.Header.Del("Connection")
	return p.client.Do(req)
}

func (p *Proxy) forwardAndCopy(w http.ResponseWriter, r *http.Request, body []byte) {
	resp, err := p.forward(r, body)
	if err != nil {
		http.Error(w, "forward: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		if strings.EqualFold(k, "Content-Length") || strings.EqualFold(k, "Connection") {
			continue
		}
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

// reset closes the client's connection with an RST.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// writeError answers the error a service would: JSON with __type for
// DynamoDB and SQS, X-Amzn-ErrorType for SES v2, an XML ErrorResponse for
// SNS (Query protocol), with msg as the error's message.
func writeError(w http.ResponseWriter, service string, status int, code, msg string, throttle bool) {
	if status == 0 {
		status = 500
		if throttle {
			status = 400
		}
	}
	if code == "" {
		code = defaultCode(service, throttle)
	}
	if msg == "" {
		msg = "injected fault"
	}
	if throttle && service == "ses" && status == 400 {
		status = 429
	}
	switch service {
	case "dynamodb", "sqs":
		ns := "com.amazonaws.dynamodb.v20120810#"
		if service == "sqs" {
			ns = "com.amazonaws.sqs#"
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Header().Set("X-Amzn-Query-Error", code+";Sender")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": ns + code, "message": msg})
	case "ses", "scheduler":
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-ErrorType", code)
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
	default:
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		var esc bytes.Buffer
		_ = xml.EscapeText(&esc, []byte(msg))
		fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>faultproxy</RequestId></ErrorResponse>`, code, esc.String())
	}
}

func defaultCode(service string, throttle bool) string {
	if throttle {
		switch service {
		case "dynamodb":
			return "ProvisionedThroughputExceededException"
		case "sqs":
			return "RequestThrottled"
		case "ses":
			return "TooManyRequestsException"
		}
		return "Throttled"
	}
	switch service {
	case "dynamodb":
		return "InternalServerError"
	case "ses":
		return "InternalFailure"
	}
	return "InternalError"
}

// Transport wraps base so that requests an Unreachable rule takes fail as
// a refused connection, before anything is written.
func (p *Proxy) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{p: p, base: base}
}

type transport struct {
	p    *Proxy
	base http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	if _, op := Operation(req.Header, req.Method, req.URL.Path, body); op != "" {
		if t.p.take(op, body, true) != nil {
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
		}
	}
	return t.base.RoundTrip(req)
}
