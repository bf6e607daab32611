package eventapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/eventapi"
	"github.com/heraldhq/herald/internal/schedule"
)

// deferrals records the jobs DeferralsSQS defers; those of an execution
// in fail are refused.
type deferrals struct {
	mu   sync.Mutex
	jobs []delivery.Job
	fail map[string]bool
}

func (d *deferrals) Defer(_ context.Context, j delivery.Job) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fail[j.ExecutionID] {
		return errors.New("scheduler unavailable")
	}
	d.jobs = append(d.jobs, j)
	return nil
}

func TestTheDeferralQueuesJobsAreDeferredAndFailuresRetriedSooner(t *testing.T) {
	now := time.Now()
	ok, refused := message(t, "m-ok", now, "a@example.com"), message(t, "m-refused", now, "b@example.com")
	refused.Attributes["ApproximateReceiveCount"] = "3"
	d := &deferrals{fail: map[string]bool{"ex-m-refused": true}}
	vis := &visibility{}
	timing := delivery.Timing{RetryFirst: 2 * time.Second, RetryMax: time.Minute}
	h := eventapi.DeferralsSQS(d, vis, timing, discard)
	resp, err := h(context.Background(), events.SQSEvent{Records: []events.SQSMessage{ok, refused, poison("m-poison")}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"m-refused", "m-poison"}, failures(resp)); diff != "" {
		t.Errorf("batchItemFailures (-want +got):\n%s", diff)
	}
	if len(d.jobs) != 1 || d.jobs[0].ExecutionID != "ex-m-ok" || len(d.jobs[0].Recipients) != 1 || d.jobs[0].Recipients[0].UserID != "a@example.com" {
		t.Errorf("deferred %+v; want the decoded job of m-ok", d.jobs)
	}
	// The third try of the refused one comes back after its backoff
	// (2 s doubled twice, jittered over [4 s, 8 s]), not after the
	// queue's 15 minutes; the poison's too.
	if after := vis.set["rh-m-refused"]; after < 4*time.Second || after > 8*time.Second {
		t.Errorf("the refused job comes back after %v; want 4–8 s", after)
	}
	if _, ok := vis.set["rh-m-poison"]; !ok || len(vis.set) != 2 {
		t.Errorf("visibilities set %v; want the refused job's and the poison's", vis.set)
	}
}

func TestTheSchedulerFunctionTellsItsTwoSourcesApart(t *testing.T) {
	var ran []schedule.Input
	var batches []events.SQSEvent
	h := eventapi.SchedulerEntry(func(_ context.Context, in schedule.Input) error {
		ran = append(ran, in)
		if in.Kind == "boom" {
			return errors.New("retry me")
		}
		return nil
	}, func(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		batches = append(batches, ev)
		return events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{ItemIdentifier: ev.Records[0].MessageId}}}, nil
	})
	ctx := context.Background()
	out, err := h(ctx, loadEvent(t, "scheduler.deferral-poison.json"))
	if err != nil {
		t.Fatal(err)
	}
	if resp, ok := out.(events.SQSEventResponse); !ok || len(batches) != 1 || len(ran) != 0 || len(resp.BatchItemFailures) != 1 {
		t.Fatalf("an SQS batch: answer %#v, %d batches, %d schedule inputs; want the batch's failures", out, len(batches), len(ran))
	}
	out, err = h(ctx, loadEvent(t, "scheduler.recurrence-deleted.json"))
	if err != nil || out != nil || len(ran) != 1 || ran[0].Kind != schedule.KindRecurrence {
		t.Fatalf("a schedule's input: answer %v, %v, inputs %+v; want run with the recurrence", out, err, ran)
	}
	// A schedule's input that names Records (no such field) is still one.
	raw, _ := json.Marshal(map[string]any{"kind": "boom", "Records": []any{}})
	if _, err := h(ctx, raw); err == nil || len(ran) != 2 {
		t.Errorf("run's error = %v, inputs %d; want the error returned (Scheduler retries)", err, len(ran))
	}
	if _, err := h(ctx, json.RawMessage(`[1,2]`)); err == nil {
		t.Error("an input that is neither: no error")
	}
}
