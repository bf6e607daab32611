package localcloud

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/infra/motoserver"
)

// The Reports function's stream on moto: only counter items reach it, in
// order, and a reported failure has the shard read again from that record.
func TestStreamPollerDeliversFilteredRecordsAndRetriesFromAFailure(t *testing.T) {
	moto := motoserver.Shared(t)
	ctx := context.Background()
	if err := moto.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	s, err := LoadStack("../../template.yaml", StackOptions{MotoURL: moto.URL(), Parameters: DefaultParameters})
	if err != nil {
		t.Fatal(err)
	}
	if err := Provision(ctx, moto.AWSConfig(), s); err != nil {
		t.Fatal(err)
	}
	ddb := dynamodb.NewFromConfig(moto.AWSConfig())
	put := func(sk string) {
		t.Helper()
		_, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Tables[0].Name), Item: map[string]ddbtypes.AttributeValue{
			"pk": &ddbtypes.AttributeValueMemberS{Value: "T#o#s#EXEC#x"}, "sk": &ddbtypes.AttributeValueMemberS{Value: sk}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	failOnce := "T#0002"
	h := func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		var resp events.DynamoDBEventResponse
		for _, r := range ev.Records {
			sk := r.Change.Keys["sk"].String()
			if sk == failOnce {
				failOnce = ""
				resp.BatchItemFailures = []events.DynamoDBBatchItemFailure{{ItemIdentifier: r.Change.SequenceNumber}}
				break
			}
			got = append(got, sk)
		}
		return resp, nil
	}
	f := s.Functions["ReportsFunction"]
	p, err := NewStreamPoller(ddb, dynamodbstreams.NewFromConfig(moto.AWSConfig()), s, f, f.DynamoDB[0], h, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		put(fmt.Sprintf("T#%04d", i))
		put(fmt.Sprintf("R#ledger#%d", i))
	}
	if err := p.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"T#0000", "T#0001", "T#0002", "T#0003"}, got); diff != "" {
		t.Errorf("records handled (-want +got):\n%s", diff)
	}
	got = nil
	put("T#0004")
	if err := p.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"T#0004"}, got); diff != "" {
		t.Errorf("records handled after a later write (-want +got):\n%s", diff)
	}
}
