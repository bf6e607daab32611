// Package tracing records Herald's part of AWS X-Ray traces: a subsegment
// per invocation (or per queued job), a subsegment per AWS call under it,
// and the trace header passed on to every AWS service Herald calls, so a
// trace follows a trigger from its function through the dispatch queue to
// SES and SNS.
//
// It writes X-Ray segment documents to the X-Ray daemon that Lambda runs
// beside a function with active tracing (AWS_XRAY_DAEMON_ADDRESS), one UDP
// datagram per invocation subsegment, when the invocation ends. It records
// only what Lambda's trace header says is sampled, and nothing at all when
// no daemon address is set (herald-key, tests, the local cloud unless a
// test opts in). It is written here rather than taken from the X-Ray SDK
// or OpenTelemetry because it needs neither's machinery: no sampling
// rules (Lambda decides), no exporter, no extra dependency in any
// function (see docs/operations.md#tracing for what it costs).
//
// What a subsegment carries is never personal: names of services and
// operations, table names and queue URLs, HTTP statuses, AWS request ids,
// error codes (never error messages, which can quote an address), and the
// annotations Herald sets: executionId and campaignId.
package tracing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/aws/smithy-go"
)

// DaemonAddressVariable names the environment variable through which
// Lambda tells a function with active tracing where its X-Ray daemon
// listens.
const DaemonAddressVariable = "AWS_XRAY_DAEMON_ADDRESS"

// lambdaTraceKey is the context key under which aws-lambda-go passes an
// invocation's trace header (it also sets _X_AMZN_TRACE_ID, which
// concurrent work must not read: the key is per invocation).
const lambdaTraceKey = "x-amzn-trace-id"

// maxDatagram bounds one document: the daemon reads UDP datagrams of up to
// 64 KiB; a larger subsegment is sent as its children first, each on its
// own, then itself without them.
const maxDatagram = 62 * 1024

// datagramHeader precedes every document sent to the daemon.
const datagramHeader = "{\"format\": \"json\", \"version\": 1}\n"

// Header is an X-Ray trace header: Root=<trace id>;Parent=<segment
// id>;Sampled=<0|1>.
type Header struct {
	Root    string
	Parent  string
	Sampled bool
}

// ParseHeader reads a trace header as Lambda, SQS and X-Ray write it; ok
// is false when it names no trace or no parent.
func ParseHeader(s string) (h Header, ok bool) {
	for part := range strings.SplitSeq(s, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Root":
			h.Root = v
		case "Parent":
			h.Parent = v
		case "Sampled":
			h.Sampled = v == "1"
		}
	}
	return h, h.Root != "" && h.Parent != ""
}

// String writes h as a header.
func (h Header) String() string {
	sampled := "0"
	if h.Sampled {
		sampled = "1"
	}
	return "Root=" + h.Root + ";Parent=" + h.Parent + ";Sampled=" + sampled
}

// Tracer sends the subsegments of one process to the X-Ray daemon. A nil
// Tracer traces nothing.
type Tracer struct {
	emit func([]byte) error
	now  func() time.Time
}

// FromEnv returns the tracer of a Lambda function with active tracing:
// nil when getenv has no daemon address. The address is "host:port" or
// the daemon's "tcp:host:port udp:host:port" form (the UDP one is used).
// The socket is opened on the first document sent.
func FromEnv(getenv func(string) string) *Tracer {
	addr := daemonUDPAddress(getenv(DaemonAddressVariable))
	if addr == "" {
		return nil
	}
	var (
		once sync.Once
		conn net.Conn
		derr error
	)
	return New(func(doc []byte) error {
		once.Do(func() { conn, derr = net.Dial("udp", addr) })
		if derr != nil {
			return derr
		}
		_, err := conn.Write(doc)
		return err
	})
}

func daemonUDPAddress(v string) string {
	for f := range strings.FieldsSeq(v) {
		if a, ok := strings.CutPrefix(f, "udp:"); ok {
			return a
		}
		if !strings.HasPrefix(f, "tcp:") {
			return f
		}
	}
	return ""
}

// New returns a tracer handing each datagram (header line and document)
// to emit. A failed emit loses that trace's part, never the invocation.
func New(emit func(datagram []byte) error) *Tracer {
	return &Tracer{emit: emit, now: time.Now}
}

// SetClock sets the clock of the subsegments' times (tests).
func (t *Tracer) SetClock(now func() time.Time) { t.now = now }

// Segment is one subsegment being recorded. Its methods are safe for
// concurrent use, and do nothing on a nil Segment (the call is not
// traced).
type Segment struct {
	t      *Tracer
	parent *Segment
	mu     sync.Mutex
	doc    document
	kids   []*Segment
	// attempts counts an AWS call's HTTP attempts.
	attempts int
}

// document is an X-Ray segment document, as much of it as Herald writes
// (https://docs.aws.amazon.com/xray/latest/devguide/xray-api-segmentdocuments.html).
type document struct {
	Name        string            `json:"name"`
	ID          string            `json:"id"`
	TraceID     string            `json:"trace_id,omitempty"`
	ParentID    string            `json:"parent_id,omitempty"`
	Type        string            `json:"type,omitempty"`
	Start       float64           `json:"start_time"`
	End         float64           `json:"end_time,omitempty"`
	Origin      string            `json:"origin,omitempty"`
	Namespace   string            `json:"namespace,omitempty"`
	Error       bool              `json:"error,omitempty"`
	Throttle    bool              `json:"throttle,omitempty"`
	Fault       bool              `json:"fault,omitempty"`
	Cause       *cause            `json:"cause,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	AWS         map[string]any    `json:"aws,omitempty"`
	HTTP        *httpInfo         `json:"http,omitempty"`
	Subsegments []document        `json:"subsegments,omitempty"`
}

type cause struct {
	Exceptions []exception `json:"exceptions"`
}

type exception struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	Remote bool   `json:"remote,omitempty"`
}

type httpInfo struct {
	Response struct {
		Status int `json:"status"`
	} `json:"response"`
}

type (
	segmentKey struct{}
	tracerKey  struct{}
)

// Begin starts the subsegment of a Lambda invocation, under the function's
// segment that Lambda itself records (the trace header in ctx). It returns
// a nil Segment when t is nil or the invocation is not sampled; the
// context it returns still lets queued work that was sampled join its own
// trace (Continue).
func (t *Tracer) Begin(ctx context.Context, name string) (context.Context, *Segment) {
	if t == nil {
		return ctx, nil
	}
	ctx = context.WithValue(ctx, tracerKey{}, t)
	h, _ := ctx.Value(lambdaTraceKey).(string)
	return Continue(ctx, h, name)
}

// Continue starts a subsegment under the trace header's parent: how a
// queued job's work joins the trace of the call that queued it. A header
// that is missing or unsampled makes it a child of ctx's subsegment
// instead (nil when ctx has none). Outside an invocation Begin started,
// nothing is traced.
func Continue(ctx context.Context, header, name string) (context.Context, *Segment) {
	t, _ := ctx.Value(tracerKey{}).(*Tracer)
	h, ok := ParseHeader(header)
	if t == nil || !ok || !h.Sampled {
		return Child(ctx, name)
	}
	s := &Segment{t: t, doc: document{
		Name: name, ID: newID(), TraceID: h.Root, ParentID: h.Parent, Type: "subsegment",
		Start: seconds(t.now()),
	}}
	return context.WithValue(ctx, segmentKey{}, s), s
}

// Invoke starts a trace as Lambda does for an invocation of a function
// with active tracing: a new sampled trace, the function's segment (origin
// AWS::Lambda::Function) named in the trace header it puts in ctx where
// aws-lambda-go puts Lambda's, sent when end is called. In AWS, Lambda
// does this itself; the local cloud calls it so that its functions trace
// as they do there.
func (t *Tracer) Invoke(ctx context.Context, function string) (_ context.Context, end func()) {
	if t == nil {
		return ctx, func() {}
	}
	now := t.now()
	d := document{Name: function, ID: newID(), TraceID: NewTraceID(now), Origin: "AWS::Lambda::Function", Start: seconds(now)}
	h := Header{Root: d.TraceID, Parent: d.ID, Sampled: true}
	//nolint:staticcheck // aws-lambda-go's own key, a plain string
	ctx = context.WithValue(ctx, lambdaTraceKey, h.String())
	return ctx, func() {
		d.End = seconds(t.now())
		_ = t.send(d)
	}
}

// NewTraceID returns a new X-Ray trace id: 1-<start, hex seconds>-<96
// random bits>.
func NewTraceID(start time.Time) string {
	return fmt.Sprintf("1-%08x-%08x%016x", start.Unix(), rand.Uint32(), rand.Uint64())
}

// Child starts a subsegment under ctx's; a nil Segment when ctx has none.
func Child(ctx context.Context, name string) (context.Context, *Segment) {
	p := From(ctx)
	if p == nil {
		return ctx, nil
	}
	s := &Segment{t: p.t, parent: p, doc: document{Name: name, ID: newID(), Start: seconds(p.t.now())}}
	p.mu.Lock()
	p.kids = append(p.kids, s)
	p.mu.Unlock()
	return context.WithValue(ctx, segmentKey{}, s), s
}

// From returns ctx's subsegment, nil when the work is not traced.
func From(ctx context.Context) *Segment {
	s, _ := ctx.Value(segmentKey{}).(*Segment)
	return s
}

// Annotate sets an indexed annotation on ctx's subsegment (X-Ray filter
// expressions find traces by them: annotation.executionId = "…"). Values
// must not be personal; Herald annotates ids only.
func Annotate(ctx context.Context, key, value string) {
	From(ctx).Annotate(key, value)
}

// Annotate sets an annotation on s.
func (s *Segment) Annotate(key, value string) {
	if s == nil || value == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.doc.Annotations == nil {
		s.doc.Annotations = map[string]string{}
	}
	s.doc.Annotations[key] = value
}

// SetHTTPStatus records the status an invocation answered with: 429 marks
// it a throttle, another 4xx an error, a 5xx a fault.
func (s *Segment) SetHTTPStatus(status int) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.doc.HTTP = &httpInfo{}
	s.doc.HTTP.Response.Status = status
	switch {
	case status == 429:
		s.doc.Error, s.doc.Throttle = true, true
	case status >= 400 && status < 500:
		s.doc.Error = true
	case status >= 500:
		s.doc.Fault = true
	}
}

// HeaderFrom is the trace header that continues ctx's trace under its
// subsegment, for a message queued for later work; "" when untraced.
func HeaderFrom(ctx context.Context) string {
	s := From(ctx)
	if s == nil {
		return ""
	}
	return Header{Root: s.traceID(), Parent: s.doc.ID, Sampled: true}.String()
}

func (s *Segment) traceID() string {
	for s.parent != nil {
		s = s.parent
	}
	return s.doc.TraceID
}

// End closes s, recording err as a fault when it is not nil. Ending the
// subsegment a tracer started (Begin, Continue) sends it with everything
// under it; a child still open then is sent as ended then.
func (s *Segment) End(err error) {
	if s == nil {
		return
	}
	s.mu.Lock()
	if s.doc.End == 0 {
		s.doc.End = seconds(s.t.now())
	}
	if err != nil && !s.doc.Error && !s.doc.Throttle {
		s.doc.Fault = true
		s.doc.Cause = causeOf(err, false)
	}
	s.mu.Unlock()
	if s.parent == nil {
		_ = s.t.send(s.snapshot(s.doc.End))
	}
}

// snapshot copies s and its children into documents, ending what is
// still open at end.
func (s *Segment) snapshot(end float64) document {
	s.mu.Lock()
	d := s.doc
	if d.End == 0 {
		d.End = end
	}
	d.Annotations = cloneMap(s.doc.Annotations)
	kids := append([]*Segment(nil), s.kids...)
	s.mu.Unlock()
	for _, k := range kids {
		d.Subsegments = append(d.Subsegments, k.snapshot(end))
	}
	return d
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// send writes d as one datagram, or, when it is too large, each of its
// children on its own (as independent subsegments of d) and then d alone.
func (t *Tracer) send(d document) error {
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	if len(b)+len(datagramHeader) > maxDatagram && len(d.Subsegments) > 0 {
		var errs []error
		for _, k := range d.Subsegments {
			k.TraceID, k.ParentID, k.Type = d.TraceID, d.ID, "subsegment"
			errs = append(errs, t.send(k))
		}
		d.Subsegments = nil
		return errors.Join(append(errs, t.send(d))...)
	}
	return t.emit(append([]byte(datagramHeader), b...))
}

// causeOf names err without its message, which can quote what was sent:
// the AWS error code when there is one, else the error's type.
func causeOf(err error, remote bool) *cause {
	typ := fmt.Sprintf("%T", err)
	if ae, ok := errors.AsType[smithy.APIError](err); ok {
		typ, remote = ae.ErrorCode(), true
	}
	return &cause{Exceptions: []exception{{ID: newID(), Type: typ, Remote: remote}}}
}

func newID() string { return fmt.Sprintf("%016x", rand.Uint64()) }

func seconds(t time.Time) float64 { return float64(t.UnixMicro()) / 1e6 }
