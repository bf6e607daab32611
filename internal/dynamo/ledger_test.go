package dynamo_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/heraldhq/herald/infra/motoserver"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/dynamo"
	"github.com/heraldhq/herald/internal/storetest"
	"github.com/heraldhq/herald/internal/tenant"
)

func TestLedgerContract(t *testing.T) {
	storetest.Ledger(t, storetest.LedgerHarness{
		New: func(t *testing.T) storetest.LedgerStore { return newStore(t) },
		PutLegacy: func(t *testing.T, s storetest.LedgerStore, tn tenant.Tenant, e delivery.Entry) {
			t.Helper()
			// An item exactly as the code before LedgerV2 wrote it: no
			// namespace, keyed L#<channel>#<userId>.
			item, err := attributevalue.MarshalMap(map[string]any{
				"pk": "T#" + tn.Key() + "#EXEC#" + e.ExecutionID, "sk": "L#" + string(e.Channel) + "#" + e.UserID,
				"executionId": e.ExecutionID, "userId": e.UserID, "channel": string(e.Channel), "campaignId": e.CampaignID,
				"version": e.Version, "state": string(e.State), "token": e.Token, "claimedAt": e.ClaimedAt,
			})
			if err != nil {
				t.Fatal(err)
			}
			api := dynamodb.NewFromConfig(motoserver.Shared(t).AWSConfig())
			if _, err := api.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(s.(*dynamo.Store).Table()), Item: item}); err != nil {
				t.Fatal(err)
			}
		},
	})
}

func TestFeedbackContract(t *testing.T) {
	storetest.Feedback(t, func(t *testing.T) storetest.FeedbackStore { return newStore(t) })
}
