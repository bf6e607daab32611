package webhook

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/tenant"
)

// Queue puts webhook messages on the webhook queue.
type Queue interface {
	// Enqueue sends every message or returns an error (some may have
	// been sent: deliveries are deduplicated by ID, so a retry is safe).
	Enqueue(ctx context.Context, msgs []Message) error
}

// Service manages a tenant's webhook and its deliveries.
type Service struct {
	Store Store
	// Queue re-queues redriven deliveries; nil refuses a redrive.
	Queue Queue
	// Resolver resolves endpoint hosts (nil: the system's); tests inject
	// one.
	Resolver Resolver
	// AllowLoopbackHTTP accepts http:// and https:// endpoints on
	// 127.0.0.0/8: the local cloud sets it, a deployment never does.
	AllowLoopbackHTTP bool
	Now               func() time.Time
	// NewSecret generates a secret when a create names none (nil: 32
	// random bytes, base64url).
	NewSecret func() (string, error)
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) guard() *Guard {
	return &Guard{Resolver: s.Resolver, AllowLoopbackHTTP: s.AllowLoopbackHTTP}
}

// NewSecret returns 32 random bytes, base64url without padding.
func NewSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("webhook secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Create stores the tenant's webhook (derrors.Conflict if it has one). A
// secret the input does not give is generated and returned in the view,
// the only time it is shown.
func (s *Service) Create(ctx context.Context, t tenant.Tenant, in Input) (View, error) {
	if err := validate(ctx, s.guard(), in); err != nil {
		return View{}, err
	}
	generated := false
	if in.Secret == "" {
		gen := s.NewSecret
		if gen == nil {
			gen = NewSecret
		}
		sec, err := gen()
		if err != nil {
			return View{}, err
		}
		in.Secret, generated = sec, true
	}
	now := s.now()
	c := Config{Name: in.Name, URL: in.URL, Channels: slices.Clone(in.Channels), Headers: maps.Clone(in.Headers), Secret: in.Secret,
		CreatedAt: now, UpdatedAt: now}
	if err := s.Store.CreateWebhook(ctx, t, c); err != nil {
		if derrors.Is(err, derrors.Conflict) {
			return View{}, derrors.New(derrors.Conflict, "this org and sandbox have a feedback webhook already; PATCH or DELETE it")
		}
		return View{}, fmt.Errorf("create webhook: %w", err)
	}
	v := view(c)
	if generated {
		v.Secret = c.Secret
	}
	return v, nil
}

// Get returns the tenant's webhook, or derrors.NotFound.
func (s *Service) Get(ctx context.Context, t tenant.Tenant) (View, error) {
	c, err := s.Store.GetWebhook(ctx, t)
	if err != nil {
		return View{}, err
	}
	return view(c), nil
}

// Edit computes a webhook's new input from its current one (PATCH builds
// one from its merge patch); current never holds the secret, and a result
// without one keeps the stored secret.
type Edit func(current Input) (Input, error)

// Patch applies edit to the tenant's webhook and validates the result as
// a create would.
func (s *Service) Patch(ctx context.Context, t tenant.Tenant, edit Edit) (View, error) {
	c, err := s.Store.GetWebhook(ctx, t)
	if err != nil {
		return View{}, err
	}
	in, err := edit(Input{Name: c.Name, URL: c.URL, Channels: slices.Clone(c.Channels), Headers: maps.Clone(c.Headers)})
	if err != nil {
		return View{}, err
	}
	if err := validate(ctx, s.guard(), in); err != nil {
		return View{}, err
	}
	c.Name, c.URL, c.Channels, c.Headers = in.Name, in.URL, in.Channels, in.Headers
	if in.Secret != "" {
		c.Secret = in.Secret
	}
	c.UpdatedAt = s.now()
	if err := s.Store.ReplaceWebhook(ctx, t, c); err != nil {
		return View{}, fmt.Errorf("update webhook: %w", err)
	}
	return view(c), nil
}

// Delete removes the tenant's webhook (derrors.NotFound if none); events
// already queued are then skipped.
func (s *Service) Delete(ctx context.Context, t tenant.Tenant) error {
	return s.Store.DeleteWebhook(ctx, t)
}

// DeliveryFilter selects deliveries: Status ("" for all), Limit (0 means
// 50) and the cursor of a previous page.
type DeliveryFilter struct {
	Status DeliveryStatus
	Limit  int
	Cursor string
}

// MaxDeliveryPage bounds a page of deliveries.
const MaxDeliveryPage = 200

// Deliveries returns recent delivery records, newest first. With a status
// filter a page may hold fewer than Limit records (even none) while
// nextCursor says more follow.
func (s *Service) Deliveries(ctx context.Context, t tenant.Tenant, f DeliveryFilter) (DeliveryPage, error) {
	var fe derrors.Fields
	if f.Status != "" && !f.Status.Valid() {
		fe.Add("status", "must be pending, retrying, delivered, skipped or failed")
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	if f.Limit < 1 || f.Limit > MaxDeliveryPage {
		fe.Add("limit", "must be 1 to %d", MaxDeliveryPage)
	}
	if err := fe.Err(); err != nil {
		return DeliveryPage{}, err
	}
	p, err := s.Store.ListDeliveries(ctx, t, f.Limit, f.Cursor)
	if err != nil {
		return DeliveryPage{}, fmt.Errorf("list deliveries: %w", err)
	}
	items := []Delivery{}
	for _, d := range p.Items {
		if f.Status == "" || d.Status == f.Status {
			items = append(items, d)
		}
	}
	p.Items = items
	return p, nil
}

// RedriveResult says how many failed deliveries were queued again.
type RedriveResult struct {
	Requeued int `json:"requeued"`
	// More is set when the call stopped at MaxRedrive: call it again.
	More bool `json:"more"`
}

// MaxRedrive bounds the deliveries one redrive queues again.
const MaxRedrive = 1000

// Redrive queues the tenant's failed deliveries again, each with a new
// 24-hour retry window; they keep their event IDs, so none is sent twice
// once delivered.
func (s *Service) Redrive(ctx context.Context, t tenant.Tenant) (RedriveResult, error) {
	if s.Queue == nil {
		return RedriveResult{}, derrors.New(derrors.Unprocessable, "redrive needs the webhook queue (HERALD_WEBHOOK_QUEUE_URL)")
	}
	var res RedriveResult
	cursor := ""
	for {
		p, err := s.Store.ListDeliveries(ctx, t, MaxDeliveryPage, cursor)
		if err != nil {
			return res, fmt.Errorf("redrive: %w", err)
		}
		for _, d := range p.Items {
			if d.Status != Failed {
				continue
			}
			if res.Requeued == MaxRedrive {
				res.More = true
				return res, nil
			}
			if err := s.redriveOne(ctx, t, d); err != nil {
				return res, err
			}
			res.Requeued++
		}
		if p.Next == "" {
			return res, nil
		}
		cursor = p.Next
	}
}

func (s *Service) redriveOne(ctx context.Context, t tenant.Tenant, d Delivery) error {
	m, err := DecodeMessage(d.Message)
	if err != nil {
		return fmt.Errorf("redrive %s: %w", d.EventID, err)
	}
	failed := d
	d.Status, d.WindowStart, d.LeaseUntil = Retrying, s.now(), time.Time{}
	if err := s.Store.SaveDelivery(ctx, t, d); err != nil {
		return fmt.Errorf("redrive %s: %w", d.EventID, err)
	}
	if err := s.Queue.Enqueue(ctx, []Message{m}); err != nil {
		// Leave it failed, so the next redrive finds it.
		_ = s.Store.SaveDelivery(context.WithoutCancel(ctx), t, failed)
		return fmt.Errorf("redrive %s: %w", d.EventID, err)
	}
	return nil
}
