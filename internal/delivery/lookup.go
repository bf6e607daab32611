package delivery

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/logsafe"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/tenant"
)

// configTTL is how long a channel configuration is cached in a warm
// function; versions are immutable and cached for the life of the process.
const configTTL = time.Minute

type compiled struct {
	version campaign.Version
	content *Templates
}

type cachedConfig struct {
	cfg     campaign.ChannelConfig
	expires time.Time
}

func (d *Dispatcher) version(ctx context.Context, t tenant.Tenant, campaignID string, n int) (*compiled, error) {
	key := t.Key() + "#" + campaignID + "#" + strconv.Itoa(n)
	if v, ok := d.versions.Load(key); ok {
		return v.(*compiled), nil
	}
	return d.versionLoads.Do(key, func() (*compiled, error) {
		v, err := d.Campaigns.GetVersion(ctx, t, campaignID, n)
		if err != nil {
			return nil, fmt.Errorf("campaign %s version %d: %w", campaignID, n, err)
		}
		c, err := d.compile(v)
		if err != nil {
			return nil, err
		}
		actual, _ := d.versions.LoadOrStore(key, c)
		return actual.(*compiled), nil
	})
}

// compile parses a version's content for sending.
func (d *Dispatcher) compile(v campaign.Version) (*compiled, error) {
	content, err := ParseContent(v.Channel, v.Spec.Content)
	if err != nil {
		return nil, fmt.Errorf("campaign %s version %d: %w", v.CampaignID, v.Number, err)
	}
	return &compiled{version: v, content: content}, nil
}

// ErrChannel is returned (wrapped) for a version of a channel this
// dispatcher has no sender for.
var ErrChannel error = logsafe.Text("channel not supported by this dispatcher")

// config returns the campaign's channel configuration (cached briefly)
// after checking it can send on ch and that Herald has a sender for ch.
func (d *Dispatcher) config(ctx context.Context, t tenant.Tenant, id string, ch campaign.Channel) (campaign.ChannelConfig, error) {
	key := t.Key() + "#" + id
	now := d.now()
	var cfg campaign.ChannelConfig
	if v, ok := d.configs.Load(key); ok && now.Before(v.(cachedConfig).expires) {
		cfg = v.(cachedConfig).cfg
	} else {
		var err error
		cfg, err = d.configLoads.Do(key, func() (campaign.ChannelConfig, error) {
			cfg, err := d.Campaigns.GetConfig(ctx, t, id)
			if err != nil {
				return campaign.ChannelConfig{}, fmt.Errorf("channel configuration %s: %w", id, err)
			}
			d.configs.Store(key, cachedConfig{cfg: cfg, expires: now.Add(configTTL)})
			return cfg, nil
		})
		if err != nil {
			return campaign.ChannelConfig{}, err
		}
	}
	switch {
	case ch == campaign.Email && cfg.Email == nil:
		return cfg, fmt.Errorf("channel configuration %s has no email settings", id)
	case ch == campaign.Email && d.Mailer == nil, ch == campaign.SMS && d.SMS == nil, ch == campaign.Push && d.Pusher == nil:
		return cfg, fmt.Errorf("%s: %w", ch, ErrChannel)
	case ch == campaign.Push && (cfg.Push == nil || len(cfg.Push.Apps) == 0):
		return cfg, fmt.Errorf("channel configuration %s has no push apps", id)
	}
	return cfg, nil
}

// unauthorized names what of cfg the deployment does not allow on channel
// ch ("" if nothing): its From address, or a push app's platform
// application.
func (d *Dispatcher) unauthorized(cfg campaign.ChannelConfig, ch campaign.Channel) string {
	if d.Allowed == nil {
		return ""
	}
	switch {
	case ch == campaign.Email && cfg.Email != nil && !d.Allowed.AllowsSender(cfg.Email.FromAddress):
		return FailedUnauthorizedSender.Reason()
	case ch == campaign.Push && cfg.Push != nil:
		for _, a := range cfg.Push.Apps {
			if !d.Allowed.AllowsApplication(a.PlatformApplicationARN) {
				return FailedUnauthorizedApplication.Reason()
			}
		}
	}
	return ""
}

func (d *Dispatcher) profiles(ctx context.Context, job Job) (map[profile.Identity]profile.Profile, error) {
	var ids []profile.Identity
	for _, r := range job.Recipients {
		if r.Type == TypeAEP {
			ids = append(ids, profile.Identity{Namespace: r.Namespace, ID: r.UserID})
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	m, err := d.Profiles.BatchGet(ctx, job.Tenant, ids)
	if err != nil {
		return nil, fmt.Errorf("profiles: %w", err)
	}
	return m, nil
}
