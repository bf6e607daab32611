package memory

import (
	"context"
	"strings"

	"github.com/heraldhq/herald/internal/audience"
	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/erasure"
	"github.com/heraldhq/herald/internal/feedback"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/tenant"
)

var _ erasure.Store = (*Store)(nil)

// EraseSubject implements erasure.Store as the DynamoDB store does.
func (s *Store) EraseSubject(ctx context.Context, t tenant.Tenant, sub erasure.Subject, pseudonym func(profile.Identity) string, r *erasure.Result) error {
	s.mu.Lock()
	prefix := t.Key() + "#"
	owners := map[string]bool{} // <execution>#<tag> of the entries pseudonymised
	for key, e := range s.ledger {
		if !strings.HasPrefix(key, prefix) {
			continue
		}
		for _, id := range sub.Identities {
			if e.Namespace != id.Namespace || e.UserID != id.ID {
				continue
			}
			owners[e.ExecutionID+"#"+e.Tag] = true
			moved := e.Key.Recipient()
			moved.UserID = pseudonym(id)
			if m := s.tallies[k(t, e.ExecutionID)]; m != nil {
				if o, ok := m[delivery.Tag(t, e.Key.Recipient())]; ok {
					delete(m, delivery.Tag(t, e.Key.Recipient()))
					m[delivery.Tag(t, moved)] = o
				}
			}
			delete(s.ledger, key)
			if s.refs != nil {
				delete(s.refs, refKey(feedback.RefOf(e)))
			}
			e.UserID, e.MessageID, e.LegacyKey = pseudonym(id), "", false
			e.Tag = delivery.Tag(t, e.Key)
			s.putEntry(t, e)
			r.Pseudonymised[erasure.LedgerEntries]++
			break
		}
	}
	for key, owner := range s.addresses {
		if !strings.HasPrefix(key, prefix) {
			continue
		}
		rest := strings.TrimPrefix(key, prefix) // <execution>#<channel>#<digest>
		exec, _, _ := strings.Cut(rest, "#")
		match := owners[exec+"#"+owner]
		for _, a := range sub.Addresses {
			match = match || strings.HasSuffix(rest, "#"+string(a.Channel)+"#"+delivery.AddressDigest(campaign.Channel(a.Channel), a.Address))
		}
		if match {
			delete(s.addresses, key)
			r.Erased[erasure.RecipientLists]++
		}
	}
	fb := s.fb()
	for key := range fb.softBounces {
		for _, a := range sub.Addresses {
			if strings.HasPrefix(key, k(t, string(a.Channel), a.Address)+"#") {
				delete(fb.softBounces, key)
				r.Erased[erasure.SoftBounces]++
			}
		}
	}
	for id, d := range s.wh().deliveries[t] {
		if erasure.Mentions(d.Message, sub) {
			delete(s.wh().deliveries[t], id)
			r.Erased[erasure.WebhookDeliveries]++
		}
	}
	var auds []string
	for key, a := range s.ad().audiences {
		if strings.HasPrefix(key, prefix) {
			auds = append(auds, a.ID)
		}
	}
	s.eraseCapCounters(t, sub.Identities, r)
	s.mu.Unlock()

	execs := map[string]bool{}
	for owner := range owners {
		exec, _, _ := strings.Cut(owner, "#")
		execs[exec] = true
	}
	for exec := range execs {
		n, err := erasure.StripParked(ctx, s, t, exec, sub)
		r.Erased[erasure.ParkedRecipients] += n
		if err != nil {
			return err
		}
	}

	for _, a := range sub.Addresses {
		switch _, err := s.GetSuppression(ctx, t, a.Channel, a.Address); {
		case err == nil:
			r.Kept[erasure.Suppressions]++
		case !derrors.Is(err, derrors.NotFound):
			return err
		}
	}
	ms := make([]audience.Member, len(sub.Identities))
	for i, id := range sub.Identities {
		ms[i] = audience.Member{Namespace: id.Namespace, ID: id.ID}
	}
	for _, id := range auds {
		n, err := s.RemoveMembers(ctx, t, id, ms)
		if err != nil && !derrors.Is(err, derrors.NotFound) {
			return err
		}
		r.Erased[erasure.AudienceMemberships] += n
	}
	return nil
}
