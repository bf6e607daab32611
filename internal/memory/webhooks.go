package memory

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/tenant"
	"github.com/heraldhq/herald/internal/webhook"
)

var _ webhook.Store = (*Store)(nil)

type webhookData struct {
	configs    map[tenant.Tenant]webhook.Config
	deliveries map[tenant.Tenant]map[string]webhook.Delivery
}

func (s *Store) wh() *webhookData {
	if s.hooks == nil {
		s.hooks = &webhookData{configs: map[tenant.Tenant]webhook.Config{}, deliveries: map[tenant.Tenant]map[string]webhook.Delivery{}}
	}
	return s.hooks
}

func copyConfig(c webhook.Config) webhook.Config {
	c.Channels, c.Headers = slices.Clone(c.Channels), maps.Clone(c.Headers)
	return c
}

func copyDelivery(d webhook.Delivery) webhook.Delivery {
	d.Message = bytes.Clone(d.Message)
	if d.LastAttemptAt != nil {
		t := *d.LastAttemptAt
		d.LastAttemptAt = &t
	}
	if d.DeliveredAt != nil {
		t := *d.DeliveredAt
		d.DeliveredAt = &t
	}
	return d
}

// CreateWebhook implements webhook.Store.
func (s *Store) CreateWebhook(_ context.Context, t tenant.Tenant, c webhook.Config) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.wh().configs[t]; ok {
		return derrors.New(derrors.Conflict, "webhook already exists")
	}
	s.wh().configs[t] = copyConfig(c)
	return nil
}

// GetWebhook implements webhook.Store.
func (s *Store) GetWebhook(_ context.Context, t tenant.Tenant) (webhook.Config, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.wh().configs[t]
	if !ok {
		return webhook.Config{}, notFound("webhook")
	}
	return copyConfig(c), nil
}

// ReplaceWebhook implements webhook.Store.
func (s *Store) ReplaceWebhook(_ context.Context, t tenant.Tenant, c webhook.Config) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.wh().configs[t]; !ok {
		return notFound("webhook")
	}
	s.wh().configs[t] = copyConfig(c)
	return nil
}

// DeleteWebhook implements webhook.Store.
func (s *Store) DeleteWebhook(_ context.Context, t tenant.Tenant) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.wh().configs[t]; !ok {
		return notFound("webhook")
	}
	delete(s.wh().configs, t)
	return nil
}

// ClaimDelivery implements webhook.DeliveryStore.
func (s *Store) ClaimDelivery(_ context.Context, t tenant.Tenant, d webhook.Delivery, now, until time.Time) (webhook.Delivery, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ds := s.wh().deliveries[t]
	if ds == nil {
		ds = map[string]webhook.Delivery{}
		s.wh().deliveries[t] = ds
	}
	cur, ok := ds[d.EventID]
	if !ok {
		d.LeaseUntil = until
		ds[d.EventID] = copyDelivery(d)
		return copyDelivery(d), true, nil
	}
	if cur.Status == webhook.Delivered || cur.Status == webhook.Skipped || cur.Status == webhook.Failed || cur.LeaseUntil.After(now) {
		return copyDelivery(cur), false, nil
	}
	cur.LeaseUntil = until
	ds[d.EventID] = cur
	return copyDelivery(cur), true, nil
}

// SaveDelivery implements webhook.DeliveryStore.
func (s *Store) SaveDelivery(_ context.Context, t tenant.Tenant, d webhook.Delivery) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ds := s.wh().deliveries[t]
	if _, ok := ds[d.EventID]; !ok {
		return notFound("webhook delivery")
	}
	ds[d.EventID] = copyDelivery(d)
	return nil
}

// GetDelivery implements webhook.DeliveryStore.
func (s *Store) GetDelivery(_ context.Context, t tenant.Tenant, eventID string) (webhook.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.wh().deliveries[t][eventID]
	if !ok {
		return webhook.Delivery{}, notFound("webhook delivery")
	}
	return copyDelivery(d), nil
}

// deliveryListKey is the order deliveries are listed in, newest first: the
// DynamoDB store's sort key without its "L#" prefix.
func deliveryListKey(d webhook.Delivery) string {
	return fmt.Sprintf("%019d#%s", math.MaxInt64-d.CreatedAt.UnixNano(), d.EventID)
}

// ListDeliveries implements webhook.DeliveryStore; the cursor is the
// base64url of the last key returned, as in the DynamoDB store.
func (s *Store) ListDeliveries(_ context.Context, t tenant.Tenant, limit int, cursor string) (webhook.DeliveryPage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	after := ""
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || !strings.HasPrefix(string(b), "L#") {
			return webhook.DeliveryPage{}, derrors.Validation(derrors.FieldError{Field: "cursor", Message: "is not a cursor this API returned"})
		}
		after = strings.TrimPrefix(string(b), "L#")
	}
	byKey := map[string]webhook.Delivery{}
	for _, d := range s.wh().deliveries[t] {
		byKey[deliveryListKey(d)] = d
	}
	keys := slices.Sorted(maps.Keys(byKey))
	var p webhook.DeliveryPage
	for _, k := range keys {
		if k <= after {
			continue
		}
		if len(p.Items) == limit {
			p.Next = base64.RawURLEncoding.EncodeToString([]byte("L#" + deliveryListKey(p.Items[len(p.Items)-1])))
			break
		}
		p.Items = append(p.Items, copyDelivery(byKey[k]))
	}
	return p, nil
}

// WebhookQueue is a webhook.Queue that keeps what is enqueued.
type WebhookQueue struct {
	mu   sync.Mutex
	msgs []webhook.Message
	// Fail, when set, makes Enqueue fail with it.
	Fail error
}

var _ webhook.Queue = (*WebhookQueue)(nil)

// Enqueue implements webhook.Queue.
func (q *WebhookQueue) Enqueue(_ context.Context, msgs []webhook.Message) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.Fail != nil {
		return q.Fail
	}
	q.msgs = append(q.msgs, msgs...)
	return nil
}

// Messages returns what was enqueued, in order.
func (q *WebhookQueue) Messages() []webhook.Message {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.msgs)
}

// Fingerprint digests the enqueued messages.
func (q *WebhookQueue) Fingerprint() string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return digest(q.msgs)
}
