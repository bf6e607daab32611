package dynamo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/capping"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/erasure"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/tenant"
)

var _ capping.Store = (*Store)(nil)

// Frequency cap items: a tenant's rule set, T#<tk>#CAPS / RULES (rules,
// updatedAt); and a counter per profile and channel,
// T#<tk>#CAP#<channel>#<digest of namespace and userId> / CAP (slots: a
// map of ledger tag → Unix milliseconds; rev; expiresAt, the TTL), each
// its own partition key, so a profile's writes contend with that
// profile's only. The identity is a digest: the item holds no address.
const (
	kindCaps     = "CAPS"
	kindCap      = "CAP"
	skCapRules   = "RULES"
	skCapCounter = "CAP"
	capRevAttr   = "rev"
)

type capRuleRecord struct {
	Channel string `dynamodbav:"channel"`
	Limit   int    `dynamodbav:"limit"`
	Window  string `dynamodbav:"window"`
}

type capRulesItem struct {
	PK        string          `dynamodbav:"pk"`
	SK        string          `dynamodbav:"sk"`
	Rules     []capRuleRecord `dynamodbav:"rules"`
	UpdatedAt time.Time       `dynamodbav:"updatedAt"`
}

type capCounterItem struct {
	PK        string           `dynamodbav:"pk"`
	SK        string           `dynamodbav:"sk"`
	Slots     map[string]int64 `dynamodbav:"slots"`
	Rev       int              `dynamodbav:"rev"`
	ExpiresAt int64            `dynamodbav:"expiresAt,omitempty"`
}

func capRulesPK(t tenant.Tenant) string { return "T#" + t.Key() + "#" + kindCaps }

// capCounterPK names a profile's counter on a channel by a digest of its
// identity.
func capCounterPK(t tenant.Tenant, k capping.Key) string {
	sum := sha256.Sum256([]byte(k.Namespace + "\x00" + k.UserID))
	return tenantPK(t, kindCap, string(k.Channel)+"#"+hex.EncodeToString(sum[:16]))
}

// FrequencyCaps implements capping.Store: one GetItem.
func (s *Store) FrequencyCaps(ctx context.Context, t tenant.Tenant) (capping.RuleSet, error) {
	item, err := s.get(ctx, capRulesPK(t), skCapRules, "frequency caps")
	if derrors.Is(err, derrors.NotFound) {
		return capping.RuleSet{}, nil
	}
	if err != nil {
		return capping.RuleSet{}, err
	}
	var it capRulesItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return capping.RuleSet{}, fmt.Errorf("decode frequency caps: %w", err)
	}
	rs := capping.RuleSet{UpdatedAt: it.UpdatedAt, Rules: make([]capping.Rule, 0, len(it.Rules))}
	for _, r := range it.Rules {
		rs.Rules = append(rs.Rules, capping.Rule{Channel: campaign.Channel(r.Channel), Limit: r.Limit, Window: capping.Window(r.Window)})
	}
	return rs, nil
}

// PutFrequencyCaps implements capping.Store: a PutItem, or a DeleteItem
// for no rules.
func (s *Store) PutFrequencyCaps(ctx context.Context, t tenant.Tenant, rs capping.RuleSet) error {
	if err := rs.Validate(); err != nil {
		return err
	}
	if len(rs.Rules) == 0 {
		if _, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: key(capRulesPK(t), skCapRules)}); err != nil {
			return fmt.Errorf("delete frequency caps: %w", err)
		}
		return nil
	}
	it := capRulesItem{PK: capRulesPK(t), SK: skCapRules, UpdatedAt: rs.UpdatedAt.UTC()}
	for _, r := range rs.Rules {
		it.Rules = append(it.Rules, capRuleRecord{Channel: string(r.Channel), Limit: r.Limit, Window: string(r.Window)})
	}
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return fmt.Errorf("encode frequency caps: %w", err)
	}
	if _, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return fmt.Errorf("put frequency caps: %w", err)
	}
	return nil
}

// CapCounter implements capping.Store: one consistent GetItem.
func (s *Store) CapCounter(ctx context.Context, t tenant.Tenant, k capping.Key) (capping.Counter, error) {
	item, err := s.get(ctx, capCounterPK(t, k), skCapCounter, "frequency cap counter")
	if derrors.Is(err, derrors.NotFound) {
		return capping.Counter{}, nil
	}
	if err != nil {
		return capping.Counter{}, err
	}
	var it capCounterItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return capping.Counter{}, fmt.Errorf("decode frequency cap counter: %w", err)
	}
	c := capping.Counter{Rev: it.Rev}
	if it.ExpiresAt > 0 {
		c.ExpiresAt = time.Unix(it.ExpiresAt, 0).UTC()
	}
	for tag, ms := range it.Slots {
		c.Slots = append(c.Slots, capping.Slot{Tag: tag, At: time.UnixMilli(ms).UTC()})
	}
	return c, nil
}

// PutCapCounter implements capping.Store: one PutItem conditioned on the
// revision read (CapCounterPut), the only write a counted message costs.
func (s *Store) PutCapCounter(ctx context.Context, t tenant.Tenant, k capping.Key, c capping.Counter) error {
	p, err := s.CapCounterPut(t, k, c)
	if err != nil {
		return err
	}
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: p.TableName, Item: p.Item,
		ConditionExpression: p.ConditionExpression, ExpressionAttributeNames: p.ExpressionAttributeNames,
		ExpressionAttributeValues: p.ExpressionAttributeValues})
	switch {
	case isConditionFailed(err):
		return derrors.New(derrors.Conflict, "frequency cap counter changed since it was read")
	case err != nil:
		return fmt.Errorf("put frequency cap counter: %w", err)
	}
	return nil
}

// CapCounterPut is the write of counter c as revision c.Rev+1, conditioned
// on the stored revision being c.Rev (no item for 0): PutCapCounter sends
// it alone, and it is written so that it can be one item of a
// TransactWriteItems (the claim's, say), whose cancellation reason for it
// is then ConditionalCheckFailed when another writer got there first.
func (s *Store) CapCounterPut(t tenant.Tenant, k capping.Key, c capping.Counter) (*types.Put, error) {
	it := capCounterItem{PK: capCounterPK(t, k), SK: skCapCounter, Rev: c.Rev + 1, Slots: make(map[string]int64, len(c.Slots))}
	if !c.ExpiresAt.IsZero() {
		it.ExpiresAt = c.ExpiresAt.Unix()
	}
	for _, sl := range c.Slots {
		it.Slots[sl.Tag] = sl.At.UnixMilli()
	}
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return nil, fmt.Errorf("encode frequency cap counter: %w", err)
	}
	cond := expression.Name("pk").AttributeNotExists()
	if c.Rev > 0 {
		cond = expression.Name(capRevAttr).Equal(expression.Value(c.Rev))
	}
	e, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return nil, err
	}
	return &types.Put{TableName: aws.String(s.table), Item: item, ConditionExpression: e.Condition(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values()}, nil
}

// eraseCapCounters deletes the frequency cap counters of ids on every
// channel: a DeleteItem each, the key computed from the identity.
func (s *Store) eraseCapCounters(ctx context.Context, t tenant.Tenant, ids []profile.Identity, r *erasure.Result) error {
	for _, id := range ids {
		for _, ch := range []campaign.Channel{campaign.Email, campaign.SMS, campaign.Push} {
			pk := capCounterPK(t, capping.Key{Channel: ch, Namespace: id.Namespace, UserID: id.ID})
			if err := s.eraseItem(ctx, pk, skCapCounter, erasure.FrequencyCapCounters, r); err != nil {
				return err
			}
		}
	}
	return nil
}
