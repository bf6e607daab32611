// Package memory is an in-memory implementation of Herald's stores, queue
// and mailer: the hand-written fake behind unit tests and in-process
// benchmarks. It keeps the same contracts as the DynamoDB store (conditional
// creates, revision-guarded activation, ledger claims) so tests of the
// domain exercise the real rules.
package memory

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/tenant"
)

// Store keeps everything in maps keyed like the DynamoDB store.
type Store struct {
	mu         sync.Mutex
	keys       map[string]auth.Key
	configs    map[string]campaign.ChannelConfig
	campaigns  map[string]campaign.Campaign
	versions   map[string]campaign.Version
	profiles   map[string]profile.Profile
	records    map[string]execution.Record
	executions map[string]execution.Execution
	ledger     map[string]delivery.Entry
	// aud holds audiences, audience executions, pacing, schedule refs
	// and recurrences (audiences.go).
	aud *audienceData
}

var (
	_ auth.KeyStore   = (*Store)(nil)
	_ campaign.Store  = (*Store)(nil)
	_ profile.Store   = (*Store)(nil)
	_ execution.Store = (*Store)(nil)
	_ delivery.Ledger = (*Store)(nil)
)

// New returns an empty store.
func New() *Store {
	return &Store{
		keys: map[string]auth.Key{}, configs: map[string]campaign.ChannelConfig{},
		campaigns: map[string]campaign.Campaign{}, versions: map[string]campaign.Version{},
		profiles: map[string]profile.Profile{}, records: map[string]execution.Record{},
		executions: map[string]execution.Execution{}, ledger: map[string]delivery.Entry{},
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

func pkey(t tenant.Tenant, id profile.Identity) string { return k(t, id.Namespace, id.ID) }

// Put implements profile.Store.
func (s *Store) Put(_ context.Context, t tenant.Tenant, p profile.Profile) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.profiles[pkey(t, p.Identity())] = clone(p)
	return nil
}

// Get implements profile.Store.
func (s *Store) Get(_ context.Context, t tenant.Tenant, id profile.Identity) (profile.Profile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.profiles[pkey(t, id)]
	if !ok {
		return p, notFound("profile")
	}
	return clone(p), nil
}

// BatchGet implements profile.Store.
func (s *Store) BatchGet(_ context.Context, t tenant.Tenant, ids []profile.Identity) (map[profile.Identity]profile.Profile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[profile.Identity]profile.Profile, len(ids))
	for _, id := range ids {
		if p, ok := s.profiles[pkey(t, id)]; ok {
			out[id] = p
		}
	}
	return out, nil
}

// CreateIfAbsent implements profile.Store.
func (s *Store) CreateIfAbsent(_ context.Context, t tenant.Tenant, p profile.Profile) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.profiles[pkey(t, p.Identity())]; !ok {
		s.profiles[pkey(t, p.Identity())] = clone(p)
	}
	return nil
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

func lkey(t tenant.Tenant, e delivery.Entry) string {
	return k(t, e.ExecutionID, string(e.Channel), e.UserID)
}

// Claim implements delivery.Ledger.
func (s *Store) Claim(_ context.Context, t tenant.Tenant, e delivery.Entry) (delivery.Entry, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.ledger[lkey(t, e)]; ok {
		return old, false, nil
	}
	s.ledger[lkey(t, e)] = e
	return e, true, nil
}

// Finish implements delivery.Ledger.
func (s *Store) Finish(_ context.Context, t tenant.Tenant, e delivery.Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.ledger[lkey(t, e)]
	if !ok || old.State != delivery.Claimed || old.Token != e.Token {
		return derrors.New(derrors.Conflict, "ledger entry is no longer held by this claim")
	}
	s.ledger[lkey(t, e)] = e
	return nil
}

// Release implements delivery.Ledger.
func (s *Store) Release(_ context.Context, t tenant.Tenant, e delivery.Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.ledger[lkey(t, e)]; ok && old.State == delivery.Claimed && old.Token == e.Token {
		delete(s.ledger, lkey(t, e))
	}
	return nil
}

// Entries returns every ledger entry.
func (s *Store) Entries() []delivery.Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]delivery.Entry, 0, len(s.ledger))
	for _, e := range s.ledger {
		out = append(out, e)
	}
	return out
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

// Queue records enqueued jobs.
type Queue struct {
	mu   sync.Mutex
	jobs []delivery.Job
	// delays are the delays of EnqueueDelayed jobs (audiences.go).
	delays []time.Duration
	// Err, when set, is returned by Enqueue (and nothing is recorded).
	Err error
}

// Enqueue implements execution.Queue.
func (q *Queue) Enqueue(_ context.Context, jobs []delivery.Job) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.Err != nil {
		return q.Err
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
