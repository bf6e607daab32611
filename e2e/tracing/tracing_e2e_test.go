// Package tracing_test checks Herald's X-Ray tracing end to end: Herald
// runs as `make run` does, with every invocation traced as Lambda traces a
// function with active tracing, a trigger is sent and dispatched, and the
// segment documents the functions sent to the (test's) X-Ray daemon are
// read back: one subsegment per invocation under the function's segment,
// annotated with the execution and the campaign, one per AWS call under
// it, and nothing personal anywhere.
package tracing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/infra/contract"
	"github.com/heraldhq/herald/infra/localcloud"
	"github.com/heraldhq/herald/internal/tenant"
	"github.com/heraldhq/herald/internal/tracing"
)

var (
	cloud  *localcloud.Cloud
	daemon collector
)

// collector is the X-Ray daemon of the test: it keeps every datagram.
type collector struct {
	mu        sync.Mutex
	datagrams [][]byte
}

func (c *collector) emit(b []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.datagrams = append(c.datagrams, bytes.Clone(b))
	return nil
}

func TestMain(m *testing.M) {
	os.Exit(localcloud.RunSuite(m, &cloud, localcloud.Options{Timing: &localcloud.FastTiming, Contract: contract.MustLoad(),
		Tracer: tracing.New(daemon.emit), NoSESEvents: true, NoStreams: true, Log: localcloud.TestLog()}))
}

// doc is a segment document as X-Ray reads it, with where it came from.
type doc struct {
	Name        string            `json:"name"`
	ID          string            `json:"id"`
	TraceID     string            `json:"trace_id"`
	ParentID    string            `json:"parent_id"`
	Type        string            `json:"type"`
	Origin      string            `json:"origin"`
	Start       float64           `json:"start_time"`
	End         float64           `json:"end_time"`
	Namespace   string            `json:"namespace"`
	Error       bool              `json:"error"`
	Fault       bool              `json:"fault"`
	Annotations map[string]string `json:"annotations"`
	AWS         map[string]any    `json:"aws"`
	HTTP        struct {
		Response struct{ Status int } `json:"response"`
	} `json:"http"`
	Subsegments []*doc `json:"subsegments"`
	parent      *doc
}

var (
	idPattern    = regexp.MustCompile(`^[0-9a-f]{16}$`)
	tracePattern = regexp.MustCompile(`^1-[0-9a-f]{8}-[0-9a-f]{24}$`)
)

// documents reads every datagram sent so far, checking each as the daemon
// and X-Ray would, and returns every (sub)segment in them, nested ones
// linked to their parent.
func documents(t *testing.T) (all []*doc, raw string) {
	t.Helper()
	daemon.mu.Lock()
	defer daemon.mu.Unlock()
	var sb strings.Builder
	for _, b := range daemon.datagrams {
		sb.Write(b)
		head, body, ok := bytes.Cut(b, []byte("\n"))
		if !ok || string(head) != `{"format": "json", "version": 1}` || len(b) > 64*1024 {
			t.Errorf("not a datagram the daemon reads: %.200q", b)
			continue
		}
		var d doc
		if err := json.Unmarshal(body, &d); err != nil {
			t.Errorf("%v: %.200s", err, body)
			continue
		}
		if !tracePattern.MatchString(d.TraceID) || (d.Type == "subsegment") != (d.ParentID != "") {
			t.Errorf("a top-level document without its trace or parent: %.300s", body)
		}
		var walk func(d, parent *doc)
		walk = func(d, parent *doc) {
			d.parent = parent
			if !idPattern.MatchString(d.ID) || d.Start <= 0 || d.End < d.Start {
				t.Errorf("a (sub)segment without an id or times: %+v", d)
			}
			all = append(all, d)
			for _, k := range d.Subsegments {
				walk(k, d)
			}
		}
		walk(&d, nil)
	}
	return all, sb.String()
}

// trace is the trace id of d, wherever it is nested.
func (d *doc) trace() string {
	for d.parent != nil {
		d = d.parent
	}
	return d.TraceID
}

// parentID is the id of d's parent, nested or named.
func (d *doc) parentID() string {
	if d.parent != nil {
		return d.parent.ID
	}
	return d.ParentID
}

// calls are the AWS calls recorded under d, as "Service Operation".
func (d *doc) calls() map[string]*doc {
	out := map[string]*doc{}
	for _, k := range d.Subsegments {
		if k.Namespace == "aws" {
			out[k.Name+" "+k.AWS["operation"].(string)] = k
		}
	}
	return out
}

// A trigger accepted and dispatched, and one refused: each invocation is a
// subsegment of its function's segment, annotated with the execution and
// campaign, with every AWS call under it; the SQS call passes the trace
// on; Dispatch's job is annotated alike with SES's SendEmail under it.
func TestATriggerIsTracedFromItsFunctionToSES(t *testing.T) {
	ctx := context.Background()
	acct, err := cloud.NewAccount(ctx, tenant.Tenant{Org: "TRACING1@AdobeOrg", Sandbox: "prod"}, "tracing1."+localcloud.DemoSenderDomain)
	if err != nil {
		t.Fatal(err)
	}
	campaignID := cloud.MustLiveEmailCampaign(t, acct, "Order {{context.orderId}}", "<p>{{context.secret}}</p>")

	seeded := []string{"trace-marker-ada@example.com", "trace-marker-bob@example.com", "TRACE-CTX-SECRET", "TRACE-ORDER-77"}
	var recipients []any
	for _, a := range seeded[:2] {
		recipients = append(recipients, map[string]any{"type": "external", "namespace": "email", "userId": a,
			"context": map[string]any{"orderId": seeded[3], "secret": seeded[2]}})
	}
	var ex struct{ ExecutionID string }
	cloud.MustExpect(t, acct, "POST", "/im/executions/unitary", map[string]any{"requestId": "trace-1", "campaignId": campaignID, "recipients": recipients},
		http.StatusAccepted, &ex)
	cloud.MustExpect(t, acct, "POST", "/im/executions/unitary", map[string]any{"requestId": "trace-2", "campaignId": campaignID},
		http.StatusBadRequest, nil)
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := cloud.Drain(dctx); err != nil {
		t.Fatal(err)
	}

	all, raw := documents(t)
	byID := map[string]*doc{}
	for _, d := range all {
		byID[d.ID] = d
	}
	var accepted, refused *doc
	var jobs []*doc
	for _, d := range all {
		switch {
		case d.Name == "Trigger" && d.Annotations["executionId"] == ex.ExecutionID:
			accepted = d
		case d.Name == "Trigger" && d.HTTP.Response.Status == 400 && d.Annotations["campaignId"] == "":
			refused = d
		case d.Name == "job" && d.Annotations["executionId"] == ex.ExecutionID:
			jobs = append(jobs, d)
		}
	}
	if accepted == nil || refused == nil || len(jobs) == 0 {
		t.Fatalf("accepted trigger %v, refused %v, %d jobs in %d documents", accepted != nil, refused != nil, len(jobs), len(all))
	}

	// The trigger: under the function's segment, as Lambda's.
	fn := byID[accepted.ParentID]
	if fn == nil || fn.Origin != "AWS::Lambda::Function" || fn.Name != "trigger" || fn.TraceID != accepted.TraceID {
		t.Errorf("the trigger's parent is not the function's segment: %+v", fn)
	}
	if accepted.Annotations["campaignId"] != campaignID || accepted.HTTP.Response.Status != 202 || accepted.Error || accepted.Fault {
		t.Errorf("accepted trigger = %+v", accepted)
	}
	if !refused.Error || refused.Fault {
		t.Errorf("a 400 is an error, not a fault: %+v", refused)
	}
	calls := accepted.calls()
	for _, want := range []string{"DynamoDB TransactWriteItems", "SQS SendMessageBatch"} {
		if calls[want] == nil {
			t.Errorf("no %s under the trigger; calls: %v", want, keys(calls))
		}
	}
	if q := calls["SQS SendMessageBatch"]; q != nil && (q.AWS["queue_url"] != cloud.Config.DispatchQueueURL || q.HTTP.Response.Status != 200 || q.AWS["request_id"] == nil) {
		t.Errorf("SendMessageBatch = %+v", q)
	}

	// The jobs: each annotated, SES's call under it. SQS keeps the trace
	// header of the call that queued a message (AWSTraceHeader), so in
	// AWS a job joins the trigger's trace under its SendMessageBatch
	// (internal/eventapi's tests); moto keeps no system attribute of a
	// batch, so here the job is under the Dispatch invocation's
	// subsegment, in the dispatch function's trace.
	for _, j := range jobs {
		if j.Annotations["campaignId"] != campaignID {
			t.Errorf("job annotations = %v", j.Annotations)
		}
		send := j.calls()["SESv2 SendEmail"]
		if send == nil || send.HTTP.Response.Status != 200 || send.Error || send.Fault {
			t.Errorf("job %s: SendEmail = %+v (calls %v)", j.ID, send, keys(j.calls()))
		}
		parent := byID[j.parentID()]
		if parent == nil || parent.trace() != j.trace() {
			t.Errorf("job %s: its parent %s is not in its trace", j.ID, j.parentID())
			continue
		}
		if parent.Name != "Dispatch" && parent.Name != "SQS" {
			t.Errorf("job %s under %q", j.ID, parent.Name)
		}
	}

	for _, s := range append(seeded, acct.Tenant.Org) {
		if strings.Contains(strings.ToLower(raw), strings.ToLower(s)) {
			t.Errorf("a trace holds %q", s)
		}
	}
}

func keys(m map[string]*doc) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
