package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/capping"
	"github.com/heraldhq/herald/internal/derrors"
)

// FrequencyCaps runs the frequency cap store contract (capping.Store):
// rule sets, and counters written only on the revision read — the
// property capping.Service's concurrency rests on, checked here with 20
// reservations at once. newStore returns a fresh, empty store.
func FrequencyCaps(t *testing.T, newStore func(t *testing.T) capping.Store) {
	ctx := context.Background()
	ann := capping.Key{Channel: campaign.Email, Namespace: "email", UserID: "ann@example.com"}
	sorted := func(c capping.Counter) capping.Counter {
		slices.SortFunc(c.Slots, func(a, b capping.Slot) int { return strings.Compare(a.Tag, b.Tag) })
		return c
	}

	t.Run("rule sets read back as stored, per tenant, and storing none removes them", func(t *testing.T) {
		s := newStore(t)
		rs, err := s.FrequencyCaps(ctx, acme)
		if err != nil || len(rs.Rules) != 0 {
			t.Fatalf("FrequencyCaps of a new tenant = %+v, %v; want no rules", rs, err)
		}
		want := capping.RuleSet{UpdatedAt: t0, Rules: []capping.Rule{
			{Channel: campaign.Email, Limit: 3, Window: capping.Rolling7d},
			{Channel: campaign.Email, Limit: 1, Window: capping.Rolling24h},
			{Channel: campaign.SMS, Limit: 10, Window: capping.CalendarMonth},
		}}
		if err := s.PutFrequencyCaps(ctx, acme, want); err != nil {
			t.Fatal(err)
		}
		got, err := s.FrequencyCaps(ctx, acme)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("FrequencyCaps (-want +got):\n%s", diff)
		}
		if o, err := s.FrequencyCaps(ctx, other); err != nil || len(o.Rules) != 0 {
			t.Errorf("another tenant's rules = %+v, %v; want none", o, err)
		}
		if err := s.PutFrequencyCaps(ctx, acme, capping.RuleSet{UpdatedAt: t0}); err != nil {
			t.Fatal(err)
		}
		if got, err := s.FrequencyCaps(ctx, acme); err != nil || len(got.Rules) != 0 {
			t.Errorf("FrequencyCaps after storing none = %+v, %v; want none", got, err)
		}
	})
	t.Run("an invalid rule set is refused", func(t *testing.T) {
		s := newStore(t)
		err := s.PutFrequencyCaps(ctx, acme, capping.RuleSet{Rules: []capping.Rule{{Channel: "fax", Limit: 1, Window: capping.Rolling24h}}})
		wantKind(t, "PutFrequencyCaps(fax)", err, derrors.Invalid)
	})
	t.Run("a counter is written only on the revision read", func(t *testing.T) {
		s := newStore(t)
		c, err := s.CapCounter(ctx, acme, ann)
		if err != nil || c.Rev != 0 || len(c.Slots) != 0 {
			t.Fatalf("CapCounter of a new profile = %+v, %v; want revision 0 and no slots", c, err)
		}
		at := t0.Add(1234567 * time.Microsecond)
		first := capping.Counter{Rev: 0, ExpiresAt: t0.Add(8 * 24 * time.Hour), Slots: []capping.Slot{{Tag: "b1", At: at}}}
		wantKind(t, "PutCapCounter(rev 0)", s.PutCapCounter(ctx, acme, ann, first), noError)
		wantKind(t, "PutCapCounter(rev 0) again", s.PutCapCounter(ctx, acme, ann, first), derrors.Conflict)
		got, err := s.CapCounter(ctx, acme, ann)
		if err != nil {
			t.Fatal(err)
		}
		want := capping.Counter{Rev: 1, ExpiresAt: first.ExpiresAt, Slots: []capping.Slot{{Tag: "b1", At: at.Truncate(time.Millisecond)}}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("CapCounter after one write (-want +got):\n%s", diff)
		}
		second := got
		second.Slots = append(second.Slots, capping.Slot{Tag: "a2", At: t0})
		wantKind(t, "PutCapCounter(rev 1)", s.PutCapCounter(ctx, acme, ann, second), noError)
		wantKind(t, "PutCapCounter(rev 1) again", s.PutCapCounter(ctx, acme, ann, second), derrors.Conflict)
		got, err = s.CapCounter(ctx, acme, ann)
		if err != nil {
			t.Fatal(err)
		}
		want = capping.Counter{Rev: 2, ExpiresAt: first.ExpiresAt, Slots: []capping.Slot{{Tag: "a2", At: t0}, {Tag: "b1", At: at.Truncate(time.Millisecond)}}}
		if diff := cmp.Diff(want, sorted(got)); diff != "" {
			t.Errorf("CapCounter after two writes (-want +got):\n%s", diff)
		}
	})
	t.Run("each tenant, channel and identity has a counter of its own", func(t *testing.T) {
		s := newStore(t)
		one := capping.Counter{Slots: []capping.Slot{{Tag: "x", At: t0}}}
		if err := s.PutCapCounter(ctx, acme, ann, one); err != nil {
			t.Fatal(err)
		}
		for name, k := range map[string]capping.Key{
			"another channel":   {Channel: campaign.SMS, Namespace: ann.Namespace, UserID: ann.UserID},
			"another namespace": {Channel: ann.Channel, Namespace: "crm", UserID: ann.UserID},
			"another user":      {Channel: ann.Channel, Namespace: ann.Namespace, UserID: "bob@example.com"},
		} {
			if c, err := s.CapCounter(ctx, acme, k); err != nil || c.Rev != 0 {
				t.Errorf("%s: CapCounter = %+v, %v; want a new counter", name, c, err)
			}
		}
		if c, err := s.CapCounter(ctx, other, ann); err != nil || c.Rev != 0 {
			t.Errorf("another tenant: CapCounter = %+v, %v; want a new counter", c, err)
		}
	})
	t.Run("20 reservations at once never count past the limit", func(t *testing.T) {
		s := newStore(t)
		if err := s.PutFrequencyCaps(ctx, acme, capping.RuleSet{Rules: []capping.Rule{{Channel: campaign.Email, Limit: 3, Window: capping.Rolling24h}}}); err != nil {
			t.Fatal(err)
		}
		svc := &capping.Service{Store: s}
		var wg sync.WaitGroup
		var mu sync.Mutex
		reserved, capped := 0, 0
		var errs []error
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Each reads its own time: writers whose clocks differ by
				// milliseconds must still see each other's slots.
				v, err := svc.Reserve(ctx, acme, ann, fmt.Sprintf("exec%02d", i), t0.Add(time.Duration(19-i)*time.Millisecond))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err != nil:
					errs = append(errs, err)
				case v.Reserved:
					reserved++
				case v.Capped:
					capped++
				}
			}()
		}
		wg.Wait()
		if len(errs) > 0 {
			t.Fatalf("Reserve errors: %v", errs)
		}
		if reserved != 3 || capped != 17 {
			t.Errorf("reserved %d, capped %d; want 3 and 17", reserved, capped)
		}
		c, err := s.CapCounter(ctx, acme, ann)
		if err != nil || len(c.Slots) != 3 {
			t.Errorf("the counter holds %d slots (%v), want 3", len(c.Slots), err)
		}
	})
}
