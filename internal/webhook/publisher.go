package webhook

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/tenant"
)

// Configs reads a tenant's webhook (Store does).
type Configs interface {
	// GetWebhook returns the tenant's webhook or derrors.NotFound.
	GetWebhook(ctx context.Context, t tenant.Tenant) (Config, error)
}

// ConfigCacheTTL is how long a Publisher trusts what it read of a
// tenant's webhook, its absence included.
const ConfigCacheTTL = 30 * time.Second

// Publisher hands feedback events to the webhook queue; the Feedback
// function calls it. It only enqueues: the endpoint is called by the
// Webhook function, so a slow or failing receiver never slows feedback
// processing. One Publisher lives as long as its warm function and caches
// each tenant's webhook for ConfigCacheTTL, so a burst of events costs one
// read.
type Publisher struct {
	Configs Configs
	Queue   Queue
	Now     func() time.Time

	mu    sync.Mutex
	cache map[tenant.Tenant]cachedConfig
}

type cachedConfig struct {
	cfg    Config
	exists bool
	at     time.Time
}

func (p *Publisher) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// Publish queues each message whose tenant has a webhook subscribed to
// its channel and drops the others. Any failure is returned (the caller
// retries its event; a message sent twice is delivered once).
func (p *Publisher) Publish(ctx context.Context, msgs []Message) error {
	var out []Message
	for _, m := range msgs {
		c, ok, err := p.config(ctx, m.Tenant)
		if err != nil {
			return err
		}
		if ok && c.Subscribed(m.Channel) {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		return nil
	}
	if err := p.Queue.Enqueue(ctx, out); err != nil {
		return fmt.Errorf("publish webhook messages: %w", err)
	}
	return nil
}

func (p *Publisher) config(ctx context.Context, t tenant.Tenant) (Config, bool, error) {
	now := p.now()
	p.mu.Lock()
	e, hit := p.cache[t]
	p.mu.Unlock()
	if hit && now.Sub(e.at) < ConfigCacheTTL && !now.Before(e.at) {
		return e.cfg, e.exists, nil
	}
	c, err := p.Configs.GetWebhook(ctx, t)
	exists := err == nil
	if err != nil && !derrors.Is(err, derrors.NotFound) {
		return Config{}, false, fmt.Errorf("read the webhook of %s: %w", t, err)
	}
	p.mu.Lock()
	if p.cache == nil {
		p.cache = map[tenant.Tenant]cachedConfig{}
	}
	p.cache[t] = cachedConfig{cfg: c, exists: exists, at: now}
	p.mu.Unlock()
	return c, exists, nil
}
