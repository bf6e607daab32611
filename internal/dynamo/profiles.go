package dynamo

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/tenant"
)

var _ profile.Store = (*Store)(nil)

const (
	skProfile = "PROF"
	skAlias   = "ALIAS"
)

// aliasItem points a secondary identity at its profile's primary one.
type aliasItem struct {
	PK               string `dynamodbav:"pk"`
	SK               string `dynamodbav:"sk"`
	PrimaryNamespace string `dynamodbav:"primaryNamespace"`
	PrimaryID        string `dynamodbav:"primaryId"`
}

// errChanged: the profile changed between our read and our write.
var errChanged = errors.New("profile changed concurrently")

// errProfileRefused: DynamoDB refused the profile item as invalid (the
// provider's message is not kept: it may quote a value).
var errProfileRefused = derrors.New(derrors.Invalid, "the store refused the profile: a value, its size or its nesting is beyond DynamoDB's limits")

func profilePK(t tenant.Tenant, id profile.Identity) string {
	return tenantPK(t, skProfile, id.Namespace+"#"+id.ID)
}

// Put implements profile.Store.
func (s *Store) Put(ctx context.Context, t tenant.Tenant, p profile.Profile) error {
	for attempt := 0; ; attempt++ {
		old, err := s.primary(ctx, t, p.Identity())
		if err != nil && !derrors.Is(err, derrors.NotFound) {
			return err
		}
		var prev *profile.Profile
		if err == nil {
			prev = &old
		}
		err = s.write(ctx, t, p, prev)
		if errors.Is(err, errChanged) && attempt < 4 {
			continue
		}
		if errors.Is(err, errChanged) {
			return derrors.New(derrors.Conflict, "the profile is being changed by someone else; retry")
		}
		return err
	}
}

// write stores p and its identity items in one transaction. prev is the
// stored version p replaces (nil: p must be new); a concurrent change
// returns errChanged, an identity of another profile derrors.Conflict.
func (s *Store) write(ctx context.Context, t tenant.Tenant, p profile.Profile, prev *profile.Profile) error {
	item, err := profileItem(t, p)
	if err != nil {
		return err
	}
	put := &types.Put{TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}
	if prev != nil {
		cond, err := expression.NewBuilder().WithCondition(
			expression.Name("updatedAt").Equal(expression.Value(prev.UpdatedAt.Format(time.RFC3339Nano)))).Build()
		if err != nil {
			return err
		}
		put.ConditionExpression, put.ExpressionAttributeNames, put.ExpressionAttributeValues = cond.Condition(), cond.Names(), cond.Values()
	}
	me := p.Identity()
	owner, err := expression.NewBuilder().WithCondition(expression.Or(
		expression.AttributeNotExists(expression.Name(attrPK)),
		expression.And(expression.Name("primaryNamespace").Equal(expression.Value(me.Namespace)),
			expression.Name("primaryId").Equal(expression.Value(me.ID))),
	)).Build()
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{
		{Put: put},
		{ConditionCheck: &types.ConditionCheck{TableName: aws.String(s.table), Key: key(profilePK(t, me), skAlias),
			ConditionExpression: aws.String("attribute_not_exists(pk)")}},
	}
	idents := []profile.Identity{me}
	want := map[profile.Identity]bool{}
	for _, id := range p.AllIdentities()[1:] {
		want[id] = true
		ai, err := attributevalue.MarshalMap(aliasItem{PK: profilePK(t, id), SK: skAlias, PrimaryNamespace: me.Namespace, PrimaryID: me.ID})
		if err != nil {
			return err
		}
		items = append(items,
			types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: ai, ConditionExpression: owner.Condition(),
				ExpressionAttributeNames: owner.Names(), ExpressionAttributeValues: owner.Values()}},
			types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: aws.String(s.table), Key: key(profilePK(t, id), skProfile),
				ConditionExpression: aws.String("attribute_not_exists(pk)")}})
		idents = append(idents, id, id)
	}
	if prev != nil {
		for _, id := range prev.AllIdentities()[1:] {
			if !want[id] {
				items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.table),
					Key: key(profilePK(t, id), skAlias), ConditionExpression: owner.Condition(),
					ExpressionAttributeNames: owner.Names(), ExpressionAttributeValues: owner.Values()}})
				idents = append(idents, id)
			}
		}
	}
	_, err = s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if isInvalidRequest(err) {
		return errProfileRefused
	}
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		if err != nil {
			return fmt.Errorf("put profile: %w", err)
		}
		return nil
	}
	for i, r := range tce.CancellationReasons {
		if aws.ToString(r.Code) != "ConditionalCheckFailed" {
			continue
		}
		if i == 0 {
			return errChanged
		}
		id := idents[i-1]
		return derrors.New(derrors.Conflict, "identity %s:%s belongs to another profile", id.Namespace, id.ID)
	}
	return fmt.Errorf("put profile: %w", err)
}

// primary reads the profile whose primary identity is id (no aliases).
func (s *Store) primary(ctx context.Context, t tenant.Tenant, id profile.Identity) (profile.Profile, error) {
	item, err := s.get(ctx, profilePK(t, id), skProfile, "profile")
	if err != nil {
		return profile.Profile{}, err
	}
	return decodeProfile(item)
}

// Get implements profile.Store: one Query on the identity's partition
// finds the profile or the identity's pointer to it.
func (s *Store) Get(ctx context.Context, t tenant.Tenant, id profile.Identity) (profile.Profile, error) {
	kc, err := expression.NewBuilder().WithKeyCondition(expression.Key(attrPK).Equal(expression.Value(profilePK(t, id)))).Build()
	if err != nil {
		return profile.Profile{}, err
	}
	out, err := s.api.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(s.table), KeyConditionExpression: kc.KeyCondition(),
		ExpressionAttributeNames: kc.Names(), ExpressionAttributeValues: kc.Values(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return profile.Profile{}, fmt.Errorf("get profile: %w", err)
	}
	for _, item := range out.Items {
		if str(item, attrSK) == skProfile {
			return decodeProfile(item)
		}
	}
	for _, item := range out.Items {
		if str(item, attrSK) == skAlias {
			return s.primary(ctx, t, profile.Identity{Namespace: str(item, "primaryNamespace"), ID: str(item, "primaryId")})
		}
	}
	return profile.Profile{}, derrors.New(derrors.NotFound, "profile not found")
}

// BatchGet implements profile.Store: the ids as primaries first, then the
// rest as identities, then the primaries those point at.
func (s *Store) BatchGet(ctx context.Context, t tenant.Tenant, ids []profile.Identity) (map[profile.Identity]profile.Profile, error) {
	uniq := slices.Compact(slices.SortedFunc(slices.Values(ids), cmpIdentity))
	out := make(map[profile.Identity]profile.Profile, len(uniq))
	profiles, err := s.profilesByPrimary(ctx, t, uniq)
	if err != nil {
		return nil, err
	}
	var rest []map[string]types.AttributeValue
	for _, id := range uniq {
		if p, ok := profiles[id]; ok {
			out[id] = p
		} else {
			rest = append(rest, key(profilePK(t, id), skAlias))
		}
	}
	if len(rest) == 0 {
		return out, nil
	}
	items, err := s.batchGet(ctx, rest)
	if err != nil {
		return nil, fmt.Errorf("get profile identities: %w", err)
	}
	byPK := map[string]profile.Identity{}
	for _, id := range uniq {
		byPK[profilePK(t, id)] = id
	}
	asked := map[profile.Identity][]profile.Identity{}
	for _, item := range items {
		primary := profile.Identity{Namespace: str(item, "primaryNamespace"), ID: str(item, "primaryId")}
		asked[primary] = append(asked[primary], byPK[str(item, attrPK)])
	}
	primaries, err := s.profilesByPrimary(ctx, t, slices.Collect(maps.Keys(asked)))
	if err != nil {
		return nil, err
	}
	for primary, p := range primaries {
		for _, id := range asked[primary] {
			out[id] = p
		}
	}
	return out, nil
}

func cmpIdentity(a, b profile.Identity) int {
	if a.Namespace != b.Namespace {
		if a.Namespace < b.Namespace {
			return -1
		}
		return 1
	}
	switch {
	case a.ID < b.ID:
		return -1
	case a.ID > b.ID:
		return 1
	}
	return 0
}

func (s *Store) profilesByPrimary(ctx context.Context, t tenant.Tenant, ids []profile.Identity) (map[profile.Identity]profile.Profile, error) {
	keys := make([]map[string]types.AttributeValue, 0, len(ids))
	for _, id := range ids {
		keys = append(keys, key(profilePK(t, id), skProfile))
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("get profiles: %w", err)
	}
	out := make(map[profile.Identity]profile.Profile, len(items))
	for _, item := range items {
		p, err := decodeProfile(item)
		if err != nil {
			return nil, err
		}
		out[p.Identity()] = p
	}
	return out, nil
}

// CreateIfAbsent implements profile.Store.
func (s *Store) CreateIfAbsent(ctx context.Context, t tenant.Tenant, p profile.Profile) error {
	err := s.write(ctx, t, p, nil)
	if errors.Is(err, errChanged) || derrors.Is(err, derrors.Conflict) {
		return nil // it exists (as a profile, or as another profile's identity)
	}
	if err != nil {
		return fmt.Errorf("create profile: %w", err)
	}
	return nil
}

// Update implements profile.Store.
func (s *Store) Update(ctx context.Context, t tenant.Tenant, id profile.Identity, fn func(*profile.Profile) error) (profile.Profile, error) {
	for attempt := 0; ; attempt++ {
		old, err := s.Get(ctx, t, id)
		if err != nil {
			return profile.Profile{}, err
		}
		p := old
		p.Attributes = maps.Clone(old.Attributes)
		p.Identities = maps.Clone(old.Identities)
		p.Consent = maps.Clone(old.Consent)
		p.Devices = slices.Clone(old.Devices)
		if err := fn(&p); err != nil {
			return profile.Profile{}, err
		}
		if !p.UpdatedAt.After(old.UpdatedAt) {
			p.UpdatedAt = old.UpdatedAt.Add(time.Nanosecond)
		}
		err = s.write(ctx, t, p, &old)
		if errors.Is(err, errChanged) && attempt < 4 {
			continue
		}
		if errors.Is(err, errChanged) {
			return profile.Profile{}, derrors.New(derrors.Conflict, "the profile is being changed by someone else; retry")
		}
		return p, err
	}
}

// Delete implements profile.Store.
func (s *Store) Delete(ctx context.Context, t tenant.Tenant, id profile.Identity) error {
	p, err := s.Get(ctx, t, id)
	if err != nil {
		return err
	}
	me := p.Identity()
	if err := s.deleteEndpointOwners(ctx, t, p); err != nil {
		return err
	}
	owner, err := expression.NewBuilder().WithCondition(expression.And(
		expression.Name("primaryNamespace").Equal(expression.Value(me.Namespace)),
		expression.Name("primaryId").Equal(expression.Value(me.ID)))).Build()
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{{Delete: &types.Delete{TableName: aws.String(s.table), Key: key(profilePK(t, me), skProfile)}}}
	for _, id := range p.AllIdentities()[1:] {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.table),
			Key: key(profilePK(t, id), skAlias), ConditionExpression: owner.Condition(),
			ExpressionAttributeNames: owner.Names(), ExpressionAttributeValues: owner.Values()}})
	}
	// A pointer that is not ours (or gone) fails the condition: delete
	// the profile and the pointers that are ours.
	_, err = s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if isTxConditionFailed(err) {
		_, err = s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items[:1]})
	}
	if err != nil {
		return fmt.Errorf("delete profile: %w", err)
	}
	return nil
}

// PutBatch implements profile.Store. Profiles whose set of identities is
// unchanged (and whose primary is no other profile's identity) are
// written with BatchWriteItem, 25 a call; the others go through Put's
// transaction, one by one.
func (s *Store) PutBatch(ctx context.Context, t tenant.Tenant, ps []profile.Profile) []error {
	errs := make([]error, len(ps))
	var keys []map[string]types.AttributeValue
	for _, p := range ps {
		keys = append(keys, key(profilePK(t, p.Identity()), skProfile), key(profilePK(t, p.Identity()), skAlias))
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		for i := range errs {
			errs[i] = fmt.Errorf("read profiles: %w", err)
		}
		return errs
	}
	olds := map[string]profile.Profile{}
	aliased := map[string]bool{}
	for _, item := range items {
		pk := str(item, attrPK)
		if str(item, attrSK) == skAlias {
			aliased[pk] = true
			continue
		}
		if p, err := decodeProfile(item); err == nil {
			olds[pk] = p
		}
	}
	var simple []int
	for i, p := range ps {
		pk := profilePK(t, p.Identity())
		old, exists := olds[pk]
		switch {
		case aliased[pk]:
			errs[i] = derrors.New(derrors.Conflict, "identity %s:%s belongs to another profile", p.Namespace, p.ID)
		case slices.Equal(p.AllIdentities(), old.AllIdentities()) && exists, len(p.AllIdentities()) == 1 && !exists:
			simple = append(simple, i)
		default:
			errs[i] = s.Put(ctx, t, p)
		}
	}
	for start := 0; start < len(simple); start += 25 {
		chunk := simple[start:min(start+25, len(simple))]
		reqs := make([]types.WriteRequest, 0, len(chunk))
		for _, i := range chunk {
			item, err := profileItem(t, ps[i])
			if err != nil {
				errs[i] = err
				continue
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		}
		err := s.batchWrite(ctx, reqs)
		if isInvalidRequest(err) {
			// One bad item fails the whole call: put them one by one so
			// only that one fails.
			for _, i := range chunk {
				if errs[i] == nil {
					errs[i] = s.putOne(ctx, t, ps[i])
				}
			}
			continue
		}
		if err != nil {
			for _, i := range chunk {
				if errs[i] == nil {
					errs[i] = err
				}
			}
		}
	}
	return errs
}

// putOne writes a profile item as PutBatch's batch does, alone.
func (s *Store) putOne(ctx context.Context, t tenant.Tenant, p profile.Profile) error {
	item, err := profileItem(t, p)
	if err != nil {
		return err
	}
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item})
	switch {
	case isInvalidRequest(err):
		return errProfileRefused
	case err != nil:
		return fmt.Errorf("put profile: %w", err)
	}
	return nil
}
