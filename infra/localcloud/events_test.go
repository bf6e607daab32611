package localcloud

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
)

// fixtureCase is what one events/*.json must produce.
type fixtureCase struct {
	function string // logical ID of the handler it is for
	// For HTTP functions: the status.
	status int
	// For SQS and DynamoDB stream functions: the message ids (sequence
	// numbers) reported as failed.
	failed []string
	// sends is how many emails moto must have recorded afterwards.
	sends int
	// event: invoke the function as EventBridge or Scheduler does (raw
	// JSON), not through its HTTP route; result is what its JSON answer
	// must contain.
	event  bool
	result string
}

// fixtures lists every file of events/; a file missing here fails the test.
var fixtures = map[string]fixtureCase{
	// A secret no key has: refused by the function itself, in AJO's
	// error shape.
	"trigger.unknown-key.json": {function: "TriggerFunction", status: 401},
	// IMS's client credentials grant with the demo key's id and secret.
	"trigger.ims-token.json":           {function: "TriggerFunction", status: 200},
	"trigger.unitary.json":             {function: "TriggerFunction", status: 202, sends: 1},
	"trigger.unitary-invalid.json":     {function: "TriggerFunction", status: 400},
	"trigger.health.json":              {function: "TriggerFunction", status: 200},
	"manage.create-campaign.json":      {function: "ManageFunction", status: 201},
	"manage.unknown-field.json":        {function: "ManageFunction", status: 400},
	"dispatch.one-recipient.json":      {function: "DispatchFunction", failed: nil, sends: 1},
	"dispatch.poison.json":             {function: "DispatchFunction", failed: []string{"2e1424d4-f796-459a-8184-9c92662be6da"}},
	"trigger.eventbridge-unitary.json": {function: "TriggerFunction", event: true, result: `"executionId"`, sends: 1},
	// EventBridge Scheduler hands the Trigger function the body itself.
	"trigger.scheduler-unitary.json": {function: "TriggerFunction", event: true, result: `"executionId"`, sends: 1},
	// The Scheduler function: a campaign start for a campaign already
	// live, and a firing of a deleted recurrence, have nothing to do: no
	// error (EventBridge Scheduler would retry one), nothing sent.
	"scheduler.campaign-start-nothing-to-do.json": {function: "SchedulerFunction", event: true, result: "null"},
	"scheduler.recurrence-deleted.json":           {function: "SchedulerFunction", event: true, result: "null"},
	// Recipients deferred by quiet hours whose job was already woken (a
	// firing delivered twice): nothing to queue, nothing sent.
	"scheduler.deferred-already-woken.json": {function: "SchedulerFunction", event: true, result: "null"},
	// A deferral queue message that is no job: reported failed until the
	// queue moves it to the dispatch dead-letter queue.
	"scheduler.deferral-poison.json": {function: "SchedulerFunction", failed: []string{"7c3f1a9e-5b2d-4e8f-a6c1-0d9b8e7f6a5c"}},
	// A job in the dead-letter queue: its recipient is closed
	// (failed:retries_exhausted), nothing is sent, the job is parked.
	"deadletter.closes-and-parks.json": {function: "DeadLetterFunction", failed: nil, sends: 0},
	// Provider events about messages this cloud never sent, older than
	// the grace for the reference index: read, and dropped as not Herald's.
	"feedback.ses-bounce.json":            {function: "FeedbackFunction", event: true, result: `"unknown":1`},
	"feedback.ses-delivery.json":          {function: "FeedbackFunction", event: true, result: `"unknown":1`},
	"feedback.sms-delivery-status.json":   {function: "FeedbackFunction", event: true, result: `"unknown":1`},
	"feedback.push-delivery-failure.json": {function: "FeedbackFunction", event: true, result: `"unknown":1`},
	// An endpoint event for an endpoint whose owner Herald never
	// recorded: dropped as not Herald's, its endpoint not read.
	"feedback.push-endpoint-updated.json": {function: "FeedbackFunction", event: true, result: `"unknown":1`},
	// A feedback event for a tenant without a webhook is recorded
	// skipped and acknowledged; a body that is no webhook message fails
	// until the queue dead-letters it.
	"webhook.no-webhook.json": {function: "WebhookFunction", failed: nil},
	"webhook.poison.json":     {function: "WebhookFunction", failed: []string{"4b9d2e61-0a7c-4f38-b5d1-6e2c9a0f7b13"}},
	// A counter change of an execution that has no record: it can never
	// be attributed to a campaign, so it is skipped, not retried.
	"reports.counter-change.json": {function: "ReportsFunction", failed: nil},
}

func TestEveryEventFixtureRunsThroughItsHandler(t *testing.T) {
	files, err := filepath.Glob("../../events/*.json")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	for name := range fixtures {
		if !slices.Contains(names, name) {
			t.Errorf("fixtures lists %s but events/%s does not exist", name, name)
		}
	}
	for _, name := range names {
		if _, ok := fixtures[name]; !ok {
			t.Errorf("events/%s is not covered: add it to fixtures in events_test.go", name)
		}
	}

	c := startCloud(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	demo, err := c.SeedDemo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		tc, ok := fixtures[name]
		if !ok {
			continue
		}
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			before, err := c.Moto.SentEmails(ctx)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(filepath.Join("../../events", name))
			if err != nil {
				t.Fatal(err)
			}
			b, err := demo.Expand(raw)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.event:
				res, err := c.Handlers.Events[tc.function](ctx, json.RawMessage(b))
				if err != nil {
					t.Fatalf("handler error: %v", err)
				}
				out, _ := json.Marshal(res)
				if !strings.Contains(string(out), tc.result) {
					t.Errorf("result %s, want it to hold %s", out, tc.result)
				}
			case c.Handlers.HTTP[tc.function] != nil:
				var ev events.APIGatewayV2HTTPRequest
				decode(t, b, &ev)
				res, err := c.Handlers.HTTP[tc.function](ctx, ev)
				if err != nil {
					t.Fatalf("handler error: %v", err)
				}
				if res.StatusCode != tc.status {
					t.Errorf("status = %d, want %d; body %s", res.StatusCode, tc.status, res.Body)
				}
			case c.Handlers.SQS[tc.function] != nil:
				var ev events.SQSEvent
				decode(t, b, &ev)
				res, err := c.Handlers.SQS[tc.function](ctx, ev)
				checkFailures(t, err, tc.failed, res.BatchItemFailures, func(f events.SQSBatchItemFailure) string { return f.ItemIdentifier })
			case c.Handlers.Streams[tc.function] != nil:
				var ev events.DynamoDBEvent
				decode(t, b, &ev)
				res, err := c.Handlers.Streams[tc.function](ctx, ev)
				checkFailures(t, err, tc.failed, res.BatchItemFailures, func(f events.DynamoDBBatchItemFailure) string { return f.ItemIdentifier })
			default:
				t.Fatalf("no handler for %s", tc.function)
			}
			if err := c.Drain(ctx); err != nil {
				t.Fatal(err)
			}
			sent, err := c.Moto.SentEmails(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(sent) - len(before); n != tc.sends {
				t.Errorf("%d emails sent, want %d", n, tc.sends)
			}
		})
	}
}

func decode(t *testing.T, b []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("fixture does not decode as %T: %v", v, err)
	}
}

// checkFailures checks a batch handler's answer: no error, and the items
// it reported failed (by identifier) are want.
func checkFailures[F any](t *testing.T, err error, want []string, failures []F, id func(F) string) {
	t.Helper()
	if err != nil {
		t.Fatalf("handler error: %v", err)
	}
	var failed []string
	for _, f := range failures {
		failed = append(failed, id(f))
	}
	if diff := cmp.Diff(want, failed); diff != "" {
		t.Errorf("batchItemFailures (-want +got):\n%s", diff)
	}
}
