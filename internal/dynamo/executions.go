package dynamo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/tenant"
)

var _ execution.RecordStore = (*Store)(nil)

const (
	skRequest   = "REQ"
	skExecution = "EXEC"
)

type requestItem struct {
	PK          string    `dynamodbav:"pk"`
	SK          string    `dynamodbav:"sk"`
	RequestID   string    `dynamodbav:"requestId"`
	BodyHash    string    `dynamodbav:"bodyHash"`
	ExecutionID string    `dynamodbav:"executionId"`
	Version     int       `dynamodbav:"version"`
	CreatedAt   time.Time `dynamodbav:"createdAt"`
	CreatedBy   string    `dynamodbav:"createdBy"`
	Enqueued    bool      `dynamodbav:"enqueued"`
	ExpiresAt   time.Time `dynamodbav:"expiresAt,unixtime"`
}

type executionItem struct {
	PK             string    `dynamodbav:"pk"`
	SK             string    `dynamodbav:"sk"`
	ExecutionID    string    `dynamodbav:"executionId"`
	Kind           string    `dynamodbav:"kind"`
	RequestID      string    `dynamodbav:"requestId"`
	CampaignID     string    `dynamodbav:"campaignId"`
	Version        int       `dynamodbav:"version"`
	RecipientCount int       `dynamodbav:"recipientCount"`
	CreatedAt      time.Time `dynamodbav:"createdAt"`
	CreatedBy      string    `dynamodbav:"createdBy"`
}

// GetRecord implements execution.RecordStore.
func (s *Store) GetRecord(ctx context.Context, t tenant.Tenant, requestID string) (execution.Record, error) {
	item, err := s.get(ctx, tenantPK(t, skRequest, requestID), skRequest, "request")
	if err != nil {
		return execution.Record{}, err
	}
	var ri requestItem
	if err := attributevalue.UnmarshalMap(item, &ri); err != nil {
		return execution.Record{}, fmt.Errorf("decode request: %w", err)
	}
	// An expired record may linger until DynamoDB's TTL sweep removes it.
	if !ri.ExpiresAt.IsZero() && time.Now().After(ri.ExpiresAt) {
		return execution.Record{}, derrors.New(derrors.NotFound, "request not found")
	}
	created := ri.CreatedAt.UTC()
	return execution.Record{
		RequestID: ri.RequestID, BodyHash: ri.BodyHash, Version: ri.Version, Enqueued: ri.Enqueued, ExpiresAt: ri.ExpiresAt,
		Response: execution.Response{ExecutionID: ri.ExecutionID, RequestID: ri.RequestID,
			CreatedAt: created, CreatedBy: ri.CreatedBy, ModifiedAt: created, ModifiedBy: ri.CreatedBy},
	}, nil
}

// Begin implements execution.RecordStore.
func (s *Store) Begin(ctx context.Context, t tenant.Tenant, rec execution.Record, ex execution.Execution) error {
	ei, err := attributevalue.MarshalMap(executionItem{
		PK: tenantPK(t, skExecution, ex.ID), SK: skExecution, ExecutionID: ex.ID, Kind: ex.Kind, RequestID: ex.RequestID,
		CampaignID: ex.CampaignID, Version: ex.Version, RecipientCount: ex.RecipientCount, CreatedAt: ex.CreatedAt, CreatedBy: ex.CreatedBy,
	})
	if err != nil {
		return fmt.Errorf("encode execution: %w", err)
	}
	var check []types.TransactWriteItem
	if ex.CampaignRevision != 0 {
		cond, err := expression.NewBuilder().WithCondition(
			expression.Name("revision").Equal(expression.Value(ex.CampaignRevision))).Build()
		if err != nil {
			return err
		}
		check = append(check, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: aws.String(s.table),
			Key: key(tenantPK(t, skCampaign, ex.CampaignID), skCampaign), ConditionExpression: cond.Condition(),
			ExpressionAttributeNames: cond.Names(), ExpressionAttributeValues: cond.Values()}})
	}
	err = s.begin(ctx, t, rec, ei, campaignIndexItem(t, ex.CampaignID, ex.ID, ex.CreatedAt), check...)
	if errors.Is(err, errCampaignRevision) {
		return derrors.New(derrors.Precondition, "campaign %s is no longer at revision %d", ex.CampaignID, ex.CampaignRevision)
	}
	return err
}

// errCampaignRevision is begin's answer when only a check it was given
// failed.
var errCampaignRevision = errors.New("a checked item changed")

// A campaign's executions are indexed in its partition, newest first: sk
// XI#<2^63-1 - createdAt in Unix ns, 19 digits>#<executionId>, so a
// forward Query reads the latest first. Executions accepted before the
// index existed are not listed.
const prefixCampaignExecution = "XI#"

func campaignIndexItem(t tenant.Tenant, campaignID, executionID string, created time.Time) map[string]types.AttributeValue {
	return key(campaignPK(t, campaignID), fmt.Sprintf("%s%019d#%s", prefixCampaignExecution, math.MaxInt64-created.UnixNano(), executionID))
}

// CampaignExecutions implements status.Store.
func (s *Store) CampaignExecutions(ctx context.Context, t tenant.Tenant, campaignID, cursor string, limit int) ([]string, string, error) {
	items, next, err := s.queryPage(ctx, campaignPK(t, campaignID), prefixCampaignExecution, cursor, limit, true)
	if err != nil {
		return nil, "", fmt.Errorf("list executions: %w", err)
	}
	ids := make([]string, 0, len(items))
	for _, item := range items {
		sk := str(item, attrSK)
		if i := strings.LastIndexByte(sk, '#'); i > 0 {
			ids = append(ids, sk[i+1:])
		}
	}
	return ids, next, nil
}

// begin writes an idempotency record, its execution item and the
// campaign's index entry in one transaction, provided the requestId is
// new (or its record expired and awaits the TTL sweep) and the execution
// id unused (derrors.Conflict otherwise) and every check holds
// (errCampaignRevision otherwise).
func (s *Store) begin(ctx context.Context, t tenant.Tenant, rec execution.Record, exec, index map[string]types.AttributeValue, checks ...types.TransactWriteItem) error {
	if keep := s.retention.Idempotency; keep > 0 {
		rec.ExpiresAt = expiry(keep, rec.Response.CreatedAt)
	}
	setExpiry(exec, s.retention.Executions, rec.Response.CreatedAt)
	setExpiry(index, s.retention.Executions, rec.Response.CreatedAt)
	ri, err := attributevalue.MarshalMap(requestItem{
		PK: tenantPK(t, skRequest, rec.RequestID), SK: skRequest, RequestID: rec.RequestID, BodyHash: rec.BodyHash,
		ExecutionID: rec.Response.ExecutionID, Version: rec.Version, CreatedAt: rec.Response.CreatedAt,
		CreatedBy: rec.Response.CreatedBy, ExpiresAt: rec.ExpiresAt,
	})
	if err != nil {
		return fmt.Errorf("encode request: %w", err)
	}
	cond, err := expression.NewBuilder().WithCondition(expression.Or(
		expression.AttributeNotExists(expression.Name(attrPK)),
		expression.Name("expiresAt").LessThan(expression.Value(time.Now().Unix())),
	)).Build()
	if err != nil {
		return err
	}
	items := append([]types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.table), Item: ri, ConditionExpression: cond.Condition(),
			ExpressionAttributeNames: cond.Names(), ExpressionAttributeValues: cond.Values()}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: exec, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: index}},
	}, checks...)
	_, err = s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if failed := txFailedAt(err); len(failed) > 0 {
		if !failed[0] && !failed[1] && len(checks) > 0 {
			return errCampaignRevision
		}
		return derrors.New(derrors.Conflict, "request %q already exists", rec.RequestID)
	}
	if err != nil {
		return fmt.Errorf("begin execution: %w", err)
	}
	return nil
}

// MarkEnqueued implements execution.RecordStore.
func (s *Store) MarkEnqueued(ctx context.Context, t tenant.Tenant, requestID string) error {
	upd, err := expression.NewBuilder().WithUpdate(expression.Set(expression.Name("enqueued"), expression.Value(true))).Build()
	if err != nil {
		return err
	}
	_, err = s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(tenantPK(t, skRequest, requestID), skRequest),
		UpdateExpression: upd.Update(), ExpressionAttributeNames: upd.Names(), ExpressionAttributeValues: upd.Values(),
	})
	return err
}
