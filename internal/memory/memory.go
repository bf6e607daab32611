// Package memory is an in-memory implementation of Herald's stores, queue
// and mailer: the hand-written fake behind unit tests and in-process
// benchmarks. It keeps the same contracts as the DynamoDB store (conditional
// creates, revision-guarded activation, ledger claims) so tests of the
// domain exercise the real rules.
package memory

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/suppression"
	"github.com/heraldhq/herald/internal/tenant"
)

// Store keeps everything in maps keyed like the DynamoDB store.
type Store struct {
	mu           sync.Mutex
	keys         map[string]auth.Key
	configs      map[string]campaign.ChannelConfig
	campaigns    map[string]campaign.Campaign
	versions     map[string]campaign.Version
	profiles     map[string]profile.Profile
	aliases      map[string]string // secondary identity key → primary key
	suppressions map[string]suppression.Entry
	records      map[string]execution.Record
	executions   map[string]execution.Execution
	ledger       map[string]delivery.Entry
	// addresses, tallies and parked are the ledger's other items
	// (ledger.go).
	addresses map[string]string
	tallies   map[string]map[string]delivery.Outcome
	parked    map[string]delivery.ParkedJob
	// configUse is, per configuration, the campaigns activated with it
	// and a counter bumped by every such activation.
	configUse map[string]*configUse
	// versionExpiry records ExpireVersions calls, per campaign.
	versionExpiry map[string]time.Time
	// aud holds audiences, audience executions, pacing, schedule refs
	// and recurrences (audiences.go).
	aud *audienceData
}

type configUse struct {
	campaigns []string
	seq       int
}

var (
	_ auth.KeyStore         = (*Store)(nil)
	_ campaign.Store        = (*Store)(nil)
	_ profile.Store         = (*Store)(nil)
	_ execution.Store       = (*Store)(nil)
	_ delivery.Ledger       = (*Store)(nil)
	_ suppression.Store     = (*Store)(nil)
	_ delivery.Suppressions = (*Store)(nil)
	_ delivery.Devices      = (*Store)(nil)
)

// New returns an empty store.
func New() *Store {
	return &Store{
		keys: map[string]auth.Key{}, configs: map[string]campaign.ChannelConfig{},
		campaigns: map[string]campaign.Campaign{}, versions: map[string]campaign.Version{},
		profiles: map[string]profile.Profile{}, aliases: map[string]string{},
		suppressions: map[string]suppression.Entry{}, records: map[string]execution.Record{},
		executions: map[string]execution.Execution{}, ledger: map[string]delivery.Entry{},
		addresses: map[string]string{}, tallies: map[string]map[string]delivery.Outcome{}, parked: map[string]delivery.ParkedJob{},
		configUse: map[string]*configUse{}, versionExpiry: map[string]time.Time{},
	}
}

func k(t tenant.Tenant, parts ...string) string {
	s := t.Key()
	for _, p := range parts {
		s += "#" + p
	}
	return s
}

func notFound(what string) error { return derrors.New(derrors.NotFound, "%s not found", what) }

// GetKey implements auth.KeyStore.
func (s *Store) GetKey(_ context.Context, hash string) (auth.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key, ok := s.keys[hash]
	if !ok {
		return auth.Key{}, notFound("api key")
	}
	return key, nil
}

// PutKey implements auth.KeyStore.
func (s *Store) PutKey(_ context.Context, hash string, key auth.Key) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[hash]; ok {
		return derrors.New(derrors.Conflict, "api key already exists")
	}
	s.keys[hash] = key
	return nil
}

// CreateConfig implements campaign.Store.
func (s *Store) CreateConfig(_ context.Context, t tenant.Tenant, c campaign.ChannelConfig) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.configs[k(t, c.ID)]; ok {
		return derrors.New(derrors.Conflict, "channel configuration %s already exists", c.ID)
	}
	s.configs[k(t, c.ID)] = c
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
	return c, nil
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
	return v, nil
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
	page, err := pageOf(all, f.Limit, f.Cursor, func(c campaign.Campaign) string { return sortKey(c.CreatedAt, c.ID) }, match)
	if err != nil {
		return campaign.Page[campaign.Summary]{}, err
	}
	out := campaign.Page[campaign.Summary]{Next: page.Next, Items: []campaign.Summary{}}
	for _, c := range page.Items {
		out.Items = append(out.Items, c.Summarize())
	}
	return out, nil
}

func sortKey(at time.Time, id string) string {
	return at.UTC().Format("2006-01-02T15:04:05.000000000Z") + "#" + id
}

// pageOf sorts items by key, newest (largest) first, and returns those
// matching after the cursor, which is the last key of the previous page.
func pageOf[T any](items []T, limit int, cursor string, key func(T) string, match func(T) bool) (campaign.Page[T], error) {
	after := ""
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil {
			return campaign.Page[T]{}, derrors.Validation(derrors.FieldError{Field: "cursor", Message: "is not a cursor this list issued"})
		}
		after = string(b)
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
			out.Next = base64.RawURLEncoding.EncodeToString([]byte(key(out.Items[len(out.Items)-1])))
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
	return pageOf(all, limit, cursor, func(v campaign.VersionSummary) string { return fmt.Sprintf("%06d", v.Number) },
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
	return pageOf(all, f.Limit, f.Cursor, func(c campaign.ChannelConfig) string { return sortKey(c.CreatedAt, c.ID) },
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

func pkey(t tenant.Tenant, id profile.Identity) string { return k(t, id.Namespace, id.ID) }

// resolve finds the primary key of the profile owning id (lock held).
func (s *Store) resolve(t tenant.Tenant, id profile.Identity) (string, bool) {
	if _, ok := s.profiles[pkey(t, id)]; ok {
		return pkey(t, id), true
	}
	if primary, ok := s.aliases[pkey(t, id)]; ok {
		return primary, true
	}
	return "", false
}

// put stores p and its identities (lock held), refusing an identity of
// another profile as the DynamoDB store does.
func (s *Store) put(t tenant.Tenant, p profile.Profile) error {
	me := pkey(t, p.Identity())
	if owner, ok := s.aliases[me]; ok && owner != me {
		return derrors.New(derrors.Conflict, "identity %s:%s belongs to another profile", p.Namespace, p.ID)
	}
	for _, id := range p.AllIdentities()[1:] {
		ik := pkey(t, id)
		if _, isProfile := s.profiles[ik]; isProfile {
			return derrors.New(derrors.Conflict, "identity %s:%s belongs to another profile", id.Namespace, id.ID)
		}
		if owner, ok := s.aliases[ik]; ok && owner != me {
			return derrors.New(derrors.Conflict, "identity %s:%s belongs to another profile", id.Namespace, id.ID)
		}
	}
	if old, ok := s.profiles[me]; ok {
		for _, id := range old.AllIdentities()[1:] {
			delete(s.aliases, pkey(t, id))
		}
	}
	for _, id := range p.AllIdentities()[1:] {
		s.aliases[pkey(t, id)] = me
	}
	s.profiles[me] = clone(p)
	return nil
}

// Put implements profile.Store.
func (s *Store) Put(_ context.Context, t tenant.Tenant, p profile.Profile) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.put(t, p)
}

// Get implements profile.Store.
func (s *Store) Get(_ context.Context, t tenant.Tenant, id profile.Identity) (profile.Profile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key, ok := s.resolve(t, id)
	if !ok {
		return profile.Profile{}, notFound("profile")
	}
	return clone(s.profiles[key]), nil
}

// BatchGet implements profile.Store.
func (s *Store) BatchGet(_ context.Context, t tenant.Tenant, ids []profile.Identity) (map[profile.Identity]profile.Profile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[profile.Identity]profile.Profile, len(ids))
	for _, id := range ids {
		if key, ok := s.resolve(t, id); ok {
			out[id] = clone(s.profiles[key])
		}
	}
	return out, nil
}

// CreateIfAbsent implements profile.Store.
func (s *Store) CreateIfAbsent(_ context.Context, t tenant.Tenant, p profile.Profile) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.resolve(t, p.Identity()); !ok {
		return s.put(t, p)
	}
	return nil
}

// Update implements profile.Store.
func (s *Store) Update(_ context.Context, t tenant.Tenant, id profile.Identity, fn func(*profile.Profile) error) (profile.Profile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key, ok := s.resolve(t, id)
	if !ok {
		return profile.Profile{}, notFound("profile")
	}
	p := clone(s.profiles[key])
	old := p.UpdatedAt
	if err := fn(&p); err != nil {
		return profile.Profile{}, err
	}
	if !p.UpdatedAt.After(old) {
		p.UpdatedAt = old.Add(time.Nanosecond)
	}
	if err := s.put(t, p); err != nil {
		return profile.Profile{}, err
	}
	return p, nil
}

// Delete implements profile.Store.
func (s *Store) Delete(_ context.Context, t tenant.Tenant, id profile.Identity) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	key, ok := s.resolve(t, id)
	if !ok {
		return notFound("profile")
	}
	for _, id := range s.profiles[key].AllIdentities()[1:] {
		delete(s.aliases, pkey(t, id))
	}
	delete(s.profiles, key)
	return nil
}

// PutBatch implements profile.Store.
func (s *Store) PutBatch(_ context.Context, t tenant.Tenant, ps []profile.Profile) []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = s.put(t, p)
	}
	return errs
}

// Profiles returns the number of stored profiles.
func (s *Store) Profiles() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.profiles)
}

func skey(t tenant.Tenant, ch suppression.Channel, addr string) string { return k(t, string(ch), addr) }

// PutSuppression implements suppression.Store.
func (s *Store) PutSuppression(_ context.Context, t tenant.Tenant, e suppression.Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.suppressions[skey(t, e.Channel, e.Address)] = e
	return nil
}

// AddSuppression implements suppression.Store.
func (s *Store) AddSuppression(_ context.Context, t tenant.Tenant, e suppression.Entry) (suppression.Entry, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.suppressions[skey(t, e.Channel, e.Address)]; ok {
		return old, false, nil
	}
	s.suppressions[skey(t, e.Channel, e.Address)] = e
	return e, true, nil
}

// GetSuppression implements suppression.Store and delivery.Suppressions.
func (s *Store) GetSuppression(_ context.Context, t tenant.Tenant, ch suppression.Channel, addr string) (suppression.Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.suppressions[skey(t, ch, addr)]
	if !ok {
		return e, notFound("suppression")
	}
	return e, nil
}

// DeleteSuppression implements suppression.Store.
func (s *Store) DeleteSuppression(_ context.Context, t tenant.Tenant, ch suppression.Channel, addr string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.suppressions[skey(t, ch, addr)]; !ok {
		return notFound("suppression")
	}
	delete(s.suppressions, skey(t, ch, addr))
	return nil
}

// ListSuppressions implements suppression.Store; the cursor is the
// base64 of the last key returned, as in the DynamoDB store.
func (s *Store) ListSuppressions(_ context.Context, t tenant.Tenant, ch suppression.Channel, limit int, cursor string) (suppression.Page, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	after := ""
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil {
			return suppression.Page{}, derrors.Validation(derrors.FieldError{Field: "cursor", Message: "is not a cursor this API returned"})
		}
		after = string(b)
	}
	var keys []string
	entries := map[string]suppression.Entry{}
	prefix := k(t) + "#"
	for key, e := range s.suppressions {
		if !strings.HasPrefix(key, prefix) || ch != "" && e.Channel != ch {
			continue
		}
		if sk := string(e.Channel) + "#" + e.Address; sk > after {
			keys = append(keys, sk)
			entries[sk] = e
		}
	}
	slices.Sort(keys)
	var p suppression.Page
	for i, sk := range keys {
		if i == limit {
			p.Next = base64.RawURLEncoding.EncodeToString([]byte(keys[i-1]))
			break
		}
		p.Items = append(p.Items, entries[sk])
	}
	return p, nil
}

// GetRecord implements execution.Store.
func (s *Store) GetRecord(_ context.Context, t tenant.Tenant, requestID string) (execution.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.records[k(t, requestID)]
	if !ok {
		return r, notFound("request")
	}
	return r, nil
}

// Begin implements execution.Store.
func (s *Store) Begin(_ context.Context, t tenant.Tenant, rec execution.Record, ex execution.Execution) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.records[k(t, rec.RequestID)]; ok {
		return derrors.New(derrors.Conflict, "request %q already exists", rec.RequestID)
	}
	s.records[k(t, rec.RequestID)] = rec
	s.executions[k(t, ex.ID)] = ex
	return nil
}

// MarkEnqueued implements execution.Store.
func (s *Store) MarkEnqueued(_ context.Context, t tenant.Tenant, requestID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.records[k(t, requestID)]
	r.Enqueued = true
	s.records[k(t, requestID)] = r
	return nil
}

// Executions returns the number of stored executions.
func (s *Store) Executions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.executions)
}

// clone deep-copies a value through JSON, so callers never share maps with
// the store (as with a real database).
func clone[T any](v T) T {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

// cloneDoc is clone for what the DynamoDB store keeps as a JSON document
// (audience executions, recurrences): numbers come back as json.Number,
// exact, as they do from there.
func cloneDoc[T any](v T) T {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out T
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		panic(err)
	}
	return out
}

// Queue records enqueued jobs.
type Queue struct {
	mu   sync.Mutex
	jobs []delivery.Job
	// delays are the delays of EnqueueDelayed jobs (audiences.go).
	delays []time.Duration
	// Err, when set, is returned by Enqueue (and nothing is recorded).
	Err error
}

// Enqueue implements execution.Queue. Like the SQS queue, it refuses a
// job whose encoding is over delivery.MaxJobSize (recording nothing).
func (q *Queue) Enqueue(_ context.Context, jobs []delivery.Job) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.Err != nil {
		return q.Err
	}
	for i, j := range jobs {
		b, err := delivery.EncodeJob(j)
		if err != nil {
			return fmt.Errorf("job %d: %w", i, err)
		}
		if len(b) > delivery.MaxJobSize {
			return fmt.Errorf("job %d is %d bytes, over the queue's limit of %d", i, len(b), delivery.MaxJobSize)
		}
	}
	q.jobs = append(q.jobs, jobs...)
	return nil
}

// Jobs returns the enqueued jobs.
func (q *Queue) Jobs() []delivery.Job {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]delivery.Job(nil), q.jobs...)
}

// Reset forgets the enqueued jobs.
func (q *Queue) Reset() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.jobs = q.jobs[:0]
}

// Mailer records sent email.
type Mailer struct {
	mu   sync.Mutex
	sent []delivery.Email
	// Fail, when set, decides the error for each email (nil sends).
	Fail func(delivery.Email) error
}

// SendEmail implements delivery.Mailer.
func (m *Mailer) SendEmail(_ context.Context, e delivery.Email) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Fail != nil {
		if err := m.Fail(e); err != nil {
			return "", err
		}
	}
	m.sent = append(m.sent, e)
	return fmt.Sprintf("msg-%d", len(m.sent)), nil
}

// Sent returns the sent email.
func (m *Mailer) Sent() []delivery.Email {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]delivery.Email(nil), m.sent...)
}

// SMSSender records text messages and answers opt-out checks.
type SMSSender struct {
	mu   sync.Mutex
	sent []delivery.SMS
	// OptedOutNumbers are numbers that opted out.
	OptedOutNumbers map[string]bool
	checks          int
	// Fail, when set, decides the error for each message (nil sends).
	Fail func(delivery.SMS) error
}

var _ delivery.SMSSender = (*SMSSender)(nil)

// SendSMS implements delivery.SMSSender.
func (m *SMSSender) SendSMS(_ context.Context, s delivery.SMS) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Fail != nil {
		if err := m.Fail(s); err != nil {
			return "", err
		}
	}
	m.sent = append(m.sent, s)
	return fmt.Sprintf("sms-%d", len(m.sent)), nil
}

// OptedOut implements delivery.SMSSender.
func (m *SMSSender) OptedOut(_ context.Context, phone string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.checks++
	return m.OptedOutNumbers[phone], nil
}

// Sent returns the sent messages.
func (m *SMSSender) Sent() []delivery.SMS {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]delivery.SMS(nil), m.sent...)
}

// Checks returns how many opt-out checks were made.
func (m *SMSSender) Checks() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.checks
}

// Push is one notification a Pusher published.
type Push struct {
	EndpointARN string
	Message     string
}

// Pusher keeps platform endpoints in memory and records publishes.
type Pusher struct {
	mu        sync.Mutex
	endpoints map[string]string // "appARN token" → endpoint ARN
	disabled  map[string]bool   // endpoint ARNs
	invalid   map[string]bool   // tokens the platform refuses
	sent      []Push
	calls     int
}

var _ delivery.Pusher = (*Pusher)(nil)

func (p *Pusher) init() {
	if p.endpoints == nil {
		p.endpoints, p.disabled, p.invalid = map[string]string{}, map[string]bool{}, map[string]bool{}
	}
}

// Disable marks the endpoint of token in appARN disabled (as SNS does
// when APNs or FCM reports the token dead).
func (p *Pusher) Disable(appARN, token string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.init()
	ep := p.endpoint(appARN, token)
	p.disabled[ep] = true
	return ep
}

// Refuse makes the platform refuse token at endpoint creation.
func (p *Pusher) Refuse(token string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.init()
	p.invalid[token] = true
}

// endpoint returns the endpoint of token in appARN, named as SNS names
// it: app/<PLATFORM>/<name> becomes endpoint/<PLATFORM>/<name>/<id>.
func (p *Pusher) endpoint(appARN, token string) string {
	key := appARN + " " + token
	if ep, ok := p.endpoints[key]; ok {
		return ep
	}
	ep := fmt.Sprintf("%s/%d", strings.Replace(appARN, ":app/", ":endpoint/", 1), len(p.endpoints)+1)
	p.endpoints[key] = ep
	return ep
}

// Endpoint implements delivery.Pusher.
func (p *Pusher) Endpoint(_ context.Context, appARN, token string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.init()
	p.calls++
	if p.invalid[token] {
		return "", fmt.Errorf("create endpoint: %w", delivery.ErrInvalidToken)
	}
	return p.endpoint(appARN, token), nil
}

// Push implements delivery.Pusher.
func (p *Pusher) Push(_ context.Context, endpointARN, message string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.init()
	p.calls++
	if p.disabled[endpointARN] {
		return "", fmt.Errorf("publish: %w", delivery.ErrInvalidToken)
	}
	p.sent = append(p.sent, Push{EndpointARN: endpointARN, Message: message})
	return fmt.Sprintf("push-%d", len(p.sent)), nil
}

// Sent returns the published notifications.
func (p *Pusher) Sent() []Push {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Push(nil), p.sent...)
}

// Calls returns how many provider calls were made.
func (p *Pusher) Calls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls
}
