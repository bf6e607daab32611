package dynamo_test

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/capping"
	"github.com/heraldhq/herald/internal/dynamo"
	"github.com/heraldhq/herald/internal/storetest"
)

func TestFrequencyCapContract(t *testing.T) {
	storetest.FrequencyCaps(t, func(t *testing.T) capping.Store { return newStore(t) })
}

// capCountingAPI counts the calls a reservation costs and keeps the last
// counter item written.
type capCountingAPI struct {
	dynamo.API
	gets, puts atomic.Int64
	last       atomic.Pointer[map[string]types.AttributeValue]
}

func (c *capCountingAPI) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.gets.Add(1)
	return c.API.GetItem(ctx, in, opts...)
}

func (c *capCountingAPI) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.puts.Add(1)
	c.last.Store(&in.Item)
	return c.API.PutItem(ctx, in, opts...)
}

// The cost the docs state: a reservation is one consistent read and one
// conditional write, on an item keyed by a digest (no address) that
// expires a day past the longest window; a capped recipient costs the
// read only; a retry of the same recipient writes nothing.
func TestAReservationIsOneReadAndOneWrite(t *testing.T) {
	_, raw, table := newRawStore(t)
	api := &capCountingAPI{API: raw}
	s := dynamo.New(api, table)
	ctx := context.Background()
	svc := &capping.Service{Store: s}
	if _, err := svc.SetRules(ctx, acme, capping.RuleSet{Rules: []capping.Rule{
		{Channel: campaign.Email, Limit: 1, Window: capping.Rolling24h}, {Channel: campaign.Email, Limit: 5, Window: capping.Rolling7d}}}); err != nil {
		t.Fatal(err)
	}
	k := capping.Key{Channel: campaign.Email, Namespace: "email", UserID: "ann@example.com"}
	// The rule set is read once, then cached.
	if _, err := svc.Reserve(ctx, acme, capping.Key{Channel: campaign.Email, Namespace: "email", UserID: "warm@example.com"}, "w", now); err != nil {
		t.Fatal(err)
	}
	step := func(name, tag string, wantGets, wantPuts int64, capped bool) {
		t.Helper()
		api.gets.Store(0)
		api.puts.Store(0)
		v, err := svc.Reserve(ctx, acme, k, tag, now)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if v.Capped != capped || api.gets.Load() != wantGets || api.puts.Load() != wantPuts {
			t.Errorf("%s: capped %t after %d reads and %d writes, want capped %t after %d and %d",
				name, v.Capped, api.gets.Load(), api.puts.Load(), capped, wantGets, wantPuts)
		}
	}
	step("a reservation", "t1", 1, 1, false)
	item := *api.last.Load()
	pk := item["pk"].(*types.AttributeValueMemberS).Value
	if strings.Contains(pk, "ann") || !strings.Contains(pk, "#CAP#email#") {
		t.Errorf("the counter's key %q: want the channel and a digest of the identity", pk)
	}
	exp, _ := item["expiresAt"].(*types.AttributeValueMemberN)
	if want := now.Add(8 * 24 * time.Hour).Unix(); exp == nil || exp.Value != strconv.FormatInt(want, 10) {
		t.Errorf("expiresAt %v, want %d (a day past the 7-day window)", exp, want)
	}
	step("the same recipient again", "t1", 1, 0, false)
	step("a capped recipient", "t2", 1, 0, true)
}
