package memory

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/audience"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/recurrence"
	"github.com/heraldhq/herald/internal/schedule"
	"github.com/heraldhq/herald/internal/tenant"
)

var (
	_ audience.Store                   = (*Store)(nil)
	_ execution.AudienceExecutionStore = (*Store)(nil)
	_ execution.Pacer                  = (*Store)(nil)
	_ recurrence.Store                 = (*Store)(nil)
	_ schedule.Scheduler               = (*Scheduler)(nil)
)

type audienceData struct {
	audiences   map[string]audience.Audience
	members     map[string]*memberList
	executions  map[string]execution.AudienceExecution
	pace        map[string]time.Time
	refs        map[string]map[string]execution.ScheduleRef
	recurrences map[string]map[string]recurrence.Recurrence
}

// memberList keeps an audience's members by sort key, sorted lazily.
type memberList struct {
	set    map[string]bool
	sorted []string
	dirty  bool
}

func (s *Store) ad() *audienceData {
	if s.aud == nil {
		s.aud = &audienceData{audiences: map[string]audience.Audience{}, members: map[string]*memberList{},
			executions: map[string]execution.AudienceExecution{}, pace: map[string]time.Time{},
			refs: map[string]map[string]execution.ScheduleRef{}, recurrences: map[string]map[string]recurrence.Recurrence{}}
	}
	return s.aud
}

func memberKey(m audience.Member) string { return m.Namespace + "#" + m.ID }

// CreateAudience implements audience.Store.
func (s *Store) CreateAudience(_ context.Context, t tenant.Tenant, a audience.Audience) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.ad()
	if _, ok := d.audiences[k(t, a.ID)]; ok {
		return derrors.New(derrors.Conflict, "audience %s already exists", a.ID)
	}
	d.audiences[k(t, a.ID)] = a
	d.members[k(t, a.ID)] = &memberList{set: map[string]bool{}}
	return nil
}

// GetAudience implements audience.Store.
func (s *Store) GetAudience(_ context.Context, t tenant.Tenant, id string) (audience.Audience, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.ad().audiences[k(t, id)]
	if !ok {
		return a, notFound(fmt.Sprintf("audience %q", id))
	}
	return a, nil
}

// Cursors are the last sort key read, base64url, as in DynamoDB: "AUD#"
// and an audience id for the audience list, "M#" and a member key for
// members, so neither list takes the other's.
const (
	audienceCursor = "AUD#"
	memberCursor   = "M#"
)

// after decodes cursor, which must carry prefix; "" starts the list.
func after(cursor, prefix string) (string, error) {
	if cursor == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	rest, ok := strings.CutPrefix(string(b), prefix)
	if err != nil || !ok {
		return "", derrors.Validation(derrors.FieldError{Field: "cursor", Message: "is not a cursor this API returned"})
	}
	return rest, nil
}

func cursorAt(prefix, last string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(prefix + last))
}

// ListAudiences implements audience.Store.
func (s *Store) ListAudiences(_ context.Context, t tenant.Tenant, cursor string, limit int) ([]audience.Audience, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	from, err := after(cursor, audienceCursor)
	if err != nil {
		return nil, "", err
	}
	prefix := k(t) + "#"
	var ids []string
	for key, a := range s.ad().audiences {
		if strings.HasPrefix(key, prefix) && a.ID > from {
			ids = append(ids, a.ID)
		}
	}
	slices.Sort(ids)
	next := ""
	if len(ids) > limit {
		ids, next = ids[:limit], cursorAt(audienceCursor, ids[limit-1])
	}
	out := make([]audience.Audience, len(ids))
	for i, id := range ids {
		out[i] = s.ad().audiences[k(t, id)]
	}
	return out, next, nil
}

// DeleteAudience implements audience.Store.
func (s *Store) DeleteAudience(_ context.Context, t tenant.Tenant, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.ad()
	if _, ok := d.audiences[k(t, id)]; !ok {
		return notFound(fmt.Sprintf("audience %q", id))
	}
	delete(d.audiences, k(t, id))
	delete(d.members, k(t, id))
	return nil
}

// AddMembers implements audience.Store.
func (s *Store) AddMembers(_ context.Context, t tenant.Tenant, id string, ms []audience.Member) (int, error) {
	return s.changeMembers(t, id, ms, true)
}

// RemoveMembers implements audience.Store.
func (s *Store) RemoveMembers(_ context.Context, t tenant.Tenant, id string, ms []audience.Member) (int, error) {
	return s.changeMembers(t, id, ms, false)
}

func (s *Store) changeMembers(t tenant.Tenant, id string, ms []audience.Member, add bool) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.ad()
	a, ok := d.audiences[k(t, id)]
	if !ok {
		return 0, notFound(fmt.Sprintf("audience %q", id))
	}
	l := d.members[k(t, id)]
	n := 0
	for _, m := range ms {
		mk := memberKey(m)
		if l.set[mk] == add {
			continue
		}
		n++
		if add {
			l.set[mk] = true
		} else {
			delete(l.set, mk)
		}
		l.dirty = true
	}
	if add {
		a.MemberCount += int64(n)
	} else {
		a.MemberCount -= int64(n)
	}
	if n > 0 {
		// As in DynamoDB, a change stamps the audience with the time.
		a.UpdatedAt = time.Now().UTC()
	}
	d.audiences[k(t, id)] = a
	return n, nil
}

// Members implements audience.Store.
func (s *Store) Members(_ context.Context, t tenant.Tenant, id, cursor string, limit int) (audience.Page, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	from, err := after(cursor, memberCursor)
	if err != nil {
		return audience.Page{}, err
	}
	l, ok := s.ad().members[k(t, id)]
	if !ok {
		// As in DynamoDB: an unknown (or deleted) audience has no
		// members; callers ask GetAudience whether it exists.
		return audience.Page{Members: []audience.Member{}}, nil
	}
	if l.dirty {
		l.sorted = l.sorted[:0]
		for mk := range l.set {
			l.sorted = append(l.sorted, mk)
		}
		slices.Sort(l.sorted)
		l.dirty = false
	}
	i := sort.SearchStrings(l.sorted, from)
	if i < len(l.sorted) && l.sorted[i] == from {
		i++
	}
	end := min(i+limit, len(l.sorted))
	p := audience.Page{Members: make([]audience.Member, 0, end-i)}
	for _, mk := range l.sorted[i:end] {
		ns, uid, _ := strings.Cut(mk, "#")
		p.Members = append(p.Members, audience.Member{Namespace: ns, ID: uid})
	}
	if end < len(l.sorted) {
		p.Next = cursorAt(memberCursor, l.sorted[end-1])
	}
	return p, nil
}

// BeginAudience implements execution.AudienceExecutionStore.
func (s *Store) BeginAudience(_ context.Context, t tenant.Tenant, rec execution.Record, ex execution.AudienceExecution) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.records[k(t, rec.RequestID)]; ok {
		return derrors.New(derrors.Conflict, "request %q already exists", rec.RequestID)
	}
	s.records[k(t, rec.RequestID)] = rec
	s.ad().executions[k(t, ex.ID)] = cloneDoc(ex)
	return nil
}

// GetAudienceExecution implements execution.AudienceExecutionStore.
func (s *Store) GetAudienceExecution(_ context.Context, t tenant.Tenant, id string) (execution.AudienceExecution, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ex, ok := s.ad().executions[k(t, id)]
	if !ok {
		return ex, notFound(fmt.Sprintf("audience execution %q", id))
	}
	return cloneDoc(ex), nil
}

// SetAudienceState implements execution.AudienceExecutionStore.
func (s *Store) SetAudienceState(_ context.Context, t tenant.Tenant, id string, from []string, to string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ex, ok := s.ad().executions[k(t, id)]
	if !ok {
		return notFound(fmt.Sprintf("audience execution %q", id))
	}
	if !slices.Contains(from, ex.State) {
		return derrors.New(derrors.Conflict, "audience execution %s is %s", id, ex.State)
	}
	ex.State = to
	s.ad().executions[k(t, id)] = ex
	return nil
}

// AcquireLease implements execution.AudienceExecutionStore.
func (s *Store) AcquireLease(_ context.Context, t tenant.Tenant, id, token string, now, until time.Time) (execution.AudienceExecution, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ex, ok := s.ad().executions[k(t, id)]
	switch {
	case !ok:
		return ex, notFound(fmt.Sprintf("audience execution %q", id))
	case ex.State != execution.StateRunning:
		return ex, derrors.New(derrors.Conflict, "audience execution %s is %s", id, ex.State)
	case ex.LeaseToken != "" && ex.LeaseToken != token && now.Before(ex.LeaseUntil):
		return ex, derrors.New(derrors.Conflict, "audience execution %s is being fanned out", id)
	}
	ex.LeaseToken, ex.LeaseUntil = token, until
	s.ad().executions[k(t, id)] = ex
	return cloneDoc(ex), nil
}

// SaveProgress implements execution.AudienceExecutionStore.
func (s *Store) SaveProgress(_ context.Context, t tenant.Tenant, ex execution.AudienceExecution) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.ad().executions[k(t, ex.ID)]
	if !ok || cur.State != execution.StateRunning || cur.LeaseToken != ex.LeaseToken {
		return derrors.New(derrors.Conflict, "audience execution %s changed meanwhile", ex.ID)
	}
	s.ad().executions[k(t, ex.ID)] = ex // the context is not mutated by the fan-out
	return nil
}

// RecordOutcomes implements execution.AudienceExecutionStore.
func (s *Store) RecordOutcomes(_ context.Context, t tenant.Tenant, entries []delivery.Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range entries {
		s.putEntry(t, e)
	}
	return nil
}

// CountOutcomes implements execution.AudienceExecutionStore from the counters.
func (s *Store) CountOutcomes(ctx context.Context, t tenant.Tenant, executionID string) (map[delivery.Outcome]int64, int64, error) {
	counts, err := s.Counts(ctx, t, executionID)
	return counts, 0, err
}

// PutScheduleRef implements execution.AudienceExecutionStore.
func (s *Store) PutScheduleRef(_ context.Context, t tenant.Tenant, campaignID string, r execution.ScheduleRef) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.ad().refs[k(t, campaignID)]
	if m == nil {
		m = map[string]execution.ScheduleRef{}
		s.ad().refs[k(t, campaignID)] = m
	}
	m[r.Name] = r
	return nil
}

// DeleteScheduleRef implements execution.AudienceExecutionStore.
func (s *Store) DeleteScheduleRef(_ context.Context, t tenant.Tenant, campaignID, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.ad().refs[k(t, campaignID)], name)
	return nil
}

// ScheduleRefs implements execution.AudienceExecutionStore.
func (s *Store) ScheduleRefs(_ context.Context, t tenant.Tenant, campaignID string) ([]execution.ScheduleRef, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []execution.ScheduleRef
	for _, r := range s.ad().refs[k(t, campaignID)] {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b execution.ScheduleRef) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Reserve implements execution.Pacer.
func (s *Store) Reserve(_ context.Context, t tenant.Tenant, campaignID string, want, rate int, now, limit time.Time) (time.Time, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	start := s.ad().pace[k(t, campaignID)]
	if start.Before(now) {
		start = now
	}
	got := min(int64(want), int64(limit.Sub(start))*int64(rate)/int64(time.Second))
	if got <= 0 {
		return start, 0, nil
	}
	s.ad().pace[k(t, campaignID)] = start.Add(time.Duration(got * int64(time.Second) / int64(rate)))
	return start, int(got), nil
}

// PutRecurrence implements recurrence.Store.
func (s *Store) PutRecurrence(_ context.Context, t tenant.Tenant, r recurrence.Recurrence) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.ad().recurrences[k(t, r.CampaignID)]
	if m == nil {
		m = map[string]recurrence.Recurrence{}
		s.ad().recurrences[k(t, r.CampaignID)] = m
	}
	if _, ok := m[r.ID]; ok {
		return derrors.New(derrors.Conflict, "recurrence %s already exists", r.ID)
	}
	m[r.ID] = cloneDoc(r)
	return nil
}

// GetRecurrence implements recurrence.Store.
func (s *Store) GetRecurrence(_ context.Context, t tenant.Tenant, campaignID, id string) (recurrence.Recurrence, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.ad().recurrences[k(t, campaignID)][id]
	if !ok {
		return r, notFound(fmt.Sprintf("recurrence %q", id))
	}
	return cloneDoc(r), nil
}

// ListRecurrences implements recurrence.Store.
func (s *Store) ListRecurrences(_ context.Context, t tenant.Tenant, campaignID string) ([]recurrence.Recurrence, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []recurrence.Recurrence
	for _, r := range s.ad().recurrences[k(t, campaignID)] {
		out = append(out, cloneDoc(r))
	}
	slices.SortFunc(out, func(a, b recurrence.Recurrence) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// DeleteRecurrence implements recurrence.Store.
func (s *Store) DeleteRecurrence(_ context.Context, t tenant.Tenant, campaignID, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.ad().recurrences[k(t, campaignID)][id]; !ok {
		return notFound(fmt.Sprintf("recurrence %q", id))
	}
	delete(s.ad().recurrences[k(t, campaignID)], id)
	return nil
}

// RecordFiring implements recurrence.Store.
func (s *Store) RecordFiring(_ context.Context, t tenant.Tenant, campaignID, id string, f recurrence.Firing) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.ad().recurrences[k(t, campaignID)][id]
	if !ok || (r.LastFiring != nil && !r.LastFiring.ScheduledAt.Before(f.ScheduledAt)) {
		return nil
	}
	r.LastFiring = &f
	s.ad().recurrences[k(t, campaignID)][id] = r
	return nil
}

// Scheduler records schedules as EventBridge Scheduler would keep them.
type Scheduler struct {
	mu        sync.Mutex
	schedules map[string]schedule.Schedule
	// Err, when set, is returned by CreateSchedule.
	Err error
}

// CreateSchedule implements schedule.Scheduler.
func (s *Scheduler) CreateSchedule(_ context.Context, sc schedule.Schedule) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	if s.schedules == nil {
		s.schedules = map[string]schedule.Schedule{}
	}
	if _, ok := s.schedules[sc.Name]; !ok {
		s.schedules[sc.Name] = sc
	}
	return nil
}

// DeleteSchedule implements schedule.Scheduler.
func (s *Scheduler) DeleteSchedule(_ context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.schedules, name)
	return nil
}

// Schedules returns the stored schedules, by name.
func (s *Scheduler) Schedules() map[string]schedule.Schedule {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]schedule.Schedule, len(s.schedules))
	for n, sc := range s.schedules {
		out[n] = sc
	}
	return out
}
