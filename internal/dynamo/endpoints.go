package dynamo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/tenant"
)

var _ delivery.EndpointOwners = (*Store)(nil)

// endpointOwnerItem is an endpoint owner (sk EP): the device a platform
// endpoint Herald made belongs to. Its pk is not tenant-prefixed: an SNS
// endpoint event names the endpoint and nothing else.
type endpointOwnerItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	Org       string `dynamodbav:"org"`
	Sandbox   string `dynamodbav:"sandbox"`
	Namespace string `dynamodbav:"namespace"`
	ProfileID string `dynamodbav:"profileId"`
	Device    string `dynamodbav:"device"`
}

const skEndpoint = "EP"

// endpointPK is the pk of an endpoint's owner: a digest of its ARN, of a
// fixed length whatever the ARN.
func endpointPK(arn string) string {
	sum := sha256.Sum256([]byte(arn))
	return "EP#" + hex.EncodeToString(sum[:])
}

// PutEndpointOwner implements delivery.EndpointOwners: a plain put, as a
// token's endpoint made again replaces its owner.
func (s *Store) PutEndpointOwner(ctx context.Context, endpointARN string, o delivery.EndpointOwner) error {
	item, err := attributevalue.MarshalMap(endpointOwnerItem{PK: endpointPK(endpointARN), SK: skEndpoint, Org: o.Tenant.Org,
		Sandbox: o.Tenant.Sandbox, Namespace: o.Namespace, ProfileID: o.ProfileID, Device: o.Device})
	if err != nil {
		return fmt.Errorf("encode endpoint owner: %w", err)
	}
	if _, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return fmt.Errorf("put endpoint owner: %w", err)
	}
	return nil
}

// EndpointOwner returns the owner of endpointARN, or derrors.NotFound.
func (s *Store) EndpointOwner(ctx context.Context, endpointARN string) (delivery.EndpointOwner, error) {
	item, err := s.get(ctx, endpointPK(endpointARN), skEndpoint, "endpoint owner")
	if err != nil {
		return delivery.EndpointOwner{}, err
	}
	var r endpointOwnerItem
	if err := attributevalue.UnmarshalMap(item, &r); err != nil {
		return delivery.EndpointOwner{}, fmt.Errorf("decode endpoint owner: %w", err)
	}
	return delivery.EndpointOwner{Tenant: tenant.Tenant{Org: r.Org, Sandbox: r.Sandbox}, Namespace: r.Namespace,
		ProfileID: r.ProfileID, Device: r.Device}, nil
}

// deleteEndpointOwners deletes the owner items of p's endpoints that still
// name p (an endpoint made again for the same token under another profile
// is that profile's now). It runs before the profile is erased: a failure
// leaves the profile for the erasure to be retried, never an owner naming
// a profile that is gone.
func (s *Store) deleteEndpointOwners(ctx context.Context, t tenant.Tenant, p profile.Profile) error {
	mine, err := expression.NewBuilder().WithCondition(expression.And(
		expression.Name("org").Equal(expression.Value(t.Org)),
		expression.Name("sandbox").Equal(expression.Value(t.Sandbox)),
		expression.Name("namespace").Equal(expression.Value(p.Namespace)),
		expression.Name("profileId").Equal(expression.Value(p.ID)))).Build()
	if err != nil {
		return err
	}
	for _, d := range p.Devices {
		if d.EndpointARN == "" {
			continue
		}
		_, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: key(endpointPK(d.EndpointARN), skEndpoint),
			ConditionExpression: mine.Condition(), ExpressionAttributeNames: mine.Names(), ExpressionAttributeValues: mine.Values()})
		if err != nil && !isConditionFailed(err) {
			return fmt.Errorf("delete endpoint owner: %w", err)
		}
	}
	return nil
}
