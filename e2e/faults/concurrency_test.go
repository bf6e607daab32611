package faults_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/heraldhq/herald/infra/faultproxy"
	"github.com/heraldhq/herald/infra/localcloud"
)

// TestABatchOfOneRecipientMessagesSendsConcurrently: SES answers each
// send after 500 ms; ten one-recipient messages arrive in one SQS batch,
// and one Dispatch invocation has at least eight sends in flight at once
// (its slots), so the batch takes about two send times, not ten. The
// proxy counts the calls under way; the time is reported, not asserted.
func TestABatchOfOneRecipientMessagesSendsConcurrently(t *testing.T) {
	skipShort(t)
	f := newFixture(t)
	const cell = "conc1q"
	cloud.Faults.Add(faultproxy.Rule{Name: cell, Operation: "SendEmail", Match: []string{cell}, Fault: faultproxy.Delay,
		Delay: faultproxy.Duration(500 * time.Millisecond)})
	defer cloud.Faults.Remove(cell)
	rs := recipients("email", cell, 10, 9001)
	for i := range rs { // one execution, one message each
		f.trigger("email", fmt.Sprintf("%s-req-%d", cell, i), cell, rs[i:i+1])
	}
	var dispatch *localcloud.Poller
	for _, p := range cloud.Pollers {
		if p.Function == localcloud.DispatchFunctionID {
			dispatch = p
		}
	}
	if dispatch == nil {
		t.Fatal("no Dispatch poller")
	}
	cloud.Faults.ResetPeaks()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n, err := dispatch.Poll(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	peak := cloud.Faults.Peak("SendEmail")
	t.Logf("one batch of %d one-recipient messages, 500 ms a send: %d sends in flight at most, %s", n, peak, took.Round(10*time.Millisecond))
	if n != 10 {
		t.Fatalf("the batch held %d messages, want the 10 queued", n)
	}
	if peak < 8 {
		t.Errorf("at most %d sends in flight at once, want at least 8", peak)
	}
	got := received(t, "email")
	for _, r := range rs {
		if got[r.Address] != 1 {
			t.Errorf("%s received %d emails, want 1", r.UserID, got[r.Address])
		}
	}
}
