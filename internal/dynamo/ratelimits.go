package dynamo

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/ratelimit"
	"github.com/heraldhq/herald/internal/tenant"
)

var _ ratelimit.Store = (*Store)(nil)

// Rate limit items: a counter per (tenant, group, one-second window),
// T#<tk>#RATE#<group>#<Unix second> / W (used; expiresAt a minute after
// the window), each window its own partition key so a busy tenant's
// seconds spread over partitions; and a tenant's overrides,
// T#<tk>#RATE / LIMITS.
const (
	kindRate     = "RATE"
	skRateWindow = "W"
	skRateLimits = "LIMITS"
	rateKept     = time.Minute
	// rateAttempts bounds the conditional writes of one lease: the lease
	// asked for, then what was left, then what was left again after a
	// race with another container.
	rateAttempts = 3
)

func rateWindowPK(t tenant.Tenant, g ratelimit.Group, window time.Time) string {
	return tenantPK(t, kindRate, string(g)+"#"+strconv.FormatInt(window.Unix(), 10))
}

// TakeTokens implements ratelimit.Store: one UpdateItem, ADD used :n on
// condition that used stays within limit; when the condition fails, the
// item's used count (returned with the failure) says what is left, which
// a second conditional ADD takes. A failed conditional write costs a write
// unit as a successful one does.
func (s *Store) TakeTokens(ctx context.Context, t tenant.Tenant, g ratelimit.Group, window time.Time, n, limit int) (int, error) {
	k := key(rateWindowPK(t, g, window), skRateWindow)
	n = min(n, limit)
	for attempt := 0; attempt < rateAttempts && n > 0; attempt++ {
		used := expression.Name("used")
		e, err := expression.NewBuilder().
			WithUpdate(expression.Add(used, expression.Value(n)).Set(expression.Name("expiresAt"), expression.Value(window.Add(rateKept).Unix()))).
			WithCondition(used.AttributeNotExists().Or(used.LessThanEqual(expression.Value(limit - n)))).Build()
		if err != nil {
			return 0, err
		}
		_, err = s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: k,
			UpdateExpression: e.Update(), ConditionExpression: e.Condition(),
			ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
		if err == nil {
			return n, nil
		}
		if !isConditionFailed(err) {
			return 0, fmt.Errorf("take rate limit tokens: %w", err)
		}
		item := conditionItem(err)
		if item == nil {
			out, gerr := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: k, ConsistentRead: aws.Bool(true)})
			if gerr != nil {
				return 0, fmt.Errorf("read rate limit window: %w", gerr)
			}
			item = out.Item
		}
		u, err := strconv.Atoi(num(item, "used"))
		if err != nil {
			return 0, fmt.Errorf("read rate limit window: used is %q", num(item, "used"))
		}
		n = min(n, limit-u)
	}
	// Spent, or lost every race for the rest: refuse (the limit holds).
	return 0, nil
}

// rateLimitsItem is a tenant's stored overrides; an absent group keeps
// the deployment's default.
type rateLimitsItem struct {
	PK             string `dynamodbav:"pk"`
	SK             string `dynamodbav:"sk"`
	Execution      *int   `dynamodbav:"execution,omitempty"`
	HighThroughput *int   `dynamodbav:"highthroughput,omitempty"`
	Management     *int   `dynamodbav:"management,omitempty"`
}

func (it *rateLimitsItem) field(g ratelimit.Group) **int {
	switch g {
	case ratelimit.Execution:
		return &it.Execution
	case ratelimit.HighThroughput:
		return &it.HighThroughput
	default:
		return &it.Management
	}
}

// RateLimitOverrides implements ratelimit.Store: one GetItem.
func (s *Store) RateLimitOverrides(ctx context.Context, t tenant.Tenant) (ratelimit.Overrides, error) {
	item, err := s.get(ctx, rateLimitsPK(t), skRateLimits, "rate limits")
	if derrors.Is(err, derrors.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var it rateLimitsItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return nil, fmt.Errorf("decode rate limits: %w", err)
	}
	o := ratelimit.Overrides{}
	for _, g := range ratelimit.Groups {
		if p := *it.field(g); p != nil {
			o[g] = *p
		}
	}
	return o, nil
}

// SetRateLimitOverrides implements ratelimit.Store: a PutItem, or a
// DeleteItem for no overrides.
func (s *Store) SetRateLimitOverrides(ctx context.Context, t tenant.Tenant, o ratelimit.Overrides) error {
	if err := o.Validate(); err != nil {
		return derrors.New(derrors.Invalid, "%s", err)
	}
	pk := rateLimitsPK(t)
	if len(o) == 0 {
		if _, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: key(pk, skRateLimits)}); err != nil {
			return fmt.Errorf("delete rate limits: %w", err)
		}
		return nil
	}
	it := rateLimitsItem{PK: pk, SK: skRateLimits}
	for g, n := range o {
		*it.field(g) = &n
	}
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return fmt.Errorf("encode rate limits: %w", err)
	}
	if _, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return fmt.Errorf("put rate limits: %w", err)
	}
	return nil
}

func rateLimitsPK(t tenant.Tenant) string { return "T#" + t.Key() + "#" + kindRate }
