package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/tenant"
)

var _ execution.RecurrenceStore = (*Store)(nil)

// Recurrences live in their campaign's partition (sk REC#<id>), their
// context kept as JSON in doc.
func recurrenceSK(id string) string { return "REC#" + id }

// PutRecurrence implements execution.RecurrenceStore.
func (s *Store) PutRecurrence(ctx context.Context, t tenant.Tenant, r execution.Recurrence) error {
	doc, err := encodeDoc(r)
	if err != nil {
		return fmt.Errorf("encode recurrence: %w", err)
	}
	item := key(campaignPK(t, r.CampaignID), recurrenceSK(r.ID))
	item["doc"] = strAttr(doc)
	return s.putNew(ctx, item, "recurrence "+r.ID)
}

// GetRecurrence implements execution.RecurrenceStore.
func (s *Store) GetRecurrence(ctx context.Context, t tenant.Tenant, campaignID, id string) (execution.Recurrence, error) {
	var r execution.Recurrence
	item, err := s.get(ctx, campaignPK(t, campaignID), recurrenceSK(id), fmt.Sprintf("recurrence %q", id))
	if err != nil {
		return r, err
	}
	if err := decodeDoc(str(item, "doc"), &r); err != nil {
		return r, fmt.Errorf("decode recurrence: %w", err)
	}
	return r, nil
}

// ListRecurrences implements execution.RecurrenceStore.
func (s *Store) ListRecurrences(ctx context.Context, t tenant.Tenant, campaignID string) ([]execution.Recurrence, error) {
	var out []execution.Recurrence
	err := s.queryAll(ctx, campaignPK(t, campaignID), "REC#", func(item map[string]types.AttributeValue) error {
		var r execution.Recurrence
		if err := decodeDoc(str(item, "doc"), &r); err != nil {
			return fmt.Errorf("decode recurrence: %w", err)
		}
		out = append(out, r)
		return nil
	})
	return out, err
}

// DeleteRecurrence implements execution.RecurrenceStore.
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
