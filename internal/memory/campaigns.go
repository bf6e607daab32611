package memory

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/tenant"
)

var _ campaign.Store = (*Store)(nil)

// CreateConfig implements campaign.Store.
func (s *Store) CreateConfig(_ context.Context, t tenant.Tenant, c campaign.ChannelConfig) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.configs[k(t, c.ID)]; ok {
		return derrors.New(derrors.Conflict, "channel configuration %s already exists", c.ID)
	}
	s.configs[k(t, c.ID)] = clone(c)
	return nil
}

// GetConfig implements campaign.Store.
func (s *Store) GetConfig(_ context.Context, t tenant.Tenant, id string) (campaign.ChannelConfig, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.configs[k(t, id)]
	if !ok {
		return c, notFound(fmt.Sprintf("channel configuration %q", id))
	}
	return clone(c), nil
}

// CreateCampaign implements campaign.Store.
func (s *Store) CreateCampaign(_ context.Context, t tenant.Tenant, c campaign.Campaign) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.campaigns[k(t, c.ID)]; ok {
		return derrors.New(derrors.Conflict, "campaign %s already exists", c.ID)
	}
	s.campaigns[k(t, c.ID)] = clone(c)
	return nil
}

// SeedCampaign stores c as the campaign service leaves it: created as a
// draft at revision 1 and, when c.LiveVersion is set, activated at
// revision 2 with version c.LiveVersion (c's type, channel and
// highThroughput, its draft as the spec) activated at `activated` — the
// short way for the tests of the services that only read campaigns.
func (s *Store) SeedCampaign(t tenant.Tenant, c campaign.Campaign, activated time.Time) error {
	ctx := context.Background()
	draft := c
	draft.Status, draft.LiveVersion, draft.Revision = campaign.StatusDraft, 0, 1
	if err := s.CreateCampaign(ctx, t, draft); err != nil {
		return err
	}
	if c.LiveVersion == 0 {
		return nil
	}
	c.Revision = 2
	v := campaign.Version{CampaignID: c.ID, Number: c.LiveVersion, Type: c.Type, Channel: c.Channel, HighThroughput: c.HighThroughput,
		Spec: c.Draft, ActivatedAt: activated}
	return s.Activate(ctx, t, c, v, 1)
}

// GetCampaign implements campaign.Store.
func (s *Store) GetCampaign(_ context.Context, t tenant.Tenant, id string) (campaign.Campaign, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.campaigns[k(t, id)]
	if !ok {
		return c, notFound(fmt.Sprintf("campaign %q", id))
	}
	return clone(c), nil
}

// Activate implements campaign.Store.
func (s *Store) Activate(_ context.Context, t tenant.Tenant, c campaign.Campaign, v campaign.Version, prev int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.campaigns[k(t, c.ID)]
	vk := k(t, c.ID, fmt.Sprint(v.Number))
	if _, exists := s.versions[vk]; !ok || cur.Revision != prev || exists {
		return derrors.New(derrors.Precondition, "campaign %s changed while it was being activated", c.ID)
	}
	if id := v.Spec.ChannelConfigID; id != "" {
		// As in DynamoDB: the use is recorded on the configuration, which
		// must still exist, in the same step.
		if _, ok := s.configs[k(t, id)]; !ok {
			return derrors.New(derrors.Conflict, "channel configuration %q was deleted", id)
		}
		cu := s.configUse[k(t, id)]
		if cu == nil {
			cu = &configUse{}
			s.configUse[k(t, id)] = cu
		}
		if !slices.Contains(cu.campaigns, c.ID) {
			cu.campaigns = append(cu.campaigns, c.ID)
		}
		cu.seq++
	}
	s.campaigns[k(t, c.ID)] = clone(c)
	s.versions[vk] = clone(v)
	return nil
}

// UpdateCampaign implements campaign.Store.
func (s *Store) UpdateCampaign(_ context.Context, t tenant.Tenant, c campaign.Campaign, prev int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.campaigns[k(t, c.ID)]
	if !ok {
		return notFound(fmt.Sprintf("campaign %q", c.ID))
	}
	if cur.Revision != prev {
		return derrors.New(derrors.Precondition, "campaign %s was changed by someone else", c.ID)
	}
	s.campaigns[k(t, c.ID)] = clone(c)
	return nil
}

// GetVersion implements campaign.Store.
func (s *Store) GetVersion(_ context.Context, t tenant.Tenant, id string, n int) (campaign.Version, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.versions[k(t, id, fmt.Sprint(n))]
	if !ok {
		return v, notFound(fmt.Sprintf("campaign %q version %d", id, n))
	}
	return clone(v), nil
}

// ListCampaigns implements campaign.Store.
func (s *Store) ListCampaigns(_ context.Context, t tenant.Tenant, f campaign.ListFilter) (campaign.Page[campaign.Summary], error) {
	s.mu.Lock()
	var all []campaign.Campaign
	for key, c := range s.campaigns {
		if strings.HasPrefix(key, t.Key()+"#") {
			all = append(all, c)
		}
	}
	s.mu.Unlock()
	match := func(c campaign.Campaign) bool {
		return (f.Status == "" || c.Status == f.Status) && (f.Type == "" || c.Type == f.Type) &&
			(f.Channel == "" || c.Channel == f.Channel) && (f.Tag == "" || slices.Contains(c.Tags, f.Tag)) &&
			strings.HasPrefix(strings.ToLower(c.Name), f.NamePrefix)
	}
	page, err := pageOf(k(t, "CAMPS"), all, f.Limit, f.Cursor, func(c campaign.Campaign) string { return sortKey(c.CreatedAt, c.ID) }, match)
	if err != nil {
		return campaign.Page[campaign.Summary]{}, err
	}
	out := campaign.Page[campaign.Summary]{Next: page.Next, Items: []campaign.Summary{}}
	for _, c := range page.Items {
		sum := c.Summarize()
		sum.Tags = slices.Clone(sum.Tags) // not the stored campaign's
		out.Items = append(out.Items, sum)
	}
	return out, nil
}

func sortKey(at time.Time, id string) string {
	return at.UTC().Format("2006-01-02T15:04:05.000000000Z") + "#" + id
}

// pageOf sorts items of list by key, newest (largest) first, and returns
// those matching after the cursor, which is the list and the last key of
// the previous page: as in DynamoDB, a cursor of another list (another
// tenant's, or configurations' for campaigns) is refused.
func pageOf[T any](list string, items []T, limit int, cursor string, key func(T) string, match func(T) bool) (campaign.Page[T], error) {
	after := ""
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		rest, ok := strings.CutPrefix(string(b), list+"\n")
		if err != nil || !ok {
			return campaign.Page[T]{}, derrors.Validation(derrors.FieldError{Field: "cursor", Message: "is not a cursor this list issued"})
		}
		after = rest
	}
	slices.SortFunc(items, func(a, b T) int { return strings.Compare(key(b), key(a)) })
	out := campaign.Page[T]{Items: []T{}}
	for _, it := range items {
		if after != "" && key(it) >= after {
			continue
		}
		if !match(it) {
			continue
		}
		if len(out.Items) == limit {
			out.Next = base64.RawURLEncoding.EncodeToString([]byte(list + "\n" + key(out.Items[len(out.Items)-1])))
			break
		}
		out.Items = append(out.Items, it)
	}
	return out, nil
}

// DeleteCampaign implements campaign.Store.
func (s *Store) DeleteCampaign(_ context.Context, t tenant.Tenant, id string, prev int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.campaigns[k(t, id)]
	switch {
	case !ok:
		return notFound(fmt.Sprintf("campaign %q", id))
	case cur.Revision != prev:
		return derrors.New(derrors.Precondition, "campaign %s was changed by someone else", id)
	case cur.Status != campaign.StatusDraft:
		return derrors.New(derrors.Conflict, "campaign %s is %s; only a draft can be deleted", id, cur.Status)
	}
	delete(s.campaigns, k(t, id))
	return nil
}

// ListVersions implements campaign.Store.
func (s *Store) ListVersions(_ context.Context, t tenant.Tenant, id string, limit int, cursor string) (campaign.Page[campaign.VersionSummary], error) {
	s.mu.Lock()
	var all []campaign.VersionSummary
	for key, v := range s.versions {
		if strings.HasPrefix(key, k(t, id)+"#") {
			all = append(all, clone(v).Summarize())
		}
	}
	s.mu.Unlock()
	return pageOf("versions", all, limit, cursor, func(v campaign.VersionSummary) string { return fmt.Sprintf("%06d", v.Number) },
		func(campaign.VersionSummary) bool { return true })
}

// ExpireVersions implements campaign.Store.
func (s *Store) ExpireVersions(_ context.Context, t tenant.Tenant, id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.versionExpiry[k(t, id)] = at
	return nil
}

// VersionsExpireAt returns what ExpireVersions set for a campaign.
func (s *Store) VersionsExpireAt(t tenant.Tenant, id string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.versionExpiry[k(t, id)]
}

// ListConfigs implements campaign.Store.
func (s *Store) ListConfigs(_ context.Context, t tenant.Tenant, f campaign.ListFilter) (campaign.Page[campaign.ChannelConfig], error) {
	s.mu.Lock()
	var all []campaign.ChannelConfig
	for key, c := range s.configs {
		if strings.HasPrefix(key, t.Key()+"#") {
			all = append(all, clone(c))
		}
	}
	s.mu.Unlock()
	return pageOf(k(t, "CHCFGS"), all, f.Limit, f.Cursor, func(c campaign.ChannelConfig) string { return sortKey(c.CreatedAt, c.ID) },
		func(c campaign.ChannelConfig) bool {
			return (f.Channel == "" || c.Channel == f.Channel) && (f.Type == "" || c.Category == f.Type) &&
				strings.HasPrefix(strings.ToLower(c.Name), f.NamePrefix)
		})
}

// UpdateConfig implements campaign.Store.
func (s *Store) UpdateConfig(_ context.Context, t tenant.Tenant, c campaign.ChannelConfig, prev int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.configs[k(t, c.ID)]
	if !ok {
		return notFound(fmt.Sprintf("channel configuration %q", c.ID))
	}
	if cur.Revision != prev {
		return derrors.New(derrors.Precondition, "channel configuration %s was changed by someone else", c.ID)
	}
	// As in DynamoDB, the channel, category and creation time stay as
	// created.
	c.Channel, c.Category, c.CreatedAt = cur.Channel, cur.Category, cur.CreatedAt
	s.configs[k(t, c.ID)] = clone(c)
	return nil
}

// DeleteConfig implements campaign.Store.
func (s *Store) DeleteConfig(_ context.Context, t tenant.Tenant, id string, prev int, inUse func([]string) (string, error)) error {
	s.mu.Lock()
	cur, ok := s.configs[k(t, id)]
	var ids []string
	seq := 0
	if cu := s.configUse[k(t, id)]; cu != nil {
		ids, seq = slices.Clone(cu.campaigns), cu.seq
	}
	s.mu.Unlock()
	if !ok {
		return notFound(fmt.Sprintf("channel configuration %q", id))
	}
	if cur.Revision != prev {
		return derrors.New(derrors.Precondition, "channel configuration %s was changed by someone else", id)
	}
	user, err := inUse(ids)
	if err != nil {
		return err
	}
	if user != "" {
		return derrors.New(derrors.Conflict, "channel configuration %s is used by campaign %s, which is live or scheduled", id, user)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok = s.configs[k(t, id)]
	now := 0
	if cu := s.configUse[k(t, id)]; cu != nil {
		now = cu.seq
	}
	if !ok || cur.Revision != prev || now != seq {
		return derrors.New(derrors.Precondition, "channel configuration %s changed while it was being deleted; try again", id)
	}
	delete(s.configs, k(t, id))
	delete(s.configUse, k(t, id))
	return nil
}
