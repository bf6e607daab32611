package dynamo_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/storetest"
)

func TestProfileStoreContract(t *testing.T) {
	storetest.Profiles(t, func(t *testing.T) profile.Store { return newStore(t) })
}

// A value the domain should have refused never becomes a retryable
// failure: DynamoDB's refusal is derrors.Invalid, and in a batch it fails
// that profile alone.
func TestProfilesDynamoDBRefusesAreInvalidAndFailOnlyThemselves(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	bad := profile.Profile{Namespace: "crmId", ID: "bad", Attributes: map[string]any{"n": json.Number("1e308")}, CreatedAt: now, UpdatedAt: now}
	if err := s.Put(ctx, acme, bad); !derrors.Is(err, derrors.Invalid) {
		t.Errorf("Put(1e308) = %v, want Invalid", err)
	}
	ps := []profile.Profile{
		{Namespace: "crmId", ID: "a", Attributes: map[string]any{"n": json.Number("1")}, CreatedAt: now, UpdatedAt: now},
		bad,
		{Namespace: "crmId", ID: "c", Attributes: map[string]any{"n": json.Number("3")}, CreatedAt: now, UpdatedAt: now},
	}
	errs := s.PutBatch(ctx, acme, ps)
	if !derrors.Is(errs[1], derrors.Invalid) || errs[0] != nil || errs[2] != nil {
		t.Errorf("PutBatch errors = %v, want [nil Invalid nil]", errs)
	}
	got, err := s.BatchGet(ctx, acme, []profile.Identity{ps[0].Identity(), ps[1].Identity(), ps[2].Identity()})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Errorf("BatchGet found %d profiles, want 2 (a and c)", len(got))
	}
}

// Before issue 10 a device's endpoint was stored as endpointArn, which a
// request could set to anything (a topic, another tenant's endpoint).
// Herald now keeps its own under another name and never reads the old
// one: the endpoint is made again from the token.
func TestAnEndpointARNStoredBeforeIsNeverRead(t *testing.T) {
	s, api, table := newRawStore(t)
	ctx := context.Background()
	p := profile.Profile{Namespace: "crmId", ID: "legacy", Attributes: map[string]any{},
		Devices: []profile.Device{{AppID: "shop-ios", Platform: "APNS", Token: "t", Enabled: true}}, CreatedAt: now, UpdatedAt: now}
	if err := s.Put(ctx, acme, p); err != nil {
		t.Fatal(err)
	}
	out, err := api.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table), FilterExpression: aws.String("sk = :sk AND id = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":sk": &types.AttributeValueMemberS{Value: "PROF"}, ":id": &types.AttributeValueMemberS{Value: "legacy"}}})
	if err != nil || len(out.Items) != 1 {
		t.Fatalf("scan for the profile item: %d items, %v", len(out.Items), err)
	}
	key := map[string]types.AttributeValue{"pk": out.Items[0]["pk"], "sk": out.Items[0]["sk"]}
	topic := "arn:aws:sns:us-east-1:123456789012:herald-internal-alerts"
	if _, err := api.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key,
		UpdateExpression:          aws.String("SET devices[0].endpointArn = :arn"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":arn": &types.AttributeValueMemberS{Value: topic}}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, acme, p.Identity())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p.Devices, got.Devices); diff != "" {
		t.Errorf("devices read back (-want +got):\n%s", diff)
	}
	// The next write of the profile drops the old attribute.
	if _, err := s.Update(ctx, acme, p.Identity(), func(q *profile.Profile) error {
		q.Devices[0].EndpointARN = "arn:aws:sns:us-east-1:123456789012:endpoint/APNS/shop-ios/1"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	item, err := api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key})
	if err != nil {
		t.Fatal(err)
	}
	dv := item.Item["devices"].(*types.AttributeValueMemberL).Value[0].(*types.AttributeValueMemberM).Value
	if _, ok := dv["endpointArn"]; ok {
		t.Errorf("the old endpointArn is still stored after a write: %v", dv["endpointArn"])
	}
	if v, ok := dv["heraldEndpointArn"].(*types.AttributeValueMemberS); !ok || !strings.HasPrefix(v.Value, "arn:aws:sns:us-east-1:123456789012:endpoint/") {
		t.Errorf("Herald's endpoint is stored as %v, want heraldEndpointArn", dv["heraldEndpointArn"])
	}
}
