package dynamo_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/heraldhq/herald/internal/dynamo"
	"github.com/heraldhq/herald/internal/ratelimit"
	"github.com/heraldhq/herald/internal/storetest"
)

func TestRateLimitContract(t *testing.T) {
	storetest.RateLimits(t, func(t *testing.T) ratelimit.Store { return newStore(t) })
}

// countingAPI counts the store's calls that cost DynamoDB capacity.
type countingAPI struct {
	dynamo.API
	updates, gets atomic.Int64
}

func (c *countingAPI) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.updates.Add(1)
	return c.API.UpdateItem(ctx, in, opts...)
}

func (c *countingAPI) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.gets.Add(1)
	return c.API.GetItem(ctx, in, opts...)
}

// The cost the docs state: a lease is one conditional write; a lease of
// more than is left is two (the refused one and the one taking the rest),
// plus a read when DynamoDB does not return the item with the refusal.
// The window's item expires a minute after it.
func TestARateLimitLeaseIsOneWriteOnAnItemThatExpires(t *testing.T) {
	_, raw, table := newRawStore(t)
	api := &countingAPI{API: raw}
	s := dynamo.New(api, table)
	ctx := context.Background()
	w := now.Truncate(time.Second)

	if got, err := s.TakeTokens(ctx, acme, ratelimit.Execution, w, 25, 30); got != 25 || err != nil {
		t.Fatalf("TakeTokens(25 of 30) = %d, %v; want 25", got, err)
	}
	if n := api.updates.Load(); n != 1 {
		t.Errorf("a lease made %d writes, want 1", n)
	}
	if got, err := s.TakeTokens(ctx, acme, ratelimit.Execution, w, 25, 30); got != 5 || err != nil {
		t.Fatalf("TakeTokens(25 of 30) after 25 = %d, %v; want the 5 left", got, err)
	}
	if n := api.updates.Load(); n != 3 {
		t.Errorf("two leases, the second over what is left, made %d writes, want 3", n)
	}
	t.Logf("reads after a refused condition: %d", api.gets.Load())

	out, err := raw.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "T#" + acme.Key() + "#RATE#execution#" + strconv.FormatInt(w.Unix(), 10)},
			"sk": &types.AttributeValueMemberS{Value: "W"}}})
	if err != nil || out.Item == nil {
		t.Fatalf("the window's item: %v, %v", out, err)
	}
	used, _ := out.Item["used"].(*types.AttributeValueMemberN)
	exp, _ := out.Item["expiresAt"].(*types.AttributeValueMemberN)
	if used == nil || used.Value != "30" || exp == nil || exp.Value != strconv.FormatInt(w.Add(time.Minute).Unix(), 10) {
		t.Errorf("the window's item is %v; want used 30 and expiresAt a minute after the window", out.Item)
	}
}
