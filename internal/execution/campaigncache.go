package execution

import (
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/tenant"
)

// CampaignCacheTTL is how long a warm Trigger function trusts a live
// campaign it read (which version is live, at which revision) instead of
// reading it on every call. A trigger accepted on a cached campaign is
// stored only if the campaign is still at the cached revision (Begin's
// condition, in the same transaction): a campaign stopped, deleted or
// given a new live version is never triggered on its old state; the
// first trigger after the change reads it again (one more round trip).
// The TTL bounds how long a container keeps an entry it no longer uses.
const CampaignCacheTTL = 10 * time.Second

// maxCachedCampaigns bounds a warm function's campaign cache; past it the
// cache starts again empty.
const maxCachedCampaigns = 512

// liveCampaign is what a trigger needs of a live campaign.
type liveCampaign struct {
	version, revision int
	// cached says it came from the cache, not from the store.
	cached bool
}

type campaignKey struct{ tenant, id string }

type cachedCampaign struct {
	liveCampaign
	until time.Time
}

// campaignCache keeps live campaigns for CampaignCacheTTL; the zero
// campaignCache is ready. It is safe for concurrent use.
type campaignCache struct {
	mu sync.Mutex
	m  map[campaignKey]cachedCampaign
}

func (c *campaignCache) get(t tenant.Tenant, id string, now time.Time) (liveCampaign, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[campaignKey{t.Key(), id}]
	if !ok || !now.Before(e.until) {
		return liveCampaign{}, false
	}
	e.cached = true
	return e.liveCampaign, true
}

func (c *campaignCache) put(t tenant.Tenant, id string, live liveCampaign, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedCampaigns {
		c.m = make(map[campaignKey]cachedCampaign)
	}
	live.cached = false
	c.m[campaignKey{t.Key(), id}] = cachedCampaign{liveCampaign: live, until: now.Add(CampaignCacheTTL)}
}

func (c *campaignCache) drop(t tenant.Tenant, id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, campaignKey{t.Key(), id})
}
