package dynamo

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/tenant"
)

var (
	_ execution.AudienceExecutionStore = (*Store)(nil)
	_ execution.Pacer                  = (*Store)(nil)
)

// An audience execution is the EXEC item of its partition with kind
// "audience": state and lease are top-level attributes (for conditions),
// the whole execution is kept as JSON in doc (its context keeps its exact
// JSON numbers that way).
const kindAudience = "audience"

func strAttr(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func (s *Store) audienceExecItem(t tenant.Tenant, ex execution.AudienceExecution) (map[string]types.AttributeValue, error) {
	doc, err := encodeDoc(ex)
	if err != nil {
		return nil, fmt.Errorf("encode execution: %w", err)
	}
	item := key(tenantPK(t, skExecution, ex.ID), skExecution)
	item["kind"] = strAttr(kindAudience)
	item["executionId"] = strAttr(ex.ID)
	item["campaignId"] = strAttr(ex.CampaignID)
	item["requestId"] = strAttr(ex.RequestID)
	item["state"] = strAttr(ex.State)
	item["leaseToken"] = strAttr(ex.LeaseToken)
	item["doc"] = strAttr(doc)
	setExpiry(item, s.retention.Executions, ex.CreatedAt)
	return item, nil
}

// BeginAudience implements execution.AudienceExecutionStore.
func (s *Store) BeginAudience(ctx context.Context, t tenant.Tenant, rec execution.Record, ex execution.AudienceExecution) error {
	ei, err := s.audienceExecItem(t, ex)
	if err != nil {
		return err
	}
	return s.begin(ctx, t, rec, ei, campaignIndexItem(t, ex.CampaignID, ex.ID, ex.CreatedAt))
}

// GetAudienceExecution implements execution.AudienceExecutionStore.
func (s *Store) GetAudienceExecution(ctx context.Context, t tenant.Tenant, id string) (execution.AudienceExecution, error) {
	var ex execution.AudienceExecution
	item, err := s.get(ctx, tenantPK(t, skExecution, id), skExecution, fmt.Sprintf("audience execution %q", id))
	if err != nil {
		return ex, err
	}
	if str(item, "kind") != kindAudience {
		return ex, derrors.New(derrors.NotFound, "audience execution %q not found", id)
	}
	if err := decodeDoc(str(item, "doc"), &ex); err != nil {
		return ex, fmt.Errorf("decode execution: %w", err)
	}
	return ex, nil
}

// putExec replaces the execution item provided cond holds.
func (s *Store) putExec(ctx context.Context, t tenant.Tenant, ex execution.AudienceExecution, cond expression.ConditionBuilder) error {
	item, err := s.audienceExecItem(t, ex)
	if err != nil {
		return err
	}
	c, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return err
	}
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item,
		ConditionExpression: c.Condition(), ExpressionAttributeNames: c.Names(), ExpressionAttributeValues: c.Values()})
	if isConditionFailed(err) {
		return derrors.New(derrors.Conflict, "audience execution %s changed meanwhile", ex.ID)
	}
	return err
}

// SetAudienceState implements execution.AudienceExecutionStore.
func (s *Store) SetAudienceState(ctx context.Context, t tenant.Tenant, id string, from []string, to string) error {
	ex, err := s.GetAudienceExecution(ctx, t, id)
	if err != nil {
		return err
	}
	ok := false
	for _, f := range from {
		ok = ok || ex.State == f
	}
	if !ok {
		return derrors.New(derrors.Conflict, "audience execution %s is %s", id, ex.State)
	}
	old := ex.State
	ex.State = to
	return s.putExec(ctx, t, ex, expression.Name("state").Equal(expression.Value(old)))
}

// AcquireLease implements execution.AudienceExecutionStore: a read, then a put
// conditioned on the lease token read, so two contenders cannot both win.
func (s *Store) AcquireLease(ctx context.Context, t tenant.Tenant, id, token string, now, until time.Time) (execution.AudienceExecution, error) {
	ex, err := s.GetAudienceExecution(ctx, t, id)
	if err != nil {
		return ex, err
	}
	if ex.State != execution.StateRunning {
		return ex, derrors.New(derrors.Conflict, "audience execution %s is %s", id, ex.State)
	}
	if ex.LeaseToken != "" && ex.LeaseToken != token && now.Before(ex.LeaseUntil) {
		return ex, derrors.New(derrors.Conflict, "audience execution %s is being fanned out", id)
	}
	old := ex.LeaseToken
	ex.LeaseToken, ex.LeaseUntil = token, until
	err = s.putExec(ctx, t, ex, expression.And(
		expression.Name("state").Equal(expression.Value(execution.StateRunning)),
		expression.Name("leaseToken").Equal(expression.Value(old))))
	return ex, err
}

// SaveProgress implements execution.AudienceExecutionStore.
func (s *Store) SaveProgress(ctx context.Context, t tenant.Tenant, ex execution.AudienceExecution) error {
	return s.putExec(ctx, t, ex, expression.And(
		expression.Name("state").Equal(expression.Value(execution.StateRunning)),
		expression.Name("leaseToken").Equal(expression.Value(ex.LeaseToken))))
}

// RecordOutcomes implements execution.AudienceExecutionStore with BatchWrite puts:
// the members were never enqueued, so no claim can exist for them (a
// repeat after a crash writes the same outcome again).
func (s *Store) RecordOutcomes(ctx context.Context, t tenant.Tenant, entries []delivery.Entry) error {
	reqs := make([]types.WriteRequest, len(entries))
	for i, e := range entries {
		item, err := s.ledgerItem(t, e)
		if err != nil {
			return err
		}
		reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: item}}
	}
	return s.batchWrite(ctx, reqs)
}

// CountOutcomes implements execution.AudienceExecutionStore from the execution's
// counters (see Tally); pending is always 0 (it is what the counters do
// not hold yet).
func (s *Store) CountOutcomes(ctx context.Context, t tenant.Tenant, executionID string) (map[delivery.Outcome]int64, int64, error) {
	counts, err := s.Counts(ctx, t, executionID)
	return counts, 0, err
}

func campaignPK(t tenant.Tenant, id string) string { return tenantPK(t, "CAMP", id) }

// PutScheduleRef implements execution.AudienceExecutionStore.
func (s *Store) PutScheduleRef(ctx context.Context, t tenant.Tenant, campaignID string, r execution.ScheduleRef) error {
	item, err := aggregate(campaignPK(t, campaignID), "SCH#"+r.Name, r)
	if err != nil {
		return err
	}
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item})
	return err
}

// DeleteScheduleRef implements execution.AudienceExecutionStore.
func (s *Store) DeleteScheduleRef(ctx context.Context, t tenant.Tenant, campaignID, name string) error {
	_, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: key(campaignPK(t, campaignID), "SCH#"+name)})
	return err
}

// ScheduleRefs implements execution.AudienceExecutionStore.
func (s *Store) ScheduleRefs(ctx context.Context, t tenant.Tenant, campaignID string) ([]execution.ScheduleRef, error) {
	var out []execution.ScheduleRef
	err := s.queryAll(ctx, campaignPK(t, campaignID), "SCH#", func(item map[string]types.AttributeValue) error {
		var r execution.ScheduleRef
		if err := decodeAggregate(item, &r); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	return out, err
}

// queryAll calls fn for every item of partition pk whose sort key begins
// with prefix.
func (s *Store) queryAll(ctx context.Context, pk, prefix string, fn func(map[string]types.AttributeValue) error) error {
	cursor := ""
	for {
		items, next, err := s.queryPage(ctx, pk, prefix, cursor, 1000, false)
		if err != nil {
			return err
		}
		for _, item := range items {
			if err := fn(item); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		cursor = next
	}
}

// Reserve implements execution.Pacer on the campaign's PACE item, whose
// nextAt (Unix nanoseconds) is the timeline's next free slot. The update
// is conditioned on the nextAt read, so concurrent executions of one
// campaign get disjoint slots.
func (s *Store) Reserve(ctx context.Context, t tenant.Tenant, campaignID string, want, rate int, now, limit time.Time) (time.Time, int, error) {
	pk := campaignPK(t, campaignID)
	for attempt := 0; attempt < 20; attempt++ {
		out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(pk, "PACE"), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return time.Time{}, 0, fmt.Errorf("read pacing: %w", err)
		}
		var old int64
		exists := out.Item != nil
		if n, ok := out.Item["nextAt"].(*types.AttributeValueMemberN); ok {
			old, _ = strconv.ParseInt(n.Value, 10, 64)
		}
		start := max(now.UnixNano(), old)
		got := min(int64(want), (limit.UnixNano()-start)*int64(rate)/int64(time.Second))
		if got <= 0 {
			return time.Unix(0, start).UTC(), 0, nil
		}
		next := start + got*int64(time.Second)/int64(rate)
		item := key(pk, "PACE")
		item["nextAt"] = numAttr(next)
		cond := expression.AttributeNotExists(expression.Name(attrPK))
		if exists {
			cond = expression.Name("nextAt").Equal(expression.Value(old))
		}
		c, err := expression.NewBuilder().WithCondition(cond).Build()
		if err != nil {
			return time.Time{}, 0, err
		}
		_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item,
			ConditionExpression: c.Condition(), ExpressionAttributeNames: c.Names(), ExpressionAttributeValues: c.Values()})
		if isConditionFailed(err) {
			continue // another execution of the campaign reserved first
		}
		if err != nil {
			return time.Time{}, 0, fmt.Errorf("reserve pacing: %w", err)
		}
		return time.Unix(0, start).UTC(), int(got), nil
	}
	return time.Time{}, 0, derrors.New(derrors.Throttled, "campaign %s: pacing is contended; retry", campaignID)
}
