package eventapi_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/dynamo"
	"github.com/heraldhq/herald/internal/eventapi"
	"github.com/heraldhq/herald/internal/tally"
	"github.com/heraldhq/herald/internal/tenant"
)

// countStore is a tally.Store that fails the change ids in fail.
type countStore struct {
	fail  map[string]bool
	added map[string]tally.Delta
}

func (c *countStore) ExecutionCampaign(context.Context, tenant.Tenant, string) (string, error) {
	return "c-1", nil
}

func (c *countStore) AddOutcomes(_ context.Context, _ tenant.Tenant, _ string, _ time.Time, marks []tally.Mark, d tally.Delta) error {
	for _, m := range marks {
		if c.fail[m.ID] {
			return errors.New("throttled")
		}
	}
	for _, m := range marks {
		c.added[m.ID] = d
	}
	return nil
}

func counterRecord(id, seq string, old, cur map[string]events.DynamoDBAttributeValue) events.DynamoDBEventRecord {
	keys := map[string]events.DynamoDBAttributeValue{"pk": events.NewStringAttribute("T#acme#prod#EXEC#ex-1"), "sk": events.NewStringAttribute("T#0001")}
	return events.DynamoDBEventRecord{EventID: id, EventName: "MODIFY", Change: events.DynamoDBStreamRecord{
		ApproximateCreationDateTime: events.SecondsEpochTime{Time: now}, Keys: keys, OldImage: old, NewImage: cur, SequenceNumber: seq}}
}

// The batch's changes of one campaign and hour are added in one write: when
// it fails, the shard is retried from its first change.
func TestReportsStreamCountsChangesAndRetriesFromTheFirstFailure(t *testing.T) {
	one := map[string]events.DynamoDBAttributeValue{"r:a": events.NewStringAttribute("sent"), "n:sent": events.NewNumberAttribute("1")}
	two := map[string]events.DynamoDBAttributeValue{"r:a": events.NewStringAttribute("sent"), "r:b": events.NewStringAttribute("sent"),
		"n:sent": events.NewNumberAttribute("2")}
	other := events.DynamoDBEventRecord{EventID: "e0", Change: events.DynamoDBStreamRecord{SequenceNumber: "100",
		Keys: map[string]events.DynamoDBAttributeValue{"pk": events.NewStringAttribute("T#acme#prod#EXEC#ex-1"), "sk": events.NewStringAttribute("R#x")}}}
	ev := events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{other, counterRecord("e1", "101", nil, one),
		counterRecord("e2", "102", one, two), counterRecord("e3", "103", two, two)}}
	store := &countStore{fail: map[string]bool{"e2": true}, added: map[string]tally.Delta{}}
	h := eventapi.ReportsStream(&tally.Service{Store: store}, dynamo.TallyChange, discard)
	resp, err := h(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	want := []events.DynamoDBBatchItemFailure{{ItemIdentifier: "101"}}
	if diff := cmp.Diff(want, resp.BatchItemFailures); diff != "" {
		t.Errorf("batchItemFailures (-want +got):\n%s", diff)
	}
	if len(store.added) != 0 {
		t.Errorf("added %v, want nothing", store.added)
	}

	delete(store.fail, "e2")
	if resp, err = h(context.Background(), ev); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("handler = %+v, %v; want no failure", resp, err)
	}
	sum := tally.Delta{Targeted: 2, Outcomes: map[string]int64{"sent": 2}}
	if diff := cmp.Diff(map[string]tally.Delta{"e1": sum, "e2": sum}, store.added); diff != "" {
		t.Errorf("added (-want +got):\n%s", diff)
	}
}
