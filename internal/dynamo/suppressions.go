package dynamo

import (
	"context"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/suppression"
	"github.com/heraldhq/herald/internal/tenant"
)

var (
	_ suppression.Store     = (*Store)(nil)
	_ delivery.Suppressions = (*Store)(nil)
	_ delivery.Devices      = (*Store)(nil)
)

const kindSuppression = "SUPP"

type suppressionItem struct {
	PK        string    `dynamodbav:"pk"`
	SK        string    `dynamodbav:"sk"`
	Channel   string    `dynamodbav:"channel"`
	Address   string    `dynamodbav:"address"`
	Reason    string    `dynamodbav:"reason"`
	CreatedAt time.Time `dynamodbav:"createdAt"`
}

func suppressionPK(t tenant.Tenant) string { return "T#" + t.Key() + "#" + kindSuppression }

func suppressionSK(ch suppression.Channel, addr string) string { return string(ch) + "#" + addr }

func toSuppressionItem(t tenant.Tenant, e suppression.Entry) (map[string]types.AttributeValue, error) {
	item, err := attributevalue.MarshalMap(suppressionItem{PK: suppressionPK(t), SK: suppressionSK(e.Channel, e.Address),
		Channel: string(e.Channel), Address: e.Address, Reason: string(e.Reason), CreatedAt: e.CreatedAt})
	if err != nil {
		return nil, fmt.Errorf("encode suppression: %w", err)
	}
	return item, nil
}

func fromSuppressionItem(item map[string]types.AttributeValue) (suppression.Entry, error) {
	var si suppressionItem
	if err := attributevalue.UnmarshalMap(item, &si); err != nil {
		return suppression.Entry{}, fmt.Errorf("decode suppression: %w", err)
	}
	return suppression.Entry{Channel: suppression.Channel(si.Channel), Address: si.Address, Reason: suppression.Reason(si.Reason), CreatedAt: si.CreatedAt}, nil
}

// PutSuppression implements suppression.Store.
func (s *Store) PutSuppression(ctx context.Context, t tenant.Tenant, e suppression.Entry) error {
	item, err := toSuppressionItem(t, e)
	if err != nil {
		return err
	}
	if _, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return fmt.Errorf("put suppression: %w", err)
	}
	return nil
}

// AddSuppression implements suppression.Store with a conditional put that
// returns the entry that was there.
func (s *Store) AddSuppression(ctx context.Context, t tenant.Tenant, e suppression.Entry) (suppression.Entry, bool, error) {
	item, err := toSuppressionItem(t, e)
	if err != nil {
		return suppression.Entry{}, false, err
	}
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item,
		ConditionExpression:                 aws.String("attribute_not_exists(pk)"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
	if err == nil {
		return e, true, nil
	}
	if !isConditionFailed(err) {
		return suppression.Entry{}, false, fmt.Errorf("add suppression: %w", err)
	}
	if old := conditionItem(err); old != nil {
		existing, err := fromSuppressionItem(old)
		return existing, false, err
	}
	existing, err := s.GetSuppression(ctx, t, e.Channel, e.Address)
	return existing, false, err
}

// GetSuppression implements suppression.Store.
func (s *Store) GetSuppression(ctx context.Context, t tenant.Tenant, ch suppression.Channel, addr string) (suppression.Entry, error) {
	item, err := s.get(ctx, suppressionPK(t), suppressionSK(ch, addr), "suppression")
	if err != nil {
		return suppression.Entry{}, err
	}
	return fromSuppressionItem(item)
}

// GetSuppressions implements delivery.Suppressions: the entries of addrs
// on the tenant's list for ch, read with BatchGetItem (100 keys a call);
// an address not on the list is not in the map.
func (s *Store) GetSuppressions(ctx context.Context, t tenant.Tenant, ch suppression.Channel, addrs []string) (map[string]suppression.Entry, error) {
	pk := suppressionPK(t)
	bySK := make(map[string]string, len(addrs))
	keys := make([]map[string]types.AttributeValue, 0, len(addrs))
	for _, a := range addrs {
		sk := suppressionSK(ch, a)
		if _, dup := bySK[sk]; dup {
			continue // BatchGetItem refuses a key twice
		}
		bySK[sk] = a
		keys = append(keys, key(pk, sk))
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("read suppressions: %w", err)
	}
	out := make(map[string]suppression.Entry, len(items))
	for _, it := range items {
		sk, _ := it[attrSK].(*types.AttributeValueMemberS)
		if sk == nil {
			continue
		}
		e, err := fromSuppressionItem(it)
		if err != nil {
			return nil, err
		}
		out[bySK[sk.Value]] = e
	}
	return out, nil
}

// DeleteSuppression implements suppression.Store.
func (s *Store) DeleteSuppression(ctx context.Context, t tenant.Tenant, ch suppression.Channel, addr string) error {
	_, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table),
		Key: key(suppressionPK(t), suppressionSK(ch, addr)), ConditionExpression: aws.String("attribute_exists(pk)")})
	if isConditionFailed(err) {
		return derrors.New(derrors.NotFound, "suppression not found")
	}
	if err != nil {
		return fmt.Errorf("delete suppression: %w", err)
	}
	return nil
}

// ListSuppressions implements suppression.Store: one Query page on the
// tenant's partition. The cursor is the last sort key, base64url; the
// partition comes from the tenant, so a cursor cannot reach another's.
func (s *Store) ListSuppressions(ctx context.Context, t tenant.Tenant, ch suppression.Channel, limit int, cursor string) (suppression.Page, error) {
	kc := expression.Key(attrPK).Equal(expression.Value(suppressionPK(t)))
	if ch != "" {
		kc = expression.KeyAnd(kc, expression.Key(attrSK).BeginsWith(string(ch)+"#"))
	}
	ex, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return suppression.Page{}, err
	}
	in := &dynamodb.QueryInput{TableName: aws.String(s.table), KeyConditionExpression: ex.KeyCondition(),
		ExpressionAttributeNames: ex.Names(), ExpressionAttributeValues: ex.Values(), Limit: aws.Int32(int32(limit))}
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || ch != "" && !hasPrefix(string(b), string(ch)+"#") || !keyFits(suppressionPK(t), string(b)) {
			return suppression.Page{}, derrors.Validation(derrors.FieldError{Field: "cursor", Message: "is not a cursor this API returned"})
		}
		in.ExclusiveStartKey = key(suppressionPK(t), string(b))
	}
	out, err := s.api.Query(ctx, in)
	if err != nil {
		return suppression.Page{}, fmt.Errorf("list suppressions: %w", err)
	}
	var p suppression.Page
	for _, item := range out.Items {
		e, err := fromSuppressionItem(item)
		if err != nil {
			return suppression.Page{}, err
		}
		p.Items = append(p.Items, e)
	}
	if len(out.LastEvaluatedKey) > 0 {
		p.Next = base64.RawURLEncoding.EncodeToString([]byte(str(out.LastEvaluatedKey, attrSK)))
	}
	return p, nil
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }
