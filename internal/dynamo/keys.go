package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/tenant"
)

var _ auth.KeyStore = (*Store)(nil)

type keyItem struct {
	PK        string    `dynamodbav:"pk"`
	SK        string    `dynamodbav:"sk"`
	KeyID     string    `dynamodbav:"keyId"`
	Org       string    `dynamodbav:"org"`
	Sandbox   string    `dynamodbav:"sandbox"`
	Scopes    []string  `dynamodbav:"scopes"`
	CreatedAt time.Time `dynamodbav:"createdAt"`
}

// GetKey implements auth.KeyStore.
func (s *Store) GetKey(ctx context.Context, hash string) (auth.Key, error) {
	item, err := s.get(ctx, "KEY#"+hash, "KEY", "api key")
	if err != nil {
		return auth.Key{}, err
	}
	var ki keyItem
	if err := attributevalue.UnmarshalMap(item, &ki); err != nil {
		return auth.Key{}, fmt.Errorf("decode api key: %w", err)
	}
	k := auth.Key{ID: ki.KeyID, Tenant: tenant.Tenant{Org: ki.Org, Sandbox: ki.Sandbox}, CreatedAt: ki.CreatedAt}
	for _, sc := range ki.Scopes {
		k.Scopes = append(k.Scopes, auth.Scope(sc))
	}
	return k, nil
}

// PutKey implements auth.KeyStore.
func (s *Store) PutKey(ctx context.Context, hash string, k auth.Key) error {
	ki := keyItem{PK: "KEY#" + hash, SK: "KEY", KeyID: k.ID, Org: k.Tenant.Org, Sandbox: k.Tenant.Sandbox, CreatedAt: k.CreatedAt}
	for _, sc := range k.Scopes {
		ki.Scopes = append(ki.Scopes, string(sc))
	}
	item, err := attributevalue.MarshalMap(ki)
	if err != nil {
		return fmt.Errorf("encode api key: %w", err)
	}
	return s.putNew(ctx, item, "api key")
}
