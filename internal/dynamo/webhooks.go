package dynamo

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/tenant"
	"github.com/heraldhq/herald/internal/webhook"
)

// Feedback webhooks (see the package doc's key schema):
//
//	webhook              T#<tk>#WH      WH
//	webhook delivery     T#<tk>#WHD     E#<eventId>   (state, lease, message; expiresAt TTL)
//	delivery list entry  T#<tk>#WHD     L#<2^63-1 − createdAt ns, 19 digits>#<eventId>  (expiresAt TTL)
//
// A delivery is claimed by a transaction creating its state and list
// entry (attribute_not_exists), or by an update of an existing state
// conditioned on its status and lease; the list is a Query on "L#" (newest
// first by construction) and a BatchGet of the states.

var _ webhook.Store = (*Store)(nil)

const (
	kindWebhook  = "WH"
	kindDelivery = "WHD"
)

type webhookItem struct {
	PK        string            `dynamodbav:"pk"`
	SK        string            `dynamodbav:"sk"`
	Name      string            `dynamodbav:"name"`
	URL       string            `dynamodbav:"url"`
	Channels  []string          `dynamodbav:"channels"`
	Headers   map[string]string `dynamodbav:"headers,omitempty"`
	Secret    string            `dynamodbav:"secret"`
	CreatedAt time.Time         `dynamodbav:"createdAt"`
	UpdatedAt time.Time         `dynamodbav:"updatedAt"`
}

type deliveryItem struct {
	PK             string     `dynamodbav:"pk"`
	SK             string     `dynamodbav:"sk"`
	EventID        string     `dynamodbav:"eventId"`
	Channel        string     `dynamodbav:"channel"`
	EventTimestamp time.Time  `dynamodbav:"eventTimestamp"`
	Status         string     `dynamodbav:"status"`
	Attempts       int        `dynamodbav:"attempts"`
	LastStatusCode int        `dynamodbav:"lastStatusCode,omitempty"`
	LastError      string     `dynamodbav:"lastError,omitempty"`
	CreatedAt      time.Time  `dynamodbav:"createdAt"`
	WindowStart    time.Time  `dynamodbav:"windowStart"`
	LastAttemptAt  *time.Time `dynamodbav:"lastAttemptAt,omitempty"`
	DeliveredAt    *time.Time `dynamodbav:"deliveredAt,omitempty"`
	Message        []byte     `dynamodbav:"message"`
	// LeaseUntil is Unix milliseconds (0: none), so conditions compare
	// numbers.
	LeaseUntil int64     `dynamodbav:"leaseUntil"`
	ExpiresAt  time.Time `dynamodbav:"expiresAt,unixtime"`
}

type deliveryListItem struct {
	PK        string    `dynamodbav:"pk"`
	SK        string    `dynamodbav:"sk"`
	EventID   string    `dynamodbav:"eventId"`
	ExpiresAt time.Time `dynamodbav:"expiresAt,unixtime"`
}

func webhookPK(t tenant.Tenant) string  { return "T#" + t.Key() + "#" + kindWebhook }
func deliveryPK(t tenant.Tenant) string { return "T#" + t.Key() + "#" + kindDelivery }
func deliverySK(eventID string) string  { return "E#" + eventID }

func deliveryListSK(d webhook.Delivery) string {
	return fmt.Sprintf("L#%019d#%s", math.MaxInt64-d.CreatedAt.UnixNano(), d.EventID)
}

func leaseMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// CreateWebhook implements webhook.Store.
func (s *Store) CreateWebhook(ctx context.Context, t tenant.Tenant, c webhook.Config) error {
	item, err := toWebhookItem(t, c)
	if err != nil {
		return err
	}
	return s.putNew(ctx, item, "webhook")
}

func toWebhookItem(t tenant.Tenant, c webhook.Config) (map[string]types.AttributeValue, error) {
	item, err := attributevalue.MarshalMap(webhookItem{PK: webhookPK(t), SK: kindWebhook, Name: c.Name, URL: c.URL, Channels: c.Channels,
		Headers: c.Headers, Secret: c.Secret, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt})
	if err != nil {
		return nil, fmt.Errorf("encode webhook: %w", err)
	}
	return item, nil
}

// GetWebhook implements webhook.Store.
func (s *Store) GetWebhook(ctx context.Context, t tenant.Tenant) (webhook.Config, error) {
	item, err := s.get(ctx, webhookPK(t), kindWebhook, "webhook")
	if err != nil {
		return webhook.Config{}, err
	}
	var wi webhookItem
	if err := attributevalue.UnmarshalMap(item, &wi); err != nil {
		return webhook.Config{}, fmt.Errorf("decode webhook: %w", err)
	}
	return webhook.Config{Name: wi.Name, URL: wi.URL, Channels: wi.Channels, Headers: wi.Headers, Secret: wi.Secret,
		CreatedAt: wi.CreatedAt, UpdatedAt: wi.UpdatedAt}, nil
}

// ReplaceWebhook implements webhook.Store.
func (s *Store) ReplaceWebhook(ctx context.Context, t tenant.Tenant, c webhook.Config) error {
	item, err := toWebhookItem(t, c)
	if err != nil {
		return err
	}
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_exists(pk)")})
	if isConditionFailed(err) {
		return derrors.New(derrors.NotFound, "webhook not found")
	}
	if err != nil {
		return fmt.Errorf("replace webhook: %w", err)
	}
	return nil
}

// DeleteWebhook implements webhook.Store.
func (s *Store) DeleteWebhook(ctx context.Context, t tenant.Tenant) error {
	_, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: key(webhookPK(t), kindWebhook),
		ConditionExpression: aws.String("attribute_exists(pk)")})
	if isConditionFailed(err) {
		return derrors.New(derrors.NotFound, "webhook not found")
	}
	if err != nil {
		return fmt.Errorf("delete webhook: %w", err)
	}
	return nil
}

func toDeliveryItem(t tenant.Tenant, d webhook.Delivery) (map[string]types.AttributeValue, error) {
	item, err := attributevalue.MarshalMap(deliveryItem{PK: deliveryPK(t), SK: deliverySK(d.EventID), EventID: d.EventID, Channel: d.Channel,
		EventTimestamp: d.EventTimestamp, Status: string(d.Status), Attempts: d.Attempts, LastStatusCode: d.LastStatusCode, LastError: d.LastError,
		CreatedAt: d.CreatedAt, WindowStart: d.WindowStart, LastAttemptAt: d.LastAttemptAt, DeliveredAt: d.DeliveredAt, Message: d.Message,
		LeaseUntil: leaseMillis(d.LeaseUntil), ExpiresAt: d.ExpiresAt})
	if err != nil {
		return nil, fmt.Errorf("encode webhook delivery: %w", err)
	}
	return item, nil
}

func fromDeliveryItem(item map[string]types.AttributeValue) (webhook.Delivery, error) {
	var di deliveryItem
	if err := attributevalue.UnmarshalMap(item, &di); err != nil {
		return webhook.Delivery{}, fmt.Errorf("decode webhook delivery: %w", err)
	}
	d := webhook.Delivery{EventID: di.EventID, Channel: di.Channel, EventTimestamp: di.EventTimestamp, Status: webhook.DeliveryStatus(di.Status),
		Attempts: di.Attempts, LastStatusCode: di.LastStatusCode, LastError: di.LastError, CreatedAt: di.CreatedAt, WindowStart: di.WindowStart,
		LastAttemptAt: di.LastAttemptAt, DeliveredAt: di.DeliveredAt, Message: di.Message, ExpiresAt: di.ExpiresAt}
	if di.LeaseUntil != 0 {
		d.LeaseUntil = time.UnixMilli(di.LeaseUntil).UTC()
	}
	return d, nil
}

// ClaimDelivery implements webhook.DeliveryStore: a transaction creates
// the record and its list entry; when the record exists, an update leases
// it if its status and lease allow.
func (s *Store) ClaimDelivery(ctx context.Context, t tenant.Tenant, d webhook.Delivery, now, until time.Time) (webhook.Delivery, bool, error) {
	if !keyFits(deliveryPK(t), deliverySK(d.EventID)) || !keyFits(deliveryPK(t), deliveryListSK(d)) {
		return webhook.Delivery{}, false, derrors.Validation(derrors.FieldError{Field: "eventId", Message: "is too long"})
	}
	d.LeaseUntil = until
	if keep := s.retention.WebhookDeliveries; keep > 0 {
		d.ExpiresAt = expiry(keep, d.CreatedAt)
	}
	state, err := toDeliveryItem(t, d)
	if err != nil {
		return webhook.Delivery{}, false, err
	}
	list, err := attributevalue.MarshalMap(deliveryListItem{PK: deliveryPK(t), SK: deliveryListSK(d), EventID: d.EventID, ExpiresAt: d.ExpiresAt})
	if err != nil {
		return webhook.Delivery{}, false, fmt.Errorf("encode webhook delivery: %w", err)
	}
	_, err = s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.table), Item: state, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: list}},
	}})
	if err == nil {
		return d, true, nil
	}
	if !isTxConditionFailed(err) {
		return webhook.Delivery{}, false, fmt.Errorf("create webhook delivery: %w", err)
	}
	cond := expression.Name("status").In(expression.Value(string(webhook.Pending)), expression.Value(string(webhook.Retrying))).
		And(expression.Name("leaseUntil").LessThanEqual(expression.Value(leaseMillis(now))))
	ex, err := expression.NewBuilder().WithCondition(cond).
		WithUpdate(expression.Set(expression.Name("leaseUntil"), expression.Value(leaseMillis(until)))).Build()
	if err != nil {
		return webhook.Delivery{}, false, err
	}
	out, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: key(deliveryPK(t), deliverySK(d.EventID)),
		ConditionExpression: ex.Condition(), UpdateExpression: ex.Update(), ExpressionAttributeNames: ex.Names(),
		ExpressionAttributeValues: ex.Values(), ReturnValues: types.ReturnValueAllNew})
	if err == nil {
		cur, err := fromDeliveryItem(out.Attributes)
		return cur, err == nil, err
	}
	if !isConditionFailed(err) {
		return webhook.Delivery{}, false, fmt.Errorf("claim webhook delivery: %w", err)
	}
	cur, err := s.GetDelivery(ctx, t, d.EventID)
	return cur, false, err
}

// SaveDelivery implements webhook.DeliveryStore.
func (s *Store) SaveDelivery(ctx context.Context, t tenant.Tenant, d webhook.Delivery) error {
	item, err := toDeliveryItem(t, d)
	if err != nil {
		return err
	}
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_exists(pk)")})
	if isConditionFailed(err) {
		return derrors.New(derrors.NotFound, "webhook delivery not found")
	}
	if err != nil {
		return fmt.Errorf("save webhook delivery: %w", err)
	}
	return nil
}

// GetDelivery implements webhook.DeliveryStore.
func (s *Store) GetDelivery(ctx context.Context, t tenant.Tenant, eventID string) (webhook.Delivery, error) {
	item, err := s.get(ctx, deliveryPK(t), deliverySK(eventID), "webhook delivery")
	if err != nil {
		return webhook.Delivery{}, err
	}
	return fromDeliveryItem(item)
}

// ListDeliveries implements webhook.DeliveryStore: one Query page of list
// entries, then a BatchGet of their records. The cursor is the last sort
// key, base64url, checked to be a list entry of the caller's partition.
func (s *Store) ListDeliveries(ctx context.Context, t tenant.Tenant, limit int, cursor string) (webhook.DeliveryPage, error) {
	pk := deliveryPK(t)
	ex, err := expression.NewBuilder().WithKeyCondition(expression.Key(attrPK).Equal(expression.Value(pk)).
		And(expression.Key(attrSK).BeginsWith("L#"))).Build()
	if err != nil {
		return webhook.DeliveryPage{}, err
	}
	in := &dynamodb.QueryInput{TableName: aws.String(s.table), KeyConditionExpression: ex.KeyCondition(),
		ExpressionAttributeNames: ex.Names(), ExpressionAttributeValues: ex.Values(), Limit: aws.Int32(int32(limit))}
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || !strings.HasPrefix(string(b), "L#") || !keyFits(pk, string(b)) {
			return webhook.DeliveryPage{}, derrors.Validation(derrors.FieldError{Field: "cursor", Message: "is not a cursor this API returned"})
		}
		in.ExclusiveStartKey = key(pk, string(b))
	}
	out, err := s.api.Query(ctx, in)
	if err != nil {
		return webhook.DeliveryPage{}, fmt.Errorf("list webhook deliveries: %w", err)
	}
	var ids []string
	var keys []map[string]types.AttributeValue
	for _, it := range out.Items {
		id := str(it, "eventId")
		ids = append(ids, id)
		keys = append(keys, key(pk, deliverySK(id)))
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return webhook.DeliveryPage{}, fmt.Errorf("list webhook deliveries: %w", err)
	}
	byID := map[string]webhook.Delivery{}
	for _, it := range items {
		d, err := fromDeliveryItem(it)
		if err != nil {
			return webhook.DeliveryPage{}, err
		}
		byID[d.EventID] = d
	}
	var p webhook.DeliveryPage
	for _, id := range ids {
		if d, ok := byID[id]; ok {
			p.Items = append(p.Items, d)
		}
	}
	if len(out.LastEvaluatedKey) > 0 {
		p.Next = base64.RawURLEncoding.EncodeToString([]byte(str(out.LastEvaluatedKey, attrSK)))
	}
	return p, nil
}
