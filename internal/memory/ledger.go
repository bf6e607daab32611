package memory

import (
	"context"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/recurrence"
	"github.com/heraldhq/herald/internal/status"
	"github.com/heraldhq/herald/internal/tally"
	"github.com/heraldhq/herald/internal/tenant"
)

var (
	_ delivery.Ledger     = (*Store)(nil)
	_ delivery.Parking    = (*Store)(nil)
	_ delivery.ParkedJobs = (*Store)(nil)
	_ status.Store        = (*Store)(nil)
)

// lkey keys a ledger entry like the DynamoDB store: namespace included;
// an entry under the earlier key (LegacyKey) has none.
func lkey(t tenant.Tenant, e delivery.Entry) string {
	if e.LegacyKey {
		return k(t, e.ExecutionID, "L", string(e.Channel), url.PathEscape(e.UserID), e.Device)
	}
	return k(t, e.ExecutionID, "R", url.PathEscape(e.Namespace), url.PathEscape(e.UserID), string(e.Channel), e.Device)
}

func (s *Store) legacy(t tenant.Tenant, e delivery.Entry) (delivery.Entry, bool) {
	if !e.Legacy {
		return delivery.Entry{}, false
	}
	e.LegacyKey = true
	old, ok := s.ledger[lkey(t, e)]
	return old, ok
}

// PutLegacyEntry stores e under the key entries had before LedgerV2 (for
// tests of the upgrade).
func (s *Store) PutLegacyEntry(t tenant.Tenant, e delivery.Entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.LegacyKey = true
	if e.State == delivery.Claimed {
		e.InFlight, e.AttemptAt = true, e.ClaimedAt
	}
	s.putEntry(t, e)
}

// Claim implements delivery.Ledger.
func (s *Store) Claim(_ context.Context, t tenant.Tenant, e delivery.Entry) (delivery.Entry, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.legacy(t, e); ok {
		return old, false, nil
	}
	if old, ok := s.ledger[lkey(t, e)]; ok {
		return old, old.State == delivery.Claimed && old.Token == e.Token, nil
	}
	e.InFlight = false
	s.putEntry(t, e)
	return e, true, nil
}

// ClaimAndStart implements delivery.Ledger.
func (s *Store) ClaimAndStart(_ context.Context, t tenant.Tenant, e delivery.Entry, addr string, cw *delivery.CapWrite) (delivery.ClaimResult, error) {
	if e.Legacy || e.LegacyKey {
		return delivery.ClaimTaken, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	akey := k(t, e.ExecutionID, string(e.Channel), addr)
	if cur, ok := s.addresses[akey]; ok && cur != e.Tag {
		return delivery.ClaimTaken, nil
	}
	if _, ok := s.ledger[lkey(t, e)]; ok {
		return delivery.ClaimTaken, nil
	}
	if cw != nil && s.capData().counters[capCounterKey{t, cw.Key}].Rev != cw.Counter.Rev {
		return delivery.CapChanged, nil
	}
	s.addresses[akey] = e.Tag
	e.State, e.InFlight = delivery.Claimed, true
	s.putEntry(t, e)
	if cw != nil {
		s.putCapCounter(t, cw.Key, cw.Counter)
	}
	return delivery.ClaimStarted, nil
}

// Start implements delivery.Ledger.
func (s *Store) Start(_ context.Context, t tenant.Tenant, e delivery.Entry, from string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.ledger[lkey(t, e)]
	e.State, e.InFlight = delivery.Claimed, true
	if ok && old.Token == e.Token && old.State == e.State && old.InFlight && old.Attempts == e.Attempts {
		return nil // a retry of a write that landed
	}
	if !ok || old.State != delivery.Claimed || old.Token != from || old.InFlight {
		return derrors.New(derrors.Conflict, "the claim is held by another attempt")
	}
	s.putEntry(t, e)
	return nil
}

// Finish implements delivery.Ledger.
func (s *Store) Finish(_ context.Context, t tenant.Tenant, e delivery.Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.ledger[lkey(t, e)]
	if ok && old.Token == e.Token && old.State == e.State && old.Outcome == e.Outcome && old.InFlight == e.InFlight && old.Attempts == e.Attempts {
		return nil // a retry of a write that landed
	}
	if !ok || old.State != delivery.Claimed || old.Token != e.Token {
		return derrors.New(derrors.Conflict, "ledger entry is no longer held by this claim")
	}
	s.putEntry(t, e)
	return nil
}

// Release implements delivery.Ledger.
func (s *Store) Release(ctx context.Context, t tenant.Tenant, e delivery.Entry) error {
	e.State, e.InFlight = delivery.Claimed, false
	return s.Finish(ctx, t, e)
}

// Close implements delivery.Ledger.
func (s *Store) Close(_ context.Context, t tenant.Tenant, e delivery.Entry) (delivery.Entry, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !e.LegacyKey {
		if old, ok := s.legacy(t, e); ok && (old.State == delivery.Done || old.InFlight) {
			return old, false, nil
		}
	}
	if old, ok := s.ledger[lkey(t, e)]; ok && (old.State == delivery.Done || old.InFlight) {
		return old, false, nil
	}
	s.putEntry(t, e)
	return e, true, nil
}

// Retry implements delivery.Ledger.
func (s *Store) Retry(_ context.Context, t tenant.Tenant, e delivery.Entry, was delivery.Outcome) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.ledger[lkey(t, e)]
	if !ok || old.State != delivery.Done || old.Outcome != was {
		return derrors.New(derrors.Conflict, "the entry's outcome changed")
	}
	e.State, e.Outcome, e.InFlight, e.FinishedAt, e.MessageID = delivery.Claimed, "", false, time.Time{}, ""
	s.putEntry(t, e)
	return nil
}

// Reopen implements delivery.Ledger.
func (s *Store) Reopen(_ context.Context, t tenant.Tenant, e delivery.Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.ledger[lkey(t, e)]
	if !ok || old.State != delivery.Done || old.Outcome != e.Outcome {
		return derrors.New(derrors.Conflict, "the entry's outcome changed")
	}
	delete(s.ledger, lkey(t, e))
	return nil
}

// ClaimAddress implements delivery.Ledger.
func (s *Store) ClaimAddress(_ context.Context, t tenant.Tenant, exec string, ch campaign.Channel, addr, owner string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := k(t, exec, string(ch), addr)
	if cur, ok := s.addresses[key]; ok {
		return cur, nil
	}
	s.addresses[key] = owner
	return owner, nil
}

// Entries implements delivery.Ledger.
func (s *Store) Entries(_ context.Context, t tenant.Tenant, key delivery.Key) ([]delivery.Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []delivery.Entry
	for _, e := range s.sortedLedger(t, key.ExecutionID) {
		if e.UserID == key.UserID && e.Channel == key.Channel && (e.LegacyKey && key.Namespace != "" || e.Namespace == key.Namespace) {
			out = append(out, e)
		}
	}
	return out, nil
}

// sortedLedger returns an execution's entries by key.
func (s *Store) sortedLedger(t tenant.Tenant, exec string) []delivery.Entry {
	prefix := k(t, exec) + "#"
	var keys []string
	for key := range s.ledger {
		if strings.HasPrefix(key, prefix) {
			keys = append(keys, key)
		}
	}
	sort.Strings(keys)
	out := make([]delivery.Entry, len(keys))
	for i, key := range keys {
		out[i] = s.ledger[key]
	}
	return out
}

// Tally implements delivery.Ledger (shards are irrelevant in memory).
func (s *Store) Tally(ctx context.Context, t tenant.Tenant, exec string, shard int, tag string, o delivery.Outcome, label string) error {
	return s.TallyMany(ctx, t, exec, shard, []delivery.Count{{Tag: tag, Outcome: o, Label: label}})
}

// TallyMany implements delivery.Ledger.
func (s *Store) TallyMany(_ context.Context, t tenant.Tenant, exec string, _ int, counts []delivery.Count) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := k(t, exec)
	m := s.tallies[key]
	if m == nil {
		m = map[string]string{}
		s.tallies[key] = m
	}
	d := tally.Delta{Outcomes: map[string]int64{}}
	for _, c := range counts {
		val, cur := delivery.CountedValue(c.Outcome, c.Label), m[c.Tag]
		if cur == val {
			continue
		}
		moved(&d, cur, val)
		if c.Outcome == "" {
			delete(m, c.Tag)
		} else {
			m[c.Tag] = val
		}
	}
	// The table stream's part: the memory store has none, so the
	// recipients' moves go straight to the campaign's counters, each
	// variant's count beside its outcome's, in the current hour.
	if campaignID, ok := s.campaignOf(t, exec); ok && !d.Zero() {
		s.addOutcomes(t, campaignID, time.Now(), nonZero(d))
	}
	return nil
}

// Counted implements delivery.Ledger.
func (s *Store) Counted(_ context.Context, t tenant.Tenant, exec string, _ int, tags []string) (map[string]delivery.Outcome, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]delivery.Outcome{}
	for _, tag := range tags {
		if v, ok := s.tallies[k(t, exec)][tag]; ok {
			out[tag], _ = delivery.SplitCounted(v)
		}
	}
	return out, nil
}

// Counts implements status.Store.
func (s *Store) Counts(_ context.Context, t tenant.Tenant, exec string) (map[delivery.Outcome]int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[delivery.Outcome]int64{}
	for _, v := range s.tallies[k(t, exec)] {
		o, _ := delivery.SplitCounted(v)
		out[o]++
	}
	return out, nil
}

// VariantCounts implements status.Store.
func (s *Store) VariantCounts(_ context.Context, t tenant.Tenant, exec string) (map[string]int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int64{}
	for _, v := range s.tallies[k(t, exec)] {
		if o, label := delivery.SplitCounted(v); label != "" {
			out[delivery.VariantCount(label, string(o))]++
		}
	}
	return out, nil
}

// Summary implements status.Store.
func (s *Store) Summary(_ context.Context, t tenant.Tenant, exec string) (status.Summary, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ax, ok := s.ad().executions[k(t, exec)]; ok {
		return status.Summary{ID: ax.ID, Kind: "audience", CampaignID: ax.CampaignID, Version: ax.Version, CreatedAt: ax.CreatedAt,
			Recipients: ax.Targeted, Settled: ax.State == execution.StateFannedOut, RecurrenceID: recurrence.Of(ax),
			QueuedBehind: ax.QueuedBehind, Outside: map[delivery.Outcome]int64{delivery.ExcludedRateWindow: ax.WindowExcluded}}, nil
	}
	ex, ok := s.executions[k(t, exec)]
	if !ok {
		return status.Summary{}, derrors.New(derrors.NotFound, "execution %q not found", exec)
	}
	return status.Summary{ID: ex.ID, Kind: ex.Kind, CampaignID: ex.CampaignID, Version: ex.Version, CreatedAt: ex.CreatedAt,
		Recipients: int64(ex.RecipientCount), Settled: true}, nil
}

// CampaignExecutions implements status.Store; the cursor is the index of
// the next execution.
func (s *Store) CampaignExecutions(_ context.Context, t tenant.Tenant, campaignID, cursor string, limit int) ([]string, string, error) {
	s.mu.Lock()
	type item struct {
		id      string
		created time.Time
	}
	var all []item
	prefix := k(t) + "#"
	for key, ex := range s.executions {
		if strings.HasPrefix(key, prefix) && ex.CampaignID == campaignID {
			all = append(all, item{ex.ID, ex.CreatedAt})
		}
	}
	for key, ex := range s.ad().executions {
		if strings.HasPrefix(key, prefix) && ex.CampaignID == campaignID {
			all = append(all, item{ex.ID, ex.CreatedAt})
		}
	}
	s.mu.Unlock()
	sort.Slice(all, func(i, j int) bool {
		if !all[i].created.Equal(all[j].created) {
			return all[i].created.After(all[j].created)
		}
		return all[i].id < all[j].id
	})
	from := 0
	if cursor != "" {
		n, err := strconv.Atoi(cursor)
		if err != nil || n < 0 || n > len(all) {
			return nil, "", derrors.Validation(derrors.FieldError{Field: "cursor", Message: "is not a cursor this API returned"})
		}
		from = n
	}
	to := min(from+limit, len(all))
	ids := make([]string, 0, to-from)
	for _, it := range all[from:to] {
		ids = append(ids, it.id)
	}
	next := ""
	if to < len(all) {
		next = strconv.Itoa(to)
	}
	return ids, next, nil
}

// Page implements status.Store; the cursor is the index of the next
// entry.
func (s *Store) Page(_ context.Context, t tenant.Tenant, exec string, q status.Query) ([]delivery.Entry, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := s.sortedLedger(t, exec)
	start := 0
	if q.Cursor != "" {
		n := 0
		for _, c := range q.Cursor {
			if c < '0' || c > '9' {
				return nil, "", derrors.Validation(derrors.FieldError{Field: "cursor", Message: "is not a cursor of this list"})
			}
			n = n*10 + int(c-'0')
		}
		start = min(n, len(all))
	}
	end := min(start+max(q.Limit, 1), len(all))
	var out []delivery.Entry
	for _, e := range all[start:end] {
		if matches(e, q.Outcome) {
			out = append(out, e)
		}
	}
	next := ""
	if end < len(all) {
		next = itoa(end)
	}
	return out, next, nil
}

func matches(e delivery.Entry, f string) bool {
	switch {
	case f == "":
		return true
	case f == "pending":
		return e.State == delivery.Claimed
	case e.State != delivery.Done:
		return false
	case strings.Contains(f, ":"):
		return string(e.Outcome) == f
	}
	return e.Outcome.Kind() == f
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// Park implements delivery.Parking.
func (s *Store) Park(_ context.Context, t tenant.Tenant, p delivery.ParkedJob) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.parked[k(t, p.Job.ExecutionID, p.ID)] = clone(p)
	return nil
}

// Parked implements delivery.Parking.
func (s *Store) Parked(_ context.Context, t tenant.Tenant, exec string) ([]delivery.ParkedJob, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []delivery.ParkedJob
	for key, p := range s.parked {
		if strings.HasPrefix(key, k(t, exec)+"#") {
			out = append(out, clone(p))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ParkedAt.Before(out[j].ParkedAt) })
	return out, nil
}

// ParkedJob implements delivery.ParkedJobs.
func (s *Store) ParkedJob(_ context.Context, t tenant.Tenant, exec, id string) (delivery.ParkedJob, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.parked[k(t, exec, id)]
	if !ok {
		return delivery.ParkedJob{}, derrors.New(derrors.NotFound, "parked job %s not found", id)
	}
	return clone(p), nil
}

// Unpark implements delivery.Parking.
func (s *Store) Unpark(_ context.Context, t tenant.Tenant, exec, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.parked, k(t, exec, id))
	return nil
}

// AllEntries returns every ledger entry.
func (s *Store) AllEntries() []delivery.Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]delivery.Entry, 0, len(s.ledger))
	for _, e := range s.ledger {
		out = append(out, e)
	}
	return out
}
