package dynamo

import (
	"context"
	"fmt"
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

var _ execution.Store = (*Store)(nil)

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

// GetRecord implements execution.Store.
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

// Begin implements execution.Store.
func (s *Store) Begin(ctx context.Context, t tenant.Tenant, rec execution.Record, ex execution.Execution) error {
	ei, err := attributevalue.MarshalMap(executionItem{
		PK: tenantPK(t, skExecution, ex.ID), SK: skExecution, ExecutionID: ex.ID, Kind: ex.Kind, RequestID: ex.RequestID,
		CampaignID: ex.CampaignID, Version: ex.Version, RecipientCount: ex.RecipientCount, CreatedAt: ex.CreatedAt, CreatedBy: ex.CreatedBy,
	})
	if err != nil {
		return fmt.Errorf("encode execution: %w", err)
	}
	return s.begin(ctx, t, rec, ei)
}

// begin writes an idempotency record and its execution item in one
// transaction, provided the requestId is new (or its record expired and
// awaits the TTL sweep) and the execution id unused; derrors.Conflict
// otherwise.
func (s *Store) begin(ctx context.Context, t tenant.Tenant, rec execution.Record, exec map[string]types.AttributeValue) error {
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
	_, err = s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.table), Item: ri, ConditionExpression: cond.Condition(),
			ExpressionAttributeNames: cond.Names(), ExpressionAttributeValues: cond.Values()}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: exec, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
	}})
	if isTxConditionFailed(err) {
		return derrors.New(derrors.Conflict, "request %q already exists", rec.RequestID)
	}
	if err != nil {
		return fmt.Errorf("begin execution: %w", err)
	}
	return nil
}

// MarkEnqueued implements execution.Store.
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
