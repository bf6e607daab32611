package tracing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/tracing"
)

// collector keeps the documents a tracer sends, checking each datagram's
// header line as the daemon does.
type collector struct {
	t    testing.TB
	mu   sync.Mutex
	docs []doc
	raw  [][]byte
}

// doc is the part of a segment document the tests read.
type doc struct {
	Name        string            `json:"name"`
	ID          string            `json:"id"`
	TraceID     string            `json:"trace_id"`
	ParentID    string            `json:"parent_id"`
	Type        string            `json:"type"`
	Start       float64           `json:"start_time"`
	End         float64           `json:"end_time"`
	Namespace   string            `json:"namespace"`
	Error       bool              `json:"error"`
	Throttle    bool              `json:"throttle"`
	Fault       bool              `json:"fault"`
	Annotations map[string]string `json:"annotations"`
	AWS         map[string]any    `json:"aws"`
	HTTP        struct {
		Response struct {
			Status int `json:"status"`
		} `json:"response"`
	} `json:"http"`
	Cause struct {
		Exceptions []struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"exceptions"`
	} `json:"cause"`
	Subsegments []doc `json:"subsegments"`
}

func (c *collector) emit(b []byte) error {
	head, body, ok := bytes.Cut(b, []byte("\n"))
	if !ok || string(head) != `{"format": "json", "version": 1}` {
		c.t.Errorf("datagram header = %q", head)
	}
	var d doc
	if err := json.Unmarshal(body, &d); err != nil {
		c.t.Errorf("document: %v", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.docs = append(c.docs, d)
	c.raw = append(c.raw, b)
	return nil
}

func (c *collector) sent() []doc {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]doc(nil), c.docs...)
}

func newTracer(t testing.TB) (*tracing.Tracer, *collector) {
	c := &collector{t: t}
	tr := tracing.New(c.emit)
	var ticks atomic.Int64
	tr.SetClock(func() time.Time {
		return time.Unix(1_764_550_000, 0).Add(time.Duration(ticks.Add(1)) * time.Millisecond)
	})
	return tr, c
}

const (
	root   = "1-692cf0a0-5c1a3d8e9b7f4a6c2d1e0f9a"
	facade = "53995c3f42cd8ad8"
)

// invocation is the context aws-lambda-go gives a handler.
func invocation(header string) context.Context {
	//nolint:staticcheck // aws-lambda-go's own key, a plain string
	return context.WithValue(context.Background(), "x-amzn-trace-id", header)
}

func TestHeadersReadAndWrittenAsLambdaAndSQSSpellThem(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want tracing.Header
		ok   bool
	}{
		{"Root=" + root + ";Parent=" + facade + ";Sampled=1", tracing.Header{Root: root, Parent: facade, Sampled: true}, true},
		{"Root=" + root + ";Parent=" + facade + ";Sampled=0;Lineage=a87bd80c:1", tracing.Header{Root: root, Parent: facade}, true},
		{"Root=" + root + ";Sampled=1", tracing.Header{Root: root, Sampled: true}, false},
		{"", tracing.Header{}, false},
	} {
		got, ok := tracing.ParseHeader(tc.in)
		if ok != tc.ok || got != tc.want {
			t.Errorf("ParseHeader(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	h := tracing.Header{Root: root, Parent: facade, Sampled: true}
	if got, _ := tracing.ParseHeader(h.String()); got != h {
		t.Errorf("round trip: %+v", got)
	}
}

func TestAnInvocationIsTracedOnlyWhenLambdaSampledIt(t *testing.T) {
	tr, c := newTracer(t)
	for _, header := range []string{"", "Root=" + root + ";Parent=" + facade + ";Sampled=0", "garbage"} {
		ctx, s := tr.Begin(invocation(header), "Trigger")
		if s != nil || tracing.From(ctx) != nil || tracing.HeaderFrom(ctx) != "" {
			t.Errorf("header %q: traced", header)
		}
		tracing.Annotate(ctx, "executionId", "ex-1") // no effect, no panic
		s.End(nil)
	}
	var none *tracing.Tracer
	if _, s := none.Begin(invocation("Root="+root+";Parent="+facade+";Sampled=1"), "Trigger"); s != nil {
		t.Error("a nil tracer traced")
	}
	if got := c.sent(); len(got) != 0 {
		t.Errorf("sent %d documents", len(got))
	}
}

func TestASampledInvocationIsOneSubsegmentOfTheFunctionsSegment(t *testing.T) {
	tr, c := newTracer(t)
	ctx, s := tr.Begin(invocation("Root="+root+";Parent="+facade+";Sampled=1"), "Trigger")
	tracing.Annotate(ctx, "executionId", "ex-1")
	tracing.Annotate(ctx, "campaignId", "c-1")
	tracing.Annotate(ctx, "empty", "")
	s.SetHTTPStatus(503)
	cctx, child := tracing.Child(ctx, "render")
	child.End(nil)
	_, open := tracing.Child(cctx, "left open")
	_ = open
	s.End(nil)

	got := c.sent()
	if len(got) != 1 {
		t.Fatalf("sent %d documents, want 1", len(got))
	}
	d := got[0]
	if d.Name != "Trigger" || d.TraceID != root || d.ParentID != facade || d.Type != "subsegment" || len(d.ID) != 16 {
		t.Errorf("document = %+v", d)
	}
	if diff := cmp.Diff(map[string]string{"executionId": "ex-1", "campaignId": "c-1"}, d.Annotations); diff != "" {
		t.Errorf("annotations (-want +got):\n%s", diff)
	}
	if d.HTTP.Response.Status != 503 || !d.Fault || d.Error {
		t.Errorf("a 503 answer: %+v", d)
	}
	if !(d.Start > 0 && d.End > d.Start) {
		t.Errorf("times %v..%v", d.Start, d.End)
	}
	if len(d.Subsegments) != 1 || d.Subsegments[0].Name != "render" || d.Subsegments[0].End > d.End {
		t.Fatalf("subsegments = %+v", d.Subsegments)
	}
	if in := d.Subsegments[0].Subsegments; len(in) != 1 || in[0].End != d.End {
		t.Errorf("a subsegment still open is sent ended with its root: %+v", in)
	}
	if d.Subsegments[0].TraceID != "" || d.Subsegments[0].Type != "" {
		t.Errorf("a nested subsegment repeats its trace: %+v", d.Subsegments[0])
	}
	h, ok := tracing.ParseHeader(tracing.HeaderFrom(cctx))
	if !ok || h.Root != root || h.Parent != d.Subsegments[0].ID || !h.Sampled {
		t.Errorf("header passed on = %+v", h)
	}
}

func TestQueuedWorkJoinsTheTraceThatQueuedIt(t *testing.T) {
	tr, c := newTracer(t)
	ctx, inv := tr.Begin(invocation("Root=1-aaaaaaaa-000000000000000000000001;Parent=1111111111111111;Sampled=1"), "Dispatch")
	queued := "Root=" + root + ";Parent=2222222222222222;Sampled=1"
	jctx, job := tracing.Continue(ctx, queued, "job")
	tracing.Annotate(jctx, "executionId", "ex-9")
	job.End(errors.New("provider said no to someone@example.com"))
	// A message queued untraced is work of the invocation's own trace.
	_, local := tracing.Continue(ctx, "", "job")
	local.End(nil)
	inv.End(nil)

	// Nor is one of an invocation Lambda did not sample, while the job
	// queued by a sampled one is.
	uctx, unsampled := tr.Begin(invocation("Root=1-aaaaaaaa-000000000000000000000002;Parent=1111111111111111;Sampled=0"), "Dispatch")
	_, alone := tracing.Continue(uctx, "", "job")
	_, joined := tracing.Continue(uctx, queued, "job")
	if unsampled != nil || alone != nil || joined == nil {
		t.Errorf("unsampled invocation %v, its own job %v, a sampled job %v", unsampled, alone, joined)
	}
	joined.End(nil)
	if _, s := tracing.Continue(context.Background(), queued, "job"); s != nil {
		t.Error("traced outside an invocation")
	}

	got := c.sent()
	if len(got) != 3 {
		t.Fatalf("sent %d documents, want 3", len(got))
	}
	if got[2].TraceID != root || got[2].ParentID != "2222222222222222" {
		t.Errorf("the sampled job of an unsampled invocation = %+v", got[2])
	}
	j := got[0]
	if j.TraceID != root || j.ParentID != "2222222222222222" || j.Annotations["executionId"] != "ex-9" || !j.Fault {
		t.Errorf("job = %+v", j)
	}
	if len(j.Cause.Exceptions) != 1 || j.Cause.Exceptions[0].Type != "*errors.errorString" || j.Cause.Exceptions[0].Message != "" {
		t.Errorf("cause = %+v", j.Cause)
	}
	if strings.Contains(string(c.raw[0]), "example.com") {
		t.Error("an error message reached the trace")
	}
	if i := got[1]; i.Name != "Dispatch" || len(i.Subsegments) != 1 || i.Subsegments[0].Name != "job" {
		t.Errorf("invocation = %+v", i)
	}
}

func TestALargeSubsegmentIsSentAsItsChildrenThenItself(t *testing.T) {
	tr, c := newTracer(t)
	ctx, s := tr.Begin(invocation("Root="+root+";Parent="+facade+";Sampled=1"), "Dispatch")
	var wg sync.WaitGroup
	for i := range 400 {
		wg.Go(func() {
			cctx, k := tracing.Child(ctx, "job")
			tracing.Annotate(cctx, "executionId", fmt.Sprintf("%0200d", i))
			k.End(nil)
		})
	}
	wg.Wait()
	s.End(nil)
	got := c.sent()
	if len(got) != 401 {
		t.Fatalf("sent %d documents, want 400 children and the parent", len(got))
	}
	parent := got[len(got)-1]
	if parent.Name != "Dispatch" || len(parent.Subsegments) != 0 {
		t.Errorf("parent = %+v", parent)
	}
	for i, k := range got[:400] {
		if k.TraceID != root || k.ParentID != parent.ID || k.Type != "subsegment" {
			t.Fatalf("child %d = %+v", i, k)
		}
	}
	for i, b := range c.raw {
		if len(b) > 64*1024 {
			t.Errorf("datagram %d: %d bytes", i, len(b))
		}
	}
}

func TestFromEnvSendsToTheDaemonOverUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	for _, addr := range []string{pc.LocalAddr().String(), "tcp:127.0.0.1:1 udp:" + pc.LocalAddr().String()} {
		tr := tracing.FromEnv(func(k string) string {
			if k == tracing.DaemonAddressVariable {
				return addr
			}
			return ""
		})
		_, s := tr.Begin(invocation("Root="+root+";Parent="+facade+";Sampled=1"), "Manage")
		s.End(nil)
		buf := make([]byte, 65536)
		_ = pc.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatalf("%s: %v", addr, err)
		}
		if !bytes.HasPrefix(buf[:n], []byte("{\"format\": \"json\", \"version\": 1}\n{")) || !bytes.Contains(buf[:n], []byte(`"name":"Manage"`)) {
			t.Errorf("%s: datagram %q", addr, buf[:n])
		}
	}
	if tracing.FromEnv(func(string) string { return "" }) != nil {
		t.Error("a tracer without a daemon")
	}
}

// BenchmarkInvocation is what tracing adds to one invocation: the
// subsegment, two annotations and six AWS calls' subsegments, marshalled
// and handed to the daemon's socket (here, discarded); unsampled, the
// context lookups each call makes.
func BenchmarkInvocation(b *testing.B) {
	tr := tracing.New(func([]byte) error { return nil })
	for _, bc := range []struct{ name, header string }{
		{"sampled", "Root=" + root + ";Parent=" + facade + ";Sampled=1"},
		{"unsampled", "Root=" + root + ";Parent=" + facade + ";Sampled=0"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			parent := invocation(bc.header)
			b.ReportAllocs()
			for b.Loop() {
				ctx, s := tr.Begin(parent, "Trigger")
				tracing.Annotate(ctx, "executionId", "01JDX0000000000000000000EX")
				tracing.Annotate(ctx, "campaignId", "01JDX0000000000000000000CA")
				for range 6 {
					if tracing.From(ctx) == nil {
						continue
					}
					_, c := tracing.Child(ctx, "DynamoDB")
					c.End(nil)
				}
				s.SetHTTPStatus(202)
				s.End(nil)
			}
		})
	}
}
