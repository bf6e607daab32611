package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/tenant"
)

var _ profile.Store = (*Store)(nil)

const skProfile = "PROF"

func profilePK(t tenant.Tenant, id profile.Identity) string {
	return tenantPK(t, skProfile, id.Namespace+"#"+id.ID)
}

// Put implements profile.Store.
func (s *Store) Put(ctx context.Context, t tenant.Tenant, p profile.Profile) error {
	item, err := aggregate(profilePK(t, p.Identity()), skProfile, p)
	if err != nil {
		return err
	}
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item})
	if err != nil {
		return fmt.Errorf("put profile: %w", err)
	}
	return nil
}

// Get implements profile.Store.
func (s *Store) Get(ctx context.Context, t tenant.Tenant, id profile.Identity) (profile.Profile, error) {
	var p profile.Profile
	item, err := s.get(ctx, profilePK(t, id), skProfile, "profile")
	if err != nil {
		return p, err
	}
	return p, decodeAggregate(item, &p)
}

// BatchGet implements profile.Store.
func (s *Store) BatchGet(ctx context.Context, t tenant.Tenant, ids []profile.Identity) (map[profile.Identity]profile.Profile, error) {
	keys := make([]map[string]types.AttributeValue, 0, len(ids))
	seen := make(map[profile.Identity]bool, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			keys = append(keys, key(profilePK(t, id), skProfile))
		}
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("get profiles: %w", err)
	}
	out := make(map[profile.Identity]profile.Profile, len(items))
	for _, item := range items {
		var p profile.Profile
		if err := decodeAggregate(item, &p); err != nil {
			return nil, fmt.Errorf("decode profile: %w", err)
		}
		out[p.Identity()] = p
	}
	return out, nil
}

// CreateIfAbsent implements profile.Store.
func (s *Store) CreateIfAbsent(ctx context.Context, t tenant.Tenant, p profile.Profile) error {
	item, err := aggregate(profilePK(t, p.Identity()), skProfile, p)
	if err != nil {
		return err
	}
	if err := s.putNew(ctx, item, "profile"); err != nil && !derrors.Is(err, derrors.Conflict) {
		return fmt.Errorf("create profile: %w", err)
	}
	return nil
}
