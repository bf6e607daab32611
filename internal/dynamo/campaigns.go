package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/tenant"
)

var _ campaign.Store = (*Store)(nil)

const (
	skConfig   = "CHCFG"
	skCampaign = "CAMP"
)

func versionSK(n int) string { return fmt.Sprintf("V#%06d", n) }

// CreateConfig implements campaign.Store.
func (s *Store) CreateConfig(ctx context.Context, t tenant.Tenant, c campaign.ChannelConfig) error {
	item, err := aggregate(tenantPK(t, skConfig, c.ID), skConfig, c)
	if err != nil {
		return err
	}
	return s.putNew(ctx, item, "channel configuration "+c.ID)
}

// GetConfig implements campaign.Store.
func (s *Store) GetConfig(ctx context.Context, t tenant.Tenant, id string) (campaign.ChannelConfig, error) {
	var c campaign.ChannelConfig
	item, err := s.get(ctx, tenantPK(t, skConfig, id), skConfig, fmt.Sprintf("channel configuration %q", id))
	if err != nil {
		return c, err
	}
	return c, decodeAggregate(item, &c)
}

// CreateCampaign implements campaign.Store.
func (s *Store) CreateCampaign(ctx context.Context, t tenant.Tenant, c campaign.Campaign) error {
	item, err := aggregate(tenantPK(t, skCampaign, c.ID), skCampaign, c)
	if err != nil {
		return err
	}
	return s.putNew(ctx, item, "campaign "+c.ID)
}

// GetCampaign implements campaign.Store.
func (s *Store) GetCampaign(ctx context.Context, t tenant.Tenant, id string) (campaign.Campaign, error) {
	var c campaign.Campaign
	item, err := s.get(ctx, tenantPK(t, skCampaign, id), skCampaign, fmt.Sprintf("campaign %q", id))
	if err != nil {
		return c, err
	}
	return c, decodeAggregate(item, &c)
}

// Activate implements campaign.Store: the version is created (never
// overwritten) and the campaign replaced only if its revision is still
// prevRevision, in one transaction.
func (s *Store) Activate(ctx context.Context, t tenant.Tenant, c campaign.Campaign, v campaign.Version, prevRevision int) error {
	pk := tenantPK(t, skCampaign, c.ID)
	citem, err := aggregate(pk, skCampaign, c)
	if err != nil {
		return err
	}
	vitem, err := aggregate(pk, versionSK(v.Number), v)
	if err != nil {
		return err
	}
	cond, err := expression.NewBuilder().WithCondition(
		expression.Name("revision").Equal(expression.Value(prevRevision))).Build()
	if err != nil {
		return err
	}
	_, err = s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.table), Item: vitem, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: citem, ConditionExpression: cond.Condition(),
			ExpressionAttributeNames: cond.Names(), ExpressionAttributeValues: cond.Values()}},
	}})
	if isTxConditionFailed(err) {
		return derrors.New(derrors.Precondition, "campaign %s changed while it was being activated; read it and try again", c.ID)
	}
	return err
}

// GetVersion implements campaign.Store.
func (s *Store) GetVersion(ctx context.Context, t tenant.Tenant, campaignID string, number int) (campaign.Version, error) {
	var v campaign.Version
	item, err := s.get(ctx, tenantPK(t, skCampaign, campaignID), versionSK(number), fmt.Sprintf("campaign %q version %d", campaignID, number))
	if err != nil {
		return v, err
	}
	return v, decodeAggregate(item, &v)
}

// UpdateCampaign implements campaign.Store.
func (s *Store) UpdateCampaign(ctx context.Context, t tenant.Tenant, c campaign.Campaign, prevRevision int) error {
	item, err := aggregate(tenantPK(t, skCampaign, c.ID), skCampaign, c)
	if err != nil {
		return err
	}
	cond, err := expression.NewBuilder().WithCondition(
		expression.Name("revision").Equal(expression.Value(prevRevision))).Build()
	if err != nil {
		return err
	}
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item, ConditionExpression: cond.Condition(),
		ExpressionAttributeNames: cond.Names(), ExpressionAttributeValues: cond.Values(),
	})
	if isConditionFailed(err) {
		if _, gerr := s.GetCampaign(ctx, t, c.ID); derrors.Is(gerr, derrors.NotFound) {
			return gerr
		}
		return derrors.New(derrors.Precondition, "campaign %s was changed by someone else; read it and try again", c.ID)
	}
	return err
}
