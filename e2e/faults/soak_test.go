package faults_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/infra/faultproxy"
	"github.com/heraldhq/herald/internal/delivery"
)

// soakFaults fail about one call in ten on the send path: provider
// answers lost or 5xx after acceptance, throttles, slow and failing ledger
// writes, duplicated queue deliveries.
var soakFaults = []faultproxy.Rule{
	{Name: "ses-answer-lost", Operation: "SendEmail", Fault: faultproxy.ForwardReset, Probability: 0.02},
	{Name: "ses-5xx-after", Operation: "SendEmail", Fault: faultproxy.Forward5xx, Probability: 0.02},
	{Name: "ses-throttle", Operation: "SendEmail", Fault: faultproxy.Throttle, Probability: 0.04},
	{Name: "ses-5xx", Operation: "SendEmail", Fault: faultproxy.Error, Probability: 0.02},
	{Name: "sns-answer-lost", Operation: "Publish", Fault: faultproxy.ForwardReset, Probability: 0.02},
	{Name: "sns-5xx-after", Operation: "Publish", Fault: faultproxy.Forward5xx, Probability: 0.02},
	{Name: "sns-throttle", Operation: "Publish", Fault: faultproxy.Throttle, Probability: 0.04},
	{Name: "sns-5xx", Operation: "Publish", Fault: faultproxy.Error, Probability: 0.02},
	{Name: "ledger-slow", Operation: "PutItem", Match: []string{`"state":{"S":`}, Fault: faultproxy.Delay, Delay: faultproxy.Duration(200 * time.Millisecond), Probability: 0.05},
	{Name: "ledger-5xx", Operation: "PutItem", Match: []string{`"state":{"S":`}, Fault: faultproxy.Error, Probability: 0.05},
	{Name: "ledger-answer-lost", Operation: "PutItem", Match: []string{`"state":{"S":`}, Fault: faultproxy.Forward5xx, Probability: 0.03},
	// The one write that claims and starts (an answer lost there is
	// trigger-5xx-after's, which names no item).
	{Name: "claim-slow", Operation: "TransactWriteItems", Match: []string{`"state":{"S":"claimed"}`}, Fault: faultproxy.Delay, Delay: faultproxy.Duration(200 * time.Millisecond), Probability: 0.05},
	{Name: "claim-5xx", Operation: "TransactWriteItems", Match: []string{`"state":{"S":"claimed"}`}, Fault: faultproxy.Error, Probability: 0.05},
	{Name: "queue-duplicates", Operation: "SendMessageBatch", Fault: faultproxy.Duplicate, Probability: 0.2},
	{Name: "queue-5xx-after", Operation: "SendMessageBatch", Fault: faultproxy.Forward5xx, Probability: 0.05},
	{Name: "trigger-5xx-after", Operation: "TransactWriteItems", Fault: faultproxy.Forward5xx, Probability: 0.05},
}

// TestNothingIsLostUnderASoak runs 100 executions of 20 recipients across
// email, SMS and push through mixed faults, duplicated deliveries and
// Dispatch processes killed at random checkpoints, and checks every
// recipient from moto and the status API. It prints one line:
// recipients N, sent S, ambiguous A, failed F, excluded E, lost 0, duplicated 0.
func TestNothingIsLostUnderASoak(t *testing.T) {
	skipShort(t)
	executions, perExecution, kills := 100, 20, 3
	if n := os.Getenv("HERALD_SOAK_EXECUTIONS"); n != "" {
		fmt.Sscan(n, &executions)
	}
	if n := os.Getenv("HERALD_SOAK_RECIPIENTS"); n != "" {
		fmt.Sscan(n, &perExecution)
	}
	f := newFixture(t)
	stopDLQ := deadLetterPoller()
	defer stopDLQ()
	if os.Getenv("HERALD_SOAK_NO_FAULTS") == "" {
		cloud.Faults.SetPlan(faultproxy.Plan{Seed: 20261130, Rules: soakFaults})
	}
	defer cloud.Faults.SetPlan(faultproxy.Plan{})
	start := time.Now()

	// Dispatch: one process at a time, three invocations at once (moto
	// serves DynamoDB one request at a time: more would only queue); the
	// first `kills` processes die at a random checkpoint after a random
	// number of passages, and each is replaced at once.
	rng := rand.New(rand.NewPCG(7, 11))
	points := []string{delivery.CheckpointClaimed, delivery.CheckpointStarted, delivery.CheckpointSent, delivery.CheckpointFinished}
	var mu sync.Mutex
	killed := 0
	stopWorkers := make(chan struct{})
	var wg sync.WaitGroup
	spawned := 0
	for range 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				crashAt, after := "", 0
				if spawned < kills {
					crashAt, after = points[rng.IntN(len(points))], 20+rng.IntN(60)
				}
				spawned++
				mu.Unlock()
				w := startWorkerLoops(t, crashAt, after, 10, 3)
				select {
				case <-w.done:
					if w.killed(0) {
						mu.Lock()
						killed++
						mu.Unlock()
					}
				case <-stopWorkers:
					w.stop()
					return
				}
			}
		}()
	}

	// The calls, one at a time while Dispatch runs, and never more than
	// `window` executions ahead of it: moto's SQS does work in proportion
	// to the queue's depth on every call, so a shallow queue is a fast one.
	type exec struct {
		id      string
		channel string
		rs      []recipient
	}
	const window = 6
	execs := make([]exec, executions)
	for i := range execs {
		if i >= window {
			f.waitCompleted(execs[i-window].id, 2*time.Minute)
		}
		channel := []string{"email", "sms", "push"}[i%3]
		cell := fmt.Sprintf("s%03dq", i)
		execs[i] = exec{channel: channel, rs: recipients(channel, cell, perExecution, int64(1000+i))}
		execs[i].id = f.trigger(channel, cell+"-req", cell, execs[i].rs)
		if i%10 == 9 {
			t.Logf("%s: %d executions triggered", time.Since(start).Round(time.Second), i+1)
		}
	}
	for _, e := range execs {
		f.waitCompleted(e.id, 2*time.Minute)
	}
	close(stopWorkers)
	wg.Wait()
	elapsed := time.Since(start)

	got := receivedAll(t)
	var total tally
	byOutcome := map[string]int{}
	for _, e := range execs {
		tl, outcomes := f.check(e.channel, e.id, e.rs, got[e.channel], time.Second)
		total.add(tl)
		for _, o := range outcomes {
			byOutcome[o]++
		}
	}
	t.Logf("soak: outcomes %v", byOutcome)
	injected := len(cloud.Faults.Events())
	t.Logf("soak: calls to moto by operation: %v", cloud.Faults.Calls())
	t.Logf("soak: %d executions in %s, %d faults injected, %d Dispatch processes killed", executions, elapsed.Round(time.Second), injected, killed)
	t.Log(total.String())
	fmt.Println(total.String())
	if total.recipients != executions*perExecution || total.lost != 0 || total.duplicated != 0 {
		t.Errorf("soak: %s", total)
	}
	if killed < kills {
		t.Errorf("only %d Dispatch processes were killed, want at least %d", killed, kills)
	}
}
