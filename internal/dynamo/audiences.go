package dynamo

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/heraldhq/herald/internal/audience"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/tenant"
)

var _ audience.Store = (*Store)(nil)

// Audience keys: the headers of a tenant's audiences share one partition
// (so GET /audiences is a Query); each audience's members have a partition
// of their own, sorted by identity, so fan-out reads them in Query pages.
func audiencesPK(t tenant.Tenant) string          { return "T#" + t.Key() + "#AUDS" }
func audienceSK(id string) string                 { return "AUD#" + id }
func membersPK(t tenant.Tenant, id string) string { return tenantPK(t, "AUD", id) }
func memberSK(m audience.Member) string           { return "M#" + m.Namespace + "#" + m.ID }

const attrMemberCount = "memberCount"

// CreateAudience implements audience.Store.
func (s *Store) CreateAudience(ctx context.Context, t tenant.Tenant, a audience.Audience) error {
	item, err := aggregate(audiencesPK(t), audienceSK(a.ID), a)
	if err != nil {
		return err
	}
	return s.putNew(ctx, item, "audience "+a.ID)
}

// GetAudience implements audience.Store.
func (s *Store) GetAudience(ctx context.Context, t tenant.Tenant, id string) (audience.Audience, error) {
	var a audience.Audience
	item, err := s.get(ctx, audiencesPK(t), audienceSK(id), fmt.Sprintf("audience %q", id))
	if err != nil {
		return a, err
	}
	return a, decodeAggregate(item, &a)
}

// ListAudiences implements audience.Store.
func (s *Store) ListAudiences(ctx context.Context, t tenant.Tenant, cursor string, limit int) ([]audience.Audience, string, error) {
	items, next, err := s.queryPage(ctx, audiencesPK(t), "AUD#", cursor, limit, false)
	if err != nil {
		return nil, "", fmt.Errorf("list audiences: %w", err)
	}
	out := make([]audience.Audience, 0, len(items))
	for _, item := range items {
		var a audience.Audience
		if err := decodeAggregate(item, &a); err != nil {
			return nil, "", fmt.Errorf("decode audience: %w", err)
		}
		out = append(out, a)
	}
	return out, next, nil
}

// DeleteAudience implements audience.Store: the header goes first (so the
// audience is gone at once), then its members in BatchWrite chunks.
func (s *Store) DeleteAudience(ctx context.Context, t tenant.Tenant, id string) error {
	_, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.table), Key: key(audiencesPK(t), audienceSK(id)),
		ConditionExpression: aws.String("attribute_exists(pk)"),
	})
	if isConditionFailed(err) {
		return derrors.New(derrors.NotFound, "audience %q not found", id)
	}
	if err != nil {
		return fmt.Errorf("delete audience: %w", err)
	}
	cursor := ""
	for {
		items, next, err := s.queryPage(ctx, membersPK(t, id), "M#", cursor, 1000, true)
		if err != nil {
			return fmt.Errorf("delete audience members: %w", err)
		}
		reqs := make([]types.WriteRequest, len(items))
		for i, item := range items {
			reqs[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key(str(item, attrPK), str(item, attrSK))}}
		}
		if err := s.batchWrite(ctx, reqs); err != nil {
			return fmt.Errorf("delete audience members: %w", err)
		}
		if next == "" {
			return nil
		}
		cursor = next
	}
}

// AddMembers implements audience.Store. It reads which members exist
// (BatchGet), writes the new ones (BatchWrite) and adds their number to
// the header's count. Two concurrent calls adding the same new member may
// both count it; the count is exact for calls that do not overlap.
func (s *Store) AddMembers(ctx context.Context, t tenant.Tenant, id string, ms []audience.Member) (int, error) {
	return s.changeMembers(ctx, t, id, ms, true)
}

// RemoveMembers implements audience.Store.
func (s *Store) RemoveMembers(ctx context.Context, t tenant.Tenant, id string, ms []audience.Member) (int, error) {
	return s.changeMembers(ctx, t, id, ms, false)
}

func (s *Store) changeMembers(ctx context.Context, t tenant.Tenant, id string, ms []audience.Member, add bool) (int, error) {
	if _, err := s.GetAudience(ctx, t, id); err != nil {
		return 0, err
	}
	pk := membersPK(t, id)
	keys := make([]map[string]types.AttributeValue, len(ms))
	for i, m := range ms {
		keys[i] = key(pk, memberSK(m))
	}
	found, err := s.batchGet(ctx, keys)
	if err != nil {
		return 0, fmt.Errorf("read members: %w", err)
	}
	exists := make(map[string]bool, len(found))
	for _, item := range found {
		exists[str(item, attrSK)] = true
	}
	now := time.Now().UTC().Format(time.RFC3339)
	var reqs []types.WriteRequest
	for _, m := range ms {
		sk := memberSK(m)
		switch {
		case add && !exists[sk]:
			item := key(pk, sk)
			item["addedAt"] = &types.AttributeValueMemberS{Value: now}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		case !add && exists[sk]:
			reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key(pk, sk)}})
		}
	}
	if len(reqs) == 0 {
		return 0, nil
	}
	if err := s.batchWrite(ctx, reqs); err != nil {
		return 0, fmt.Errorf("write members: %w", err)
	}
	delta := len(reqs)
	if !add {
		delta = -delta
	}
	upd, err := expression.NewBuilder().
		WithUpdate(expression.Add(expression.Name(attrMemberCount), expression.Value(delta)).
			Set(expression.Name("updatedAt"), expression.Value(time.Now().UTC().Format(time.RFC3339Nano)))).
		WithCondition(expression.AttributeExists(expression.Name(attrPK))).Build()
	if err != nil {
		return 0, err
	}
	_, err = s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(audiencesPK(t), audienceSK(id)),
		UpdateExpression: upd.Update(), ConditionExpression: upd.Condition(),
		ExpressionAttributeNames: upd.Names(), ExpressionAttributeValues: upd.Values(),
	})
	if isConditionFailed(err) {
		return 0, derrors.New(derrors.NotFound, "audience %q was deleted", id)
	}
	if err != nil {
		return 0, fmt.Errorf("count members: %w", err)
	}
	return len(reqs), nil
}

// Members implements audience.Store: one Query page on the audience's
// partition, after the cursor's sort key.
func (s *Store) Members(ctx context.Context, t tenant.Tenant, id, cursor string, limit int) (audience.Page, error) {
	items, next, err := s.queryPage(ctx, membersPK(t, id), "M#", cursor, limit, true)
	if err != nil {
		return audience.Page{}, fmt.Errorf("read members: %w", err)
	}
	p := audience.Page{Members: make([]audience.Member, 0, len(items)), Next: next}
	for _, item := range items {
		ns, uid, ok := strings.Cut(strings.TrimPrefix(str(item, attrSK), "M#"), "#")
		if !ok {
			return audience.Page{}, fmt.Errorf("read members: malformed member key")
		}
		p.Members = append(p.Members, audience.Member{Namespace: ns, ID: uid})
	}
	return p, nil
}

// queryPage reads up to limit items of partition pk whose sort key begins
// with prefix, after the cursor (an opaque encoding of the last sort key
// read). It follows DynamoDB's own pages until limit items are read or the
// partition ends, and returns the cursor to continue from ("" at the end).
func (s *Store) queryPage(ctx context.Context, pk, prefix, cursor string, limit int, keysOnly bool) ([]map[string]types.AttributeValue, string, error) {
	var start map[string]types.AttributeValue
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || !strings.HasPrefix(string(b), prefix) || !keyFits(pk, string(b)) {
			return nil, "", derrors.Validation(derrors.FieldError{Field: "cursor", Message: "is not a cursor this API returned"})
		}
		start = key(pk, string(b))
	}
	b := expression.NewBuilder().WithKeyCondition(expression.KeyAnd(
		expression.Key(attrPK).Equal(expression.Value(pk)),
		expression.Key(attrSK).BeginsWith(prefix),
	))
	if keysOnly {
		b = b.WithProjection(expression.NamesList(expression.Name(attrPK), expression.Name(attrSK)))
	}
	kc, err := b.Build()
	if err != nil {
		return nil, "", err
	}
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table), KeyConditionExpression: kc.KeyCondition(), ProjectionExpression: kc.Projection(),
		ExpressionAttributeNames: kc.Names(), ExpressionAttributeValues: kc.Values(),
		ConsistentRead: aws.Bool(true), ExclusiveStartKey: start,
	}
	var items []map[string]types.AttributeValue
	for len(items) < limit {
		in.Limit = aws.Int32(int32(limit - len(items)))
		out, err := s.api.Query(ctx, in)
		if err != nil {
			return nil, "", err
		}
		items = append(items, out.Items...)
		if len(out.LastEvaluatedKey) == 0 {
			return items, "", nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	return items, base64.RawURLEncoding.EncodeToString([]byte(str(items[len(items)-1], attrSK))), nil
}
