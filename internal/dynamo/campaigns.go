package dynamo

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
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

	// IndexList is the list index (GSI): gsi1pk names a tenant's list,
	// gsi1sk orders it by creation time.
	IndexList = "gsi1"
	attrG1PK  = "gsi1pk"
	attrG1SK  = "gsi1sk"

	// maxDoc bounds a compressed document so its item stays under
	// DynamoDB's 400 KB.
	maxDoc = 380 << 10
)

func versionSK(n int) string { return fmt.Sprintf("V#%06d", n) }

func listPK(t tenant.Tenant, kind string) string { return "T#" + t.Key() + "#" + kind }

func listSK(at time.Time, id string) string {
	return at.UTC().Format("2006-01-02T15:04:05.000000000Z") + "#" + id
}

// packDoc gzips v's JSON: campaign content (HTML up to 500 KB) only fits
// an item compressed.
func packDoc(v any, what string) ([]byte, error) {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if err := json.NewEncoder(zw).Encode(v); err != nil {
		return nil, fmt.Errorf("encode %s: %w", what, err)
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if b.Len() > maxDoc {
		return nil, derrors.New(derrors.TooLarge, "%s is %d bytes compressed; at most %d can be stored", what, b.Len(), maxDoc)
	}
	return b.Bytes(), nil
}

func unpackDoc(doc []byte, v any, what string) error {
	zr, err := gzip.NewReader(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("decode %s: %w", what, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return fmt.Errorf("decode %s: %w", what, err)
	}
	return json.Unmarshal(b, v)
}

// --- channel configurations ---

func configItem(t tenant.Tenant, c campaign.ChannelConfig) (map[string]types.AttributeValue, error) {
	item, err := attributevalue.MarshalMap(toConfigRecord(t, c))
	if err != nil {
		return nil, fmt.Errorf("encode channel configuration %s: %w", c.ID, err)
	}
	return item, nil
}

// CreateConfig implements campaign.Store.
func (s *Store) CreateConfig(ctx context.Context, t tenant.Tenant, c campaign.ChannelConfig) error {
	item, err := configItem(t, c)
	if err != nil {
		return err
	}
	return s.putNew(ctx, item, "channel configuration "+c.ID)
}

// GetConfig implements campaign.Store.
func (s *Store) GetConfig(ctx context.Context, t tenant.Tenant, id string) (campaign.ChannelConfig, error) {
	item, err := s.get(ctx, tenantPK(t, skConfig, id), skConfig, fmt.Sprintf("channel configuration %q", id))
	if err != nil {
		return campaign.ChannelConfig{}, err
	}
	return decodeConfig(item)
}

// UpdateConfig implements campaign.Store: the authored attributes are
// SET (the usage record kept beside them is left alone).
func (s *Store) UpdateConfig(ctx context.Context, t tenant.Tenant, c campaign.ChannelConfig, prev int) error {
	item, err := configItem(t, c)
	if err != nil {
		return err
	}
	var upd expression.UpdateBuilder
	for name, v := range item {
		switch name {
		case attrPK, attrSK, attrG1PK, attrG1SK, "id", "channel", "category", "createdAt", "usedBy", "useSeq":
			continue
		}
		upd = upd.Set(expression.Name(name), expression.Value(v))
	}
	for _, block := range []string{"email", "sms", "push"} {
		if _, ok := item[block]; !ok {
			upd = upd.Remove(expression.Name(block))
		}
	}
	cond := expression.And(expression.AttributeExists(expression.Name(attrPK)),
		expression.Name("revision").Equal(expression.Value(prev)))
	e, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
	if err != nil {
		return err
	}
	_, err = s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(tenantPK(t, skConfig, c.ID), skConfig),
		UpdateExpression: e.Update(), ConditionExpression: e.Condition(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
	})
	if isConditionFailed(err) {
		if _, gerr := s.GetConfig(ctx, t, c.ID); derrors.Is(gerr, derrors.NotFound) {
			return gerr
		}
		return derrors.New(derrors.Precondition, "channel configuration %s was changed by someone else; read it and try again", c.ID)
	}
	return err
}

// DeleteConfig implements campaign.Store. Activation adds the campaign to
// the configuration's usedBy set and bumps useSeq in its transaction, and
// requires the configuration to exist; the delete is conditioned on the
// useSeq it checked, so an activation can never slip in between.
func (s *Store) DeleteConfig(ctx context.Context, t tenant.Tenant, id string, prev int, inUse func([]string) (string, error)) error {
	pk := tenantPK(t, skConfig, id)
	item, err := s.get(ctx, pk, skConfig, fmt.Sprintf("channel configuration %q", id))
	if err != nil {
		return err
	}
	var use configRecord
	if err := attributevalue.UnmarshalMap(item, &use); err != nil {
		return fmt.Errorf("decode configuration usage: %w", err)
	}
	if use.Revision != prev {
		return derrors.New(derrors.Precondition, "channel configuration %s was changed by someone else; read it and try again", id)
	}
	user, err := inUse(use.UsedBy)
	if err != nil {
		return err
	}
	if user != "" {
		return derrors.New(derrors.Conflict, "channel configuration %s is used by campaign %s, which is live or scheduled", id, user)
	}
	seq := expression.Name("useSeq").Equal(expression.Value(use.UseSeq))
	if use.UseSeq == 0 {
		seq = expression.AttributeNotExists(expression.Name("useSeq"))
	}
	e, err := expression.NewBuilder().WithCondition(expression.And(
		expression.Name("revision").Equal(expression.Value(prev)), seq)).Build()
	if err != nil {
		return err
	}
	_, err = s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.table), Key: key(pk, skConfig), ConditionExpression: e.Condition(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
	})
	if isConditionFailed(err) {
		return derrors.New(derrors.Precondition, "channel configuration %s changed while it was being deleted; try again", id)
	}
	return err
}

// ListConfigs implements campaign.Store.
func (s *Store) ListConfigs(ctx context.Context, t tenant.Tenant, f campaign.ListFilter) (campaign.Page[campaign.ChannelConfig], error) {
	var conds []expression.ConditionBuilder
	if f.Channel != "" {
		conds = append(conds, expression.Name("channel").Equal(expression.Value(string(f.Channel))))
	}
	if f.Type != "" {
		conds = append(conds, expression.Name("category").Equal(expression.Value(string(f.Type))))
	}
	if f.NamePrefix != "" {
		conds = append(conds, expression.Name("nameKey").BeginsWith(f.NamePrefix))
	}
	items, next, err := s.listIndex(ctx, listPK(t, "CHCFGS"), conds, f.Limit, f.Cursor)
	if err != nil {
		return campaign.Page[campaign.ChannelConfig]{}, err
	}
	out := campaign.Page[campaign.ChannelConfig]{Items: []campaign.ChannelConfig{}, Next: next}
	for _, item := range items {
		c, err := decodeConfig(item)
		if err != nil {
			return out, err
		}
		out.Items = append(out.Items, c)
	}
	return out, nil
}

// --- campaigns ---

func toCampaignItem(t tenant.Tenant, c campaign.Campaign) (map[string]types.AttributeValue, error) {
	r, err := toCampaignRecord(t, c)
	if err != nil {
		return nil, err
	}
	item, err := attributevalue.MarshalMap(r)
	if err != nil {
		return nil, fmt.Errorf("encode campaign %s: %w", c.ID, err)
	}
	return item, nil
}

func fromCampaignItem(item map[string]types.AttributeValue) (campaign.Campaign, error) {
	var r campaignRecord
	if err := attributevalue.UnmarshalMap(item, &r); err != nil {
		return campaign.Campaign{}, fmt.Errorf("decode campaign: %w", err)
	}
	return fromCampaignRecord(r)
}

// CreateCampaign implements campaign.Store.
func (s *Store) CreateCampaign(ctx context.Context, t tenant.Tenant, c campaign.Campaign) error {
	item, err := toCampaignItem(t, c)
	if err != nil {
		return err
	}
	return s.putNew(ctx, item, "campaign "+c.ID)
}

// GetCampaign implements campaign.Store.
func (s *Store) GetCampaign(ctx context.Context, t tenant.Tenant, id string) (campaign.Campaign, error) {
	item, err := s.get(ctx, tenantPK(t, skCampaign, id), skCampaign, fmt.Sprintf("campaign %q", id))
	if err != nil {
		return campaign.Campaign{}, err
	}
	return fromCampaignItem(item)
}

// Activate implements campaign.Store: the version is created (never
// overwritten), the campaign replaced only if its revision is still
// prevRevision, and the configuration's usage recorded (it must still
// exist), in one transaction.
func (s *Store) Activate(ctx context.Context, t tenant.Tenant, c campaign.Campaign, v campaign.Version, prevRevision int) error {
	citem, err := toCampaignItem(t, c)
	if err != nil {
		return err
	}
	vr, err := toVersionRecord(t, c.ID, v)
	if err != nil {
		return err
	}
	vitem, err := attributevalue.MarshalMap(vr)
	if err != nil {
		return fmt.Errorf("encode campaign %s version %d: %w", c.ID, v.Number, err)
	}
	cond, err := expression.NewBuilder().WithCondition(
		expression.Name("revision").Equal(expression.Value(prevRevision))).Build()
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.table), Item: vitem, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: citem, ConditionExpression: cond.Condition(),
			ExpressionAttributeNames: cond.Names(), ExpressionAttributeValues: cond.Values()}},
	}
	if cfg := v.Spec.ChannelConfigID; cfg != "" {
		use, err := expression.NewBuilder().
			WithUpdate(expression.Add(expression.Name("usedBy"), expression.Value(&types.AttributeValueMemberSS{Value: []string{c.ID}})).
				Add(expression.Name("useSeq"), expression.Value(1))).
			WithCondition(expression.AttributeExists(expression.Name(attrPK))).Build()
		if err != nil {
			return err
		}
		items = append(items, types.TransactWriteItem{Update: &types.Update{TableName: aws.String(s.table),
			Key: key(tenantPK(t, skConfig, cfg), skConfig), UpdateExpression: use.Update(), ConditionExpression: use.Condition(),
			ExpressionAttributeNames: use.Names(), ExpressionAttributeValues: use.Values()}})
	}
	_, err = s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if failed := txFailedAt(err); len(failed) > 0 {
		if len(items) == 3 && failed[2] && !failed[0] && !failed[1] {
			return derrors.New(derrors.Conflict, "channel configuration %q was deleted; choose another", v.Spec.ChannelConfigID)
		}
		return derrors.New(derrors.Precondition, "campaign %s changed while it was being activated; read it and try again", c.ID)
	}
	return err
}

// txFailedAt returns which items of a cancelled transaction failed their
// condition (nil if err is not such a cancellation).
func txFailedAt(err error) map[int]bool {
	if !isTxConditionFailed(err) {
		return nil
	}
	var tce *types.TransactionCanceledException
	_ = asErr(err, &tce)
	out := map[int]bool{}
	for i, r := range tce.CancellationReasons {
		if aws.ToString(r.Code) == "ConditionalCheckFailed" {
			out[i] = true
		}
	}
	return out
}

// GetVersion implements campaign.Store.
func (s *Store) GetVersion(ctx context.Context, t tenant.Tenant, campaignID string, number int) (campaign.Version, error) {
	item, err := s.get(ctx, tenantPK(t, skCampaign, campaignID), versionSK(number), fmt.Sprintf("campaign %q version %d", campaignID, number))
	if err != nil {
		return campaign.Version{}, err
	}
	var r versionRecord
	if err := attributevalue.UnmarshalMap(item, &r); err != nil {
		return campaign.Version{}, fmt.Errorf("decode version: %w", err)
	}
	return fromVersionRecord(r)
}

// UpdateCampaign implements campaign.Store.
func (s *Store) UpdateCampaign(ctx context.Context, t tenant.Tenant, c campaign.Campaign, prevRevision int) error {
	item, err := toCampaignItem(t, c)
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

// DeleteCampaign implements campaign.Store.
func (s *Store) DeleteCampaign(ctx context.Context, t tenant.Tenant, id string, prev int) error {
	e, err := expression.NewBuilder().WithCondition(expression.And(
		expression.Name("revision").Equal(expression.Value(prev)),
		expression.Name("status").Equal(expression.Value(string(campaign.StatusDraft))))).Build()
	if err != nil {
		return err
	}
	_, err = s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.table), Key: key(tenantPK(t, skCampaign, id), skCampaign),
		ConditionExpression: e.Condition(), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
	})
	if !isConditionFailed(err) {
		return err
	}
	cur, gerr := s.GetCampaign(ctx, t, id)
	switch {
	case gerr != nil:
		return gerr
	case cur.Revision != prev:
		return derrors.New(derrors.Precondition, "campaign %s was changed by someone else; read it and try again", id)
	}
	return derrors.New(derrors.Conflict, "campaign %s is %s; only a draft can be deleted", id, cur.Status)
}

// ListCampaigns implements campaign.Store: a Query of the tenant's list
// partition on the list index, newest first, filtered.
func (s *Store) ListCampaigns(ctx context.Context, t tenant.Tenant, f campaign.ListFilter) (campaign.Page[campaign.Summary], error) {
	var conds []expression.ConditionBuilder
	if f.Status != "" {
		conds = append(conds, expression.Name("status").Equal(expression.Value(string(f.Status))))
	}
	if f.Type != "" {
		conds = append(conds, expression.Name("type").Equal(expression.Value(string(f.Type))))
	}
	if f.Channel != "" {
		conds = append(conds, expression.Name("channel").Equal(expression.Value(string(f.Channel))))
	}
	if f.Tag != "" {
		conds = append(conds, expression.Contains(expression.Name("tags"), f.Tag))
	}
	if f.NamePrefix != "" {
		conds = append(conds, expression.Name("nameKey").BeginsWith(f.NamePrefix))
	}
	items, next, err := s.listIndex(ctx, listPK(t, "CAMPS"), conds, f.Limit, f.Cursor)
	if err != nil {
		return campaign.Page[campaign.Summary]{}, err
	}
	out := campaign.Page[campaign.Summary]{Items: []campaign.Summary{}, Next: next}
	for _, item := range items {
		var r campaignRecord
		if err := attributevalue.UnmarshalMap(item, &r); err != nil {
			return out, fmt.Errorf("decode campaign summary: %w", err)
		}
		out.Items = append(out.Items, summaryFromRecord(r))
	}
	return out, nil
}

type listCursor struct {
	PK   string `json:"p"`
	SK   string `json:"s"`
	G1PK string `json:"gp"`
	G1SK string `json:"gs"`
}

// listIndex queries list partition g1pk on the list index, newest first,
// and returns up to limit items matching conds (filters), continuing
// after cursor; next continues after the last item returned.
func (s *Store) listIndex(ctx context.Context, g1pk string, conds []expression.ConditionBuilder, limit int, cursor string) ([]map[string]types.AttributeValue, string, error) {
	b := expression.NewBuilder().WithKeyCondition(expression.Key(attrG1PK).Equal(expression.Value(g1pk)))
	switch len(conds) {
	case 0:
	case 1:
		b = b.WithFilter(conds[0])
	default:
		b = b.WithFilter(expression.And(conds[0], conds[1], conds[2:]...))
	}
	e, err := b.Build()
	if err != nil {
		return nil, "", err
	}
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(IndexList), ScanIndexForward: aws.Bool(false),
		KeyConditionExpression: e.KeyCondition(), FilterExpression: e.Filter(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
		Limit: aws.Int32(int32(max(limit, 50))),
	}
	if cursor != "" {
		var lc listCursor
		raw, err := base64.RawURLEncoding.DecodeString(cursor)
		if err == nil {
			err = json.Unmarshal(raw, &lc)
		}
		if err != nil || lc.G1PK != g1pk || !keyFits(lc.PK, lc.SK) || !keyFits(lc.G1PK, lc.G1SK) {
			return nil, "", derrors.Validation(derrors.FieldError{Field: "cursor", Message: "is not a cursor this list issued"})
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{
			attrPK: &types.AttributeValueMemberS{Value: lc.PK}, attrSK: &types.AttributeValueMemberS{Value: lc.SK},
			attrG1PK: &types.AttributeValueMemberS{Value: lc.G1PK}, attrG1SK: &types.AttributeValueMemberS{Value: lc.G1SK},
		}
	}
	var out []map[string]types.AttributeValue
	p := dynamodb.NewQueryPaginator(s.api, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, "", fmt.Errorf("list %s: %w", g1pk, err)
		}
		for _, item := range page.Items {
			if len(out) == limit {
				return out, cursorOf(out[len(out)-1]), nil
			}
			out = append(out, item)
		}
		if len(out) == limit && page.LastEvaluatedKey != nil {
			return out, cursorOf(out[len(out)-1]), nil
		}
	}
	return out, "", nil
}

func cursorOf(item map[string]types.AttributeValue) string {
	b, _ := json.Marshal(listCursor{PK: str(item, attrPK), SK: str(item, attrSK), G1PK: str(item, attrG1PK), G1SK: str(item, attrG1SK)})
	return base64.RawURLEncoding.EncodeToString(b)
}

// ListVersions implements campaign.Store: a Query of the campaign's
// partition (sk begins_with "V#"), newest first, reading only summaries.
func (s *Store) ListVersions(ctx context.Context, t tenant.Tenant, campaignID string, limit int, cursor string) (campaign.Page[campaign.VersionSummary], error) {
	pk := tenantPK(t, skCampaign, campaignID)
	e, err := expression.NewBuilder().WithKeyCondition(expression.KeyAnd(
		expression.Key(attrPK).Equal(expression.Value(pk)), expression.Key(attrSK).BeginsWith("V#"))).
		WithProjection(expression.NamesList(expression.Name(attrPK), expression.Name(attrSK), expression.Name("summary"))).Build()
	if err != nil {
		return campaign.Page[campaign.VersionSummary]{}, err
	}
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table), ScanIndexForward: aws.Bool(false), ConsistentRead: aws.Bool(true),
		KeyConditionExpression: e.KeyCondition(), ProjectionExpression: e.Projection(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(), Limit: aws.Int32(int32(limit)),
	}
	if cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || !strings.HasPrefix(string(raw), "V#") || !keyFits(pk, string(raw)) {
			return campaign.Page[campaign.VersionSummary]{}, derrors.Validation(derrors.FieldError{Field: "cursor", Message: "is not a cursor this list issued"})
		}
		in.ExclusiveStartKey = key(pk, string(raw))
	}
	out, err := s.api.Query(ctx, in)
	if err != nil {
		return campaign.Page[campaign.VersionSummary]{}, fmt.Errorf("list versions: %w", err)
	}
	page := campaign.Page[campaign.VersionSummary]{Items: []campaign.VersionSummary{}}
	for _, item := range out.Items {
		var r versionSummaryRecord
		if err := attributevalue.Unmarshal(item["summary"], &r); err != nil {
			return page, fmt.Errorf("decode version summary: %w", err)
		}
		page.Items = append(page.Items, fromVersionSummaryRecord(r))
	}
	if out.LastEvaluatedKey != nil && len(out.Items) > 0 {
		page.Next = base64.RawURLEncoding.EncodeToString([]byte(str(out.Items[len(out.Items)-1], attrSK)))
	}
	return page, nil
}

// ExpireVersions implements campaign.Store: each version item of the
// campaign gets the TTL attribute.
func (s *Store) ExpireVersions(ctx context.Context, t tenant.Tenant, campaignID string, at time.Time) error {
	pk := tenantPK(t, skCampaign, campaignID)
	kc, err := expression.NewBuilder().WithKeyCondition(expression.KeyAnd(
		expression.Key(attrPK).Equal(expression.Value(pk)), expression.Key(attrSK).BeginsWith("V#"))).
		WithProjection(expression.NamesList(expression.Name(attrPK), expression.Name(attrSK))).Build()
	if err != nil {
		return err
	}
	upd, err := expression.NewBuilder().WithUpdate(expression.Set(expression.Name("expiresAt"), expression.Value(at.Unix()))).Build()
	if err != nil {
		return err
	}
	p := dynamodb.NewQueryPaginator(s.api, &dynamodb.QueryInput{
		TableName: aws.String(s.table), KeyConditionExpression: kc.KeyCondition(), ProjectionExpression: kc.Projection(),
		ExpressionAttributeNames: kc.Names(), ExpressionAttributeValues: kc.Values(),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list versions: %w", err)
		}
		for _, item := range page.Items {
			if _, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName: aws.String(s.table), Key: key(pk, str(item, attrSK)),
				UpdateExpression: upd.Update(), ExpressionAttributeNames: upd.Names(), ExpressionAttributeValues: upd.Values(),
			}); err != nil {
				return fmt.Errorf("expire version: %w", err)
			}
		}
	}
	return nil
}
