package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/tenant"
)

var (
	_ execution.Store = (*Store)(nil)
	_ delivery.Ledger = (*Store)(nil)
)

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

type ledgerItem struct {
	PK          string    `dynamodbav:"pk"`
	SK          string    `dynamodbav:"sk"`
	ExecutionID string    `dynamodbav:"executionId"`
	UserID      string    `dynamodbav:"userId"`
	Channel     string    `dynamodbav:"channel"`
	Device      string    `dynamodbav:"device,omitempty"`
	CampaignID  string    `dynamodbav:"campaignId"`
	Version     int       `dynamodbav:"version"`
	Proof       bool      `dynamodbav:"proof,omitempty"`
	State       string    `dynamodbav:"state"`
	Outcome     string    `dynamodbav:"outcome,omitempty"`
	MessageID   string    `dynamodbav:"messageId,omitempty"`
	Token       string    `dynamodbav:"token"`
	ClaimedAt   time.Time `dynamodbav:"claimedAt"`
	FinishedAt  time.Time `dynamodbav:"finishedAt,omitempty"`
}

func ledgerKey(t tenant.Tenant, e delivery.Entry) (string, string) {
	sk := "L#" + string(e.Channel) + "#" + e.UserID
	if e.Device != "" {
		sk += "#" + e.Device
	}
	return tenantPK(t, skExecution, e.ExecutionID), sk
}

func toLedgerItem(t tenant.Tenant, e delivery.Entry) ledgerItem {
	pk, sk := ledgerKey(t, e)
	return ledgerItem{PK: pk, SK: sk, ExecutionID: e.ExecutionID, UserID: e.UserID, Channel: string(e.Channel), Device: e.Device,
		CampaignID: e.CampaignID, Version: e.Version, Proof: e.Proof, State: string(e.State), Outcome: string(e.Outcome),
		MessageID: e.MessageID, Token: e.Token, ClaimedAt: e.ClaimedAt, FinishedAt: e.FinishedAt}
}

func fromLedgerItem(li ledgerItem) delivery.Entry {
	return delivery.Entry{ExecutionID: li.ExecutionID, UserID: li.UserID, Channel: campaign.Channel(li.Channel), Device: li.Device,
		CampaignID: li.CampaignID, Version: li.Version, Proof: li.Proof, State: delivery.State(li.State), Outcome: delivery.Outcome(li.Outcome),
		MessageID: li.MessageID, Token: li.Token, ClaimedAt: li.ClaimedAt, FinishedAt: li.FinishedAt}
}

// Claim implements delivery.Ledger. A failed condition returns the entry
// that beat us, read in the same call (ReturnValuesOnConditionCheckFailure).
func (s *Store) Claim(ctx context.Context, t tenant.Tenant, e delivery.Entry) (delivery.Entry, bool, error) {
	item, err := attributevalue.MarshalMap(toLedgerItem(t, e))
	if err != nil {
		return delivery.Entry{}, false, fmt.Errorf("encode ledger entry: %w", err)
	}
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item,
		ConditionExpression:                 aws.String("attribute_not_exists(pk)"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return e, true, nil
	}
	if !isConditionFailed(err) {
		return delivery.Entry{}, false, fmt.Errorf("claim ledger entry: %w", err)
	}
	old := conditionItem(err)
	if old == nil {
		pk, sk := ledgerKey(t, e)
		if old, err = s.get(ctx, pk, sk, "ledger entry"); err != nil {
			return delivery.Entry{}, false, err
		}
	}
	var li ledgerItem
	if err := attributevalue.UnmarshalMap(old, &li); err != nil {
		return delivery.Entry{}, false, fmt.Errorf("decode ledger entry: %w", err)
	}
	return fromLedgerItem(li), false, nil
}

// Finish implements delivery.Ledger.
func (s *Store) Finish(ctx context.Context, t tenant.Tenant, e delivery.Entry) error {
	item, err := attributevalue.MarshalMap(toLedgerItem(t, e))
	if err != nil {
		return fmt.Errorf("encode ledger entry: %w", err)
	}
	cond, err := expression.NewBuilder().WithCondition(expression.And(
		expression.Name("state").Equal(expression.Value(string(delivery.Claimed))),
		expression.Name("token").Equal(expression.Value(e.Token)),
	)).Build()
	if err != nil {
		return err
	}
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item, ConditionExpression: cond.Condition(),
		ExpressionAttributeNames: cond.Names(), ExpressionAttributeValues: cond.Values(),
	})
	if isConditionFailed(err) {
		return derrors.New(derrors.Conflict, "ledger entry is no longer held by this claim")
	}
	return err
}

// Release implements delivery.Ledger.
func (s *Store) Release(ctx context.Context, t tenant.Tenant, e delivery.Entry) error {
	pk, sk := ledgerKey(t, e)
	cond, err := expression.NewBuilder().WithCondition(expression.And(
		expression.Name("state").Equal(expression.Value(string(delivery.Claimed))),
		expression.Name("token").Equal(expression.Value(e.Token)),
	)).Build()
	if err != nil {
		return err
	}
	_, err = s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.table), Key: key(pk, sk), ConditionExpression: cond.Condition(),
		ExpressionAttributeNames: cond.Names(), ExpressionAttributeValues: cond.Values(),
	})
	if isConditionFailed(err) {
		return nil // not ours any more: nothing to release
	}
	return err
}

// Ledger returns an execution's ledger entries (a Query on its partition).
func (s *Store) Ledger(ctx context.Context, t tenant.Tenant, executionID string) ([]delivery.Entry, error) {
	kc, err := expression.NewBuilder().WithKeyCondition(expression.KeyAnd(
		expression.Key(attrPK).Equal(expression.Value(tenantPK(t, skExecution, executionID))),
		expression.Key(attrSK).BeginsWith("L#"),
	)).Build()
	if err != nil {
		return nil, err
	}
	p := dynamodb.NewQueryPaginator(s.api, &dynamodb.QueryInput{
		TableName: aws.String(s.table), KeyConditionExpression: kc.KeyCondition(),
		ExpressionAttributeNames: kc.Names(), ExpressionAttributeValues: kc.Values(), ConsistentRead: aws.Bool(true),
	})
	var out []delivery.Entry
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("query ledger: %w", err)
		}
		for _, item := range page.Items {
			var li ledgerItem
			if err := attributevalue.UnmarshalMap(item, &li); err != nil {
				return nil, fmt.Errorf("decode ledger entry: %w", err)
			}
			out = append(out, fromLedgerItem(li))
		}
	}
	return out, nil
}

func conditionItem(err error) map[string]types.AttributeValue {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) && len(ccf.Item) > 0 {
		return ccf.Item
	}
	return nil
}
