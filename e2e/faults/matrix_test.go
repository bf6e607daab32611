package faults_test

import (
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/infra/faultproxy"
)

// forever is how long a "forever" fault lasts: past every retry deadline
// (faultTiming's is 20 s from a recipient's first receipt, and a cell's
// recipients are received up to seconds apart), so what it does to a
// recipient is final; then it lifts, as outages do, so the cases that can
// only be closed once the store answers again are closed.
const forever = faultproxy.Duration(40 * time.Second)

// matrixOp is one operation of the send path the matrix fails.
type matrixOp struct {
	name, channel, operation string
	// match narrows the rule to the cell's own requests.
	match func(cell string) []string
	// latency is a delay past the caller's timeout for this operation.
	latency time.Duration
	// want is the outcome kinds each fault must end the cell's three
	// recipients with (the rest of the promises hold for every cell).
	want map[string]map[string]int
}

// Faults of the matrix, in column order.
var matrixFaults = []string{"throttle once", "throttle forever", "5xx once", "5xx forever",
	"reset before the request is written", "forward then reset", "forward then 5xx", "latency past timeout"}

func sendWant(timeout string) map[string]map[string]int {
	return map[string]map[string]int{
		"throttle once":                       {"sent": 3},
		"throttle forever":                    {"failed": 3},
		"5xx once":                            {"sent": 2, "ambiguous": 1},
		"5xx forever":                         {"ambiguous": 3},
		"reset before the request is written": {"sent": 3},
		"forward then reset":                  {"sent": 2, "ambiguous": 1},
		"forward then 5xx":                    {"sent": 2, "ambiguous": 1},
		"latency past timeout":                {"sent": 2, "ambiguous": 1},
	}
}

// allSent: the SDK's retries (stores, queues) or the client's (the
// trigger call) absorb the fault.
var allSent = map[string]map[string]int{
	"throttle once": {"sent": 3}, "throttle forever": {"sent": 3}, "5xx once": {"sent": 3}, "5xx forever": {"sent": 3},
	"reset before the request is written": {"sent": 3}, "forward then reset": {"sent": 3}, "forward then 5xx": {"sent": 3},
	"latency past timeout": {"sent": 3},
}

var matrixOps = []matrixOp{
	{name: "SES SendEmail", channel: "email", operation: "SendEmail", latency: 1500 * time.Millisecond, want: sendWant("timeout"),
		match: func(c string) []string { return []string{c} }},
	{name: "SNS Publish (SMS)", channel: "sms", operation: "Publish", latency: 1500 * time.Millisecond, want: sendWant("timeout"),
		match: func(c string) []string { return []string{c} }},
	{name: "SNS Publish (push)", channel: "push", operation: "Publish", latency: 1500 * time.Millisecond, want: sendWant("timeout"),
		match: func(c string) []string { return []string{c} }},
	{name: "DynamoDB claim", channel: "email", operation: "*", latency: 2 * time.Second,
		// Every write of a claim: the one transaction that claims the
		// address and the entry and starts the attempt
		// (Ledger.ClaimAndStart), and the long way's puts that a failed
		// transaction falls back to (a close's condition also names
		// "claimed", but not its item).
		match: func(c string) []string { return []string{c, `"state":{"S":"claimed"}`} },
		want: map[string]map[string]int{
			"throttle once": {"sent": 3}, "throttle forever": {"failed": 3}, "5xx once": {"sent": 3}, "5xx forever": {"failed": 3},
			"reset before the request is written": {"sent": 3}, "forward then reset": {"sent": 3}, "forward then 5xx": {"sent": 3},
			"latency past timeout": {"sent": 3},
		}},
	{name: "DynamoDB finish", channel: "email", operation: "PutItem", latency: 2 * time.Second,
		match: func(c string) []string { return []string{c, `"state":{"S":"done"}`} },
		want: map[string]map[string]int{
			"throttle once": {"sent": 3}, "throttle forever": {"ambiguous": 3}, "5xx once": {"sent": 3}, "5xx forever": {"ambiguous": 3},
			"reset before the request is written": {"sent": 3}, "forward then reset": {"sent": 3}, "forward then 5xx": {"sent": 3},
			"latency past timeout": {"sent": 3},
		}},
	{name: "TransactWriteItems at trigger", channel: "email", operation: "TransactWriteItems", latency: 11 * time.Second, want: allSent,
		match: func(c string) []string { return []string{c} }},
	{name: "SQS SendMessageBatch", channel: "email", operation: "SendMessageBatch", latency: 11 * time.Second, want: allSent,
		match: func(c string) []string { return []string{c} }},
}

func matrixRule(op matrixOp, fault, cell string) faultproxy.Rule {
	r := faultproxy.Rule{Name: cell, Operation: op.operation, Match: op.match(cell), Times: 1}
	switch fault {
	case "throttle once":
		r.Fault = faultproxy.Throttle
	case "throttle forever":
		r.Fault, r.Times, r.For = faultproxy.Throttle, 0, forever
	case "5xx once":
		r.Fault = faultproxy.Error
	case "5xx forever":
		r.Fault, r.Times, r.For = faultproxy.Error, 0, forever
	case "reset before the request is written":
		r.Fault = faultproxy.Unreachable
	case "forward then reset":
		r.Fault = faultproxy.ForwardReset
	case "forward then 5xx":
		r.Fault = faultproxy.Forward5xx
	case "latency past timeout":
		r.Fault, r.Delay = faultproxy.Delay, faultproxy.Duration(op.latency)
	}
	return r
}

type cellResult struct {
	op, fault, cell string
	exec            string
	outcomes        map[string]string
	tally           tally
	kinds           map[string]int
	hits            int
	failed          []string
}

// TestFaultMatrix fails every operation of the send path every way, one
// cell (a three-recipient execution with its own fault rule) each, all at
// once, and checks each cell from what moto received and what the status
// API says.
func TestFaultMatrix(t *testing.T) {
	skipShort(t)
	stop := runPollers()
	defer stop()
	f := newFixture(t)
	start := time.Now()
	var mu sync.Mutex
	var results []cellResult
	var wg sync.WaitGroup
	seq := 0
	only := os.Getenv("HERALD_FAULTS_CELL") // "DynamoDB claim/5xx forever" runs one cell
	for _, op := range matrixOps {
		for _, fault := range matrixFaults {
			if only != "" && only != op.name+"/"+fault {
				continue
			}
			seq++
			n := int64(seq)
			cell := fmt.Sprintf("m%02dq", n)
			cloud.Faults.Add(matrixRule(op, fault, cell))
			wg.Add(1)
			go func() {
				defer wg.Done()
				res := runCell(f, op, fault, cell, n)
				mu.Lock()
				results = append(results, res)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	var total tally
	for _, res := range results {
		total.add(res.tally)
		t.Run(res.op+"/"+res.fault, func(t *testing.T) {
			for _, msg := range res.failed {
				t.Error(msg)
			}
			if res.hits == 0 {
				t.Errorf("the fault never fired (rule %s)", res.cell)
			}
			want := matrixOps[opIndex(res.op)].want[res.fault]
			for kind, n := range want {
				if res.kinds[kind] != n {
					t.Errorf("outcome kinds %v, want %v", res.kinds, want)
					break
				}
			}
			if t.Failed() {
				t.Logf("execution %s: outcomes %v", res.exec, res.outcomes)
			}
		})
	}
	t.Logf("matrix: %d cells in %s: %s", len(results), time.Since(start).Round(time.Second), total)
	if total.lost != 0 || total.duplicated != 0 {
		t.Errorf("matrix: %s", total)
	}
}

func opIndex(name string) int {
	for i, op := range matrixOps {
		if op.name == name {
			return i
		}
	}
	return -1
}

// runCell triggers the cell's execution and checks it, collecting
// failures instead of failing the shared test from a goroutine.
func runCell(f *fixture, op matrixOp, fault, cell string, seq int64) (res cellResult) {
	res = cellResult{op: op.name, fault: fault, cell: cell, kinds: map[string]int{}}
	ct := &collectingT{}
	cf := *f
	cf.t = ct
	defer func() {
		if r := recover(); r != nil && r != errCellFailed {
			panic(r)
		}
		res.failed = ct.msgs()
		res.hits = cloud.Faults.Hits(cell)
	}()
	rs := recipients(op.channel, cell, 3, seq)
	exec := cf.trigger(op.channel, cell+"-req", cell, rs)
	res.exec = exec
	cf.waitCompleted(exec, 90*time.Second)
	// Let a request that a delay holds back land before counting.
	time.Sleep(2 * time.Second)
	tl, outcomes := cf.check(op.channel, exec, rs, received(ct, op.channel), time.Second)
	res.tally, res.outcomes = tl, outcomes
	for _, o := range outcomes {
		kind := o
		for i, c := range o {
			if c == ':' {
				kind = o[:i]
				break
			}
		}
		res.kinds[kind]++
	}
	return res
}
