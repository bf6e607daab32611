package memory

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"time"
)

// Fingerprint digests everything the store holds, so a test can prove a
// refused request stored nothing: equal fingerprints, equal contents.
func (s *Store) Fingerprint() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	uses := map[string]any{}
	for k, u := range s.configUse {
		uses[k] = map[string]any{"campaigns": u.campaigns, "seq": u.seq}
	}
	snap := map[string]any{
		"keys": s.keys, "configs": s.configs, "campaigns": s.campaigns, "versions": s.versions,
		"profiles": s.profiles, "aliases": s.aliases, "suppressions": s.suppressions,
		"records": s.records, "executions": s.executions, "ledger": s.ledger,
		"configUse": uses, "versionExpiry": s.versionExpiry,
	}
	if d := s.aud; d != nil {
		members := map[string][]string{}
		for k, m := range d.members {
			members[k] = slices.Sorted(maps.Keys(m.set))
		}
		snap["audiences"], snap["members"], snap["audienceExecutions"] = d.audiences, members, d.executions
		snap["pace"], snap["scheduleRefs"], snap["recurrences"] = d.pace, d.refs, d.recurrences
	}
	if d := s.hooks; d != nil {
		hooks, deliveries := map[string]any{}, map[string]any{}
		for t, c := range d.configs {
			hooks[t.Key()] = c
		}
		for t, ds := range d.deliveries {
			deliveries[t.Key()] = ds
		}
		snap["webhooks"], snap["webhookDeliveries"] = hooks, deliveries
	}
	return digest(snap)
}

// digest is the SHA-256 of v's JSON (maps have sorted keys), or the
// encoding error, which then differs from every digest.
func digest(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "unencodable: " + err.Error()
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Fingerprint digests the enqueued jobs.
func (q *Queue) Fingerprint() string {
	q.mu.Lock()
	defer q.mu.Unlock()
	delays := make([]time.Duration, len(q.jobs))
	for i, j := range q.jobs {
		delays[i] = j.Delay
	}
	return digest(struct {
		Jobs   any
		Delays any
	}{q.jobs, delays})
}

// Fingerprint digests the schedules.
func (s *Scheduler) Fingerprint() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return digest(s.schedules)
}
