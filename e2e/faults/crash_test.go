package faults_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/delivery"
)

// crashCase kills a Dispatch process at a checkpoint. Each case has an
// execution of its own; the process receives one message at a time
// (batch), or a whole batch for the mid-batch case.
type crashCase struct {
	name       string
	checkpoint string
	after      int // the checkpoint's n-th passage kills the process
	recipients int
	batch      int
	// want is the outcome of the recipient the kill hit ("" for the
	// mid-batch case, where every recipient must end sent).
	want delivery.Outcome
	// wantMessages is how many messages that recipient gets.
	wantMessages int
}

var crashCases = []crashCase{
	// The claim is written, the attempt not started: the next delivery
	// takes the claim over and sends, once.
	{name: "after claim", checkpoint: delivery.CheckpointClaimed, after: 1, recipients: 1, batch: 1, want: delivery.Sent, wantMessages: 1},
	// The attempt is marked in flight; the provider was never called:
	// nobody can know that, so it is ambiguous, and nothing is sent.
	{name: "after the attempt started", checkpoint: delivery.CheckpointStarted, after: 1, recipients: 1, batch: 1, want: delivery.AmbiguousInterrupted, wantMessages: 0},
	// SES took the message; its outcome was never written: ambiguous,
	// and never sent again.
	{name: "after send before finish", checkpoint: delivery.CheckpointSent, after: 1, recipients: 1, batch: 1, want: delivery.AmbiguousInterrupted, wantMessages: 1},
	// The outcome is recorded; the message was never deleted: the
	// redelivery finds it done.
	{name: "after finish before delete", checkpoint: delivery.CheckpointFinished, after: 1, recipients: 1, batch: 1, want: delivery.Sent, wantMessages: 1},
	// Three of a batch of six are done when the process dies; the batch
	// comes back whole.
	{name: "mid-batch", checkpoint: delivery.CheckpointFinished, after: 3, recipients: 6, batch: 10, want: "", wantMessages: 1},
}

// TestCrashAtEachCheckpointThenResume kills a real Dispatch process
// (SIGKILL) at each checkpoint, then resumes with a healthy one, and checks
// from moto and the status API that every recipient got at most one
// message and ended with exactly one outcome — the one the checkpoint
// implies.
func TestCrashAtEachCheckpointThenResume(t *testing.T) {
	skipShort(t)
	stopDLQ := deadLetterPoller()
	defer stopDLQ()
	f := newFixture(t)
	type run struct {
		c     crashCase
		exec  string
		rs    []recipient
		key   delivery.Key
		point string
	}
	var runs []run
	start := time.Now()
	for i, c := range crashCases {
		cell := fmt.Sprintf("c%02dq", i+1)
		rs := recipients("email", cell, c.recipients, int64(100+i))
		exec := f.trigger("email", cell+"-req", cell, rs)
		w := startWorker(t, c.checkpoint, c.after, c.batch)
		if !w.killed(30 * time.Second) {
			w.stop()
			t.Fatalf("%s: the worker was not killed at %s; its log:\n%s", c.name, c.checkpoint, w.log)
		}
		point, key, ok := w.crash()
		if !ok || point != c.checkpoint {
			t.Fatalf("%s: the worker died without noting where (%q)", c.name, point)
		}
		runs = append(runs, run{c: c, exec: exec, rs: rs, key: key, point: point})
	}
	// The killed batches come back after the queue's visibility timeout;
	// a healthy process finishes everything.
	w := startWorker(t, "", 0, 10)
	defer w.stop()
	got := map[string]int{}
	var total tally
	for _, r := range runs {
		f.waitCompleted(r.exec, 90*time.Second)
	}
	got = received(t, "email")
	for _, r := range runs {
		t.Run(r.c.name, func(t *testing.T) {
			cf := *f
			cf.t = t
			tl, outcomes := cf.check("email", r.exec, r.rs, got, time.Second)
			total.add(tl)
			if r.c.want == "" {
				for _, rc := range r.rs {
					if outcomes[rc.UserID] != string(delivery.Sent) {
						t.Errorf("recipient %s ended %q, want sent", rc.UserID, outcomes[rc.UserID])
					}
				}
				return
			}
			var hit recipient
			for _, rc := range r.rs {
				if rc.UserID == r.key.UserID {
					hit = rc
				}
			}
			if hit.UserID == "" {
				t.Fatalf("the kill hit %s, not a recipient of this case", r.key.UserID)
			}
			if o := outcomes[hit.UserID]; o != string(r.c.want) {
				t.Errorf("the recipient the kill hit ended %q, want %q", o, r.c.want)
			}
			if n := got[hit.Address]; n != r.c.wantMessages {
				t.Errorf("the recipient the kill hit got %d messages, want %d", n, r.c.wantMessages)
			}
		})
	}
	t.Logf("crashes: %d kills in %s: %s", len(runs), time.Since(start).Round(time.Second), total)
}
