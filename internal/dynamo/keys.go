package dynamo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/tenant"
)

var _ auth.KeyStore = (*Store)(nil)

// A key is two items: one found by the hash of its secret (pk KEY#<hash>,
// sk KEY), which authenticating a secret reads, and one found by its id
// (pk KEYS, sk <id>), which verifying an access token reads and which
// lists keys; the id item holds the hash, so rotating and revoking find
// the secret's item. Both are written and removed together.
const keysPK = "KEYS"

type keyItem struct {
	PK        string    `dynamodbav:"pk"`
	SK        string    `dynamodbav:"sk"`
	KeyID     string    `dynamodbav:"keyId"`
	Org       string    `dynamodbav:"org"`
	Sandbox   string    `dynamodbav:"sandbox"`
	Scopes    []string  `dynamodbav:"scopes"`
	CreatedAt time.Time `dynamodbav:"createdAt"`
	// Hash is set on the id item only.
	Hash string `dynamodbav:"hash,omitempty"`
}

func (ki keyItem) key() auth.Key {
	k := auth.Key{ID: ki.KeyID, Tenant: tenant.Tenant{Org: ki.Org, Sandbox: ki.Sandbox}, CreatedAt: ki.CreatedAt}
	for _, sc := range ki.Scopes {
		k.Scopes = append(k.Scopes, auth.Scope(sc))
	}
	return k
}

func newKeyItem(pk, sk string, k auth.Key) keyItem {
	ki := keyItem{PK: pk, SK: sk, KeyID: k.ID, Org: k.Tenant.Org, Sandbox: k.Tenant.Sandbox, CreatedAt: k.CreatedAt}
	for _, sc := range k.Scopes {
		ki.Scopes = append(ki.Scopes, string(sc))
	}
	return ki
}

func (s *Store) readKey(ctx context.Context, pk, sk string) (keyItem, error) {
	item, err := s.get(ctx, pk, sk, "api key")
	if err != nil {
		return keyItem{}, err
	}
	var ki keyItem
	if err := attributevalue.UnmarshalMap(item, &ki); err != nil {
		return keyItem{}, fmt.Errorf("decode api key: %w", err)
	}
	return ki, nil
}

// GetKey implements auth.KeyStore.
func (s *Store) GetKey(ctx context.Context, hash string) (auth.Key, error) {
	ki, err := s.readKey(ctx, "KEY#"+hash, "KEY")
	if err != nil {
		return auth.Key{}, err
	}
	return ki.key(), nil
}

// GetKeyByID implements auth.KeyStore.
func (s *Store) GetKeyByID(ctx context.Context, id string) (auth.Key, error) {
	ki, err := s.readKey(ctx, keysPK, id)
	if err != nil {
		return auth.Key{}, err
	}
	return ki.key(), nil
}

// putNewKeyItem is a transaction's Put of ki, unless an item has its key.
func (s *Store) putNewKeyItem(ki keyItem) (types.TransactWriteItem, error) {
	item, err := attributevalue.MarshalMap(ki)
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("encode api key: %w", err)
	}
	return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: item,
		ConditionExpression: aws.String("attribute_not_exists(pk)")}}, nil
}

// PutKey implements auth.KeyStore.
func (s *Store) PutKey(ctx context.Context, hash string, k auth.Key) error {
	byHash, err := s.putNewKeyItem(newKeyItem("KEY#"+hash, "KEY", k))
	if err != nil {
		return err
	}
	idItem := newKeyItem(keysPK, k.ID, k)
	idItem.Hash = hash
	byID, err := s.putNewKeyItem(idItem)
	if err != nil {
		return err
	}
	_, err = s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{byHash, byID}})
	if isTxConditionFailed(err) {
		return derrors.New(derrors.Conflict, "api key already exists")
	}
	if err != nil {
		return fmt.Errorf("put api key: %w", err)
	}
	return nil
}

// ListKeys implements auth.KeyStore.
func (s *Store) ListKeys(ctx context.Context) ([]auth.Key, error) {
	var out []auth.Key
	in := &dynamodb.QueryInput{TableName: aws.String(s.table), KeyConditionExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: keysPK}},
		ConsistentRead:            aws.Bool(true)}
	for {
		page, err := s.api.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list api keys: %w", err)
		}
		for _, item := range page.Items {
			var ki keyItem
			if err := attributevalue.UnmarshalMap(item, &ki); err != nil {
				return nil, fmt.Errorf("decode api key: %w", err)
			}
			out = append(out, ki.key())
		}
		if page.LastEvaluatedKey == nil {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// keyChanged is the error of a rotation or revocation that lost a race
// with another one.
func keyChanged() error {
	return derrors.New(derrors.Conflict, "the api key changed meanwhile; try again")
}

// RotateKey implements auth.KeyStore: one transaction removes the old
// secret's item (still this key's), adds the new one and points the id
// item at it, conditioned on the id item still naming the old hash.
func (s *Store) RotateKey(ctx context.Context, id, newHash string) error {
	cur, err := s.readKey(ctx, keysPK, id)
	if err != nil {
		return err
	}
	k := cur.key()
	byHash, err := s.putNewKeyItem(newKeyItem("KEY#"+newHash, "KEY", k))
	if err != nil {
		return err
	}
	vals := map[string]types.AttributeValue{":id": &types.AttributeValueMemberS{Value: id},
		":old": &types.AttributeValueMemberS{Value: cur.Hash}, ":new": &types.AttributeValueMemberS{Value: newHash}}
	_, err = s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: aws.String(s.table), Key: key("KEY#"+cur.Hash, "KEY"),
			ConditionExpression:       aws.String("keyId = :id"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":id": vals[":id"]}}},
		byHash,
		{Update: &types.Update{TableName: aws.String(s.table), Key: key(keysPK, id),
			UpdateExpression:          aws.String("SET #h = :new"),
			ConditionExpression:       aws.String("#h = :old"),
			ExpressionAttributeNames:  map[string]string{"#h": "hash"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":old": vals[":old"], ":new": vals[":new"]}}},
	}})
	if isTxConditionFailed(err) {
		return keyChanged()
	}
	if err != nil {
		return fmt.Errorf("rotate api key: %w", err)
	}
	return nil
}

// RevokeKey implements auth.KeyStore: both items go in one transaction.
func (s *Store) RevokeKey(ctx context.Context, id string) error {
	cur, err := s.readKey(ctx, keysPK, id)
	if err != nil {
		return err
	}
	_, err = s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: aws.String(s.table), Key: key("KEY#"+cur.Hash, "KEY")}},
		{Delete: &types.Delete{TableName: aws.String(s.table), Key: key(keysPK, id),
			ConditionExpression:       aws.String("#h = :h"),
			ExpressionAttributeNames:  map[string]string{"#h": "hash"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":h": &types.AttributeValueMemberS{Value: cur.Hash}}}},
	}})
	if isTxConditionFailed(err) {
		return keyChanged()
	}
	if err != nil {
		return fmt.Errorf("revoke api key: %w", err)
	}
	return nil
}

// IndexKeys writes the id item of every key stored before keys had one
// (tables of releases before access tokens), so that they can be listed,
// rotated, revoked and issued tokens. It scans the table: an
// administrative step (herald-key index), run once after upgrading.
// It returns how many keys it indexed.
func (s *Store) IndexKeys(ctx context.Context) (int, error) {
	n := 0
	in := &dynamodb.ScanInput{TableName: aws.String(s.table),
		FilterExpression:          aws.String("begins_with(pk, :p) AND sk = :sk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: "KEY#"}, ":sk": &types.AttributeValueMemberS{Value: "KEY"}}}
	for {
		page, err := s.api.Scan(ctx, in)
		if err != nil {
			return n, fmt.Errorf("scan api keys: %w", err)
		}
		for _, item := range page.Items {
			var ki keyItem
			if err := attributevalue.UnmarshalMap(item, &ki); err != nil {
				return n, fmt.Errorf("decode api key: %w", err)
			}
			idItem := newKeyItem(keysPK, ki.KeyID, ki.key())
			idItem.Hash = strings.TrimPrefix(ki.PK, "KEY#")
			av, err := attributevalue.MarshalMap(idItem)
			if err != nil {
				return n, fmt.Errorf("encode api key: %w", err)
			}
			err = s.putNew(ctx, av, "api key")
			if derrors.Is(err, derrors.Conflict) {
				continue
			}
			if err != nil {
				return n, err
			}
			n++
		}
		if page.LastEvaluatedKey == nil {
			return n, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}
