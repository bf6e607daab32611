package dynamo

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/recurrence"
	"github.com/heraldhq/herald/internal/tenant"
)

var _ recurrence.Store = (*Store)(nil)

// Recurrences live in their campaign's partition (sk REC#<id>), their
// context kept as JSON in doc.
func recurrenceSK(id string) string { return "REC#" + id }

// PutRecurrence implements recurrence.Store.
func (s *Store) PutRecurrence(ctx context.Context, t tenant.Tenant, r recurrence.Recurrence) error {
	doc, err := encodeDoc(r)
	if err != nil {
		return fmt.Errorf("encode recurrence: %w", err)
	}
	item := key(campaignPK(t, r.CampaignID), recurrenceSK(r.ID))
	item["doc"] = strAttr(doc)
	return s.putNew(ctx, item, "recurrence "+r.ID)
}

// GetRecurrence implements recurrence.Store.
func (s *Store) GetRecurrence(ctx context.Context, t tenant.Tenant, campaignID, id string) (recurrence.Recurrence, error) {
	var r recurrence.Recurrence
	item, err := s.get(ctx, campaignPK(t, campaignID), recurrenceSK(id), fmt.Sprintf("recurrence %q", id))
	if err != nil {
		return r, err
	}
	return decodeRecurrence(item)
}

// decodeRecurrence reads a recurrence item: its document, and its last
// firing (attributes of their own, so a firing updates them alone).
func decodeRecurrence(item map[string]types.AttributeValue) (recurrence.Recurrence, error) {
	var r recurrence.Recurrence
	if err := decodeDoc(str(item, "doc"), &r); err != nil {
		return r, fmt.Errorf("decode recurrence: %w", err)
	}
	if n, ok := item["lastAt"].(*types.AttributeValueMemberN); ok {
		ns, err := strconv.ParseInt(n.Value, 10, 64)
		if err != nil {
			return r, fmt.Errorf("decode recurrence: lastAt: %w", err)
		}
		r.LastFiring = &recurrence.Firing{ScheduledAt: time.Unix(0, ns).UTC(), ExecutionID: str(item, "lastExecutionId")}
	}
	return r, nil
}

// RecordFiring implements recurrence.Store: one conditional
// update, so a late or repeated firing never replaces a later one.
func (s *Store) RecordFiring(ctx context.Context, t tenant.Tenant, campaignID, id string, f recurrence.Firing) error {
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(campaignPK(t, campaignID), recurrenceSK(id)),
		UpdateExpression:    aws.String("SET lastAt = :at, lastExecutionId = :ex"),
		ConditionExpression: aws.String("attribute_exists(pk) AND (attribute_not_exists(lastAt) OR lastAt < :at)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":at": numAttr(f.ScheduledAt.UnixNano()),
			":ex": strAttr(f.ExecutionID)},
	})
	if isConditionFailed(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("record firing of recurrence %s: %w", id, err)
	}
	return nil
}

// ListRecurrences implements recurrence.Store.
func (s *Store) ListRecurrences(ctx context.Context, t tenant.Tenant, campaignID string) ([]recurrence.Recurrence, error) {
	var out []recurrence.Recurrence
	err := s.queryAll(ctx, campaignPK(t, campaignID), "REC#", func(item map[string]types.AttributeValue) error {
		r, err := decodeRecurrence(item)
		if err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	return out, err
}

// DeleteRecurrence implements recurrence.Store.
func (s *Store) DeleteRecurrence(ctx context.Context, t tenant.Tenant, campaignID, id string) error {
	_, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.table), Key: key(campaignPK(t, campaignID), recurrenceSK(id)),
		ConditionExpression: aws.String("attribute_exists(pk)"),
	})
	if isConditionFailed(err) {
		return derrors.New(derrors.NotFound, "recurrence %q not found", id)
	}
	return err
}
