package storetest

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/capping"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/internal/status"
	"github.com/heraldhq/herald/internal/tenant"
)

// LedgerStore is what the ledger contract exercises: a delivery.Ledger
// with its Parking and status.Store.
type LedgerStore interface {
	delivery.Ledger
	delivery.Parking
	delivery.ParkedJobs
	status.Store
	// VariantCounts is status.ReportsStore's.
	VariantCounts(ctx context.Context, t tenant.Tenant, exec string) (map[string]int64, error)
}

// LedgerHarness builds a fresh, empty store for each test, and writes an
// entry under the key entries had before delivery.LedgerV2.
type LedgerHarness struct {
	New       func(t *testing.T) LedgerStore
	PutLegacy func(t *testing.T, s LedgerStore, tn tenant.Tenant, e delivery.Entry)
}

func entry(ns, user, token string) delivery.Entry {
	k := delivery.Key{ExecutionID: "ex-1", Namespace: ns, UserID: user, Channel: campaign.Email}
	return delivery.Entry{Key: k, CampaignID: "c1", Version: 1, State: delivery.Claimed, Token: token,
		Tag: delivery.Tag(acme, k), ClaimedAt: t0}
}

// Ledger runs the ledger's contract.
func Ledger(t *testing.T, h LedgerHarness) {
	ctx := context.Background()
	t.Run("a claim is made once; a rival finds it and a retry of the same claim recognises it", func(t *testing.T) {
		s := h.New(t)
		e := entry("crmId", "cust-42", "t1")
		if _, ok, err := s.Claim(ctx, acme, e); err != nil || !ok {
			t.Fatalf("first Claim = %v, %v; want claimed", ok, err)
		}
		rival := e
		rival.Token = "t2"
		old, ok, err := s.Claim(ctx, acme, rival)
		if err != nil || ok || old.Token != "t1" {
			t.Fatalf("rival Claim = %+v, %v, %v; want the first claim, not claimed", old, ok, err)
		}
		if _, ok, err := s.Claim(ctx, acme, e); err != nil || !ok {
			t.Errorf("Claim again with the same token = %v, %v; want claimed (an SDK retry of our own claim)", ok, err)
		}
		if _, ok, err := s.Claim(ctx, other, rival); err != nil || !ok {
			t.Errorf("another tenant's Claim = %v, %v; want claimed", ok, err)
		}
	})
	t.Run("recipients differing only by namespace have entries of their own", func(t *testing.T) {
		s := h.New(t)
		if _, ok, err := s.Claim(ctx, acme, entry("crmId", "cust-42", "t1")); err != nil || !ok {
			t.Fatal(ok, err)
		}
		if _, ok, err := s.Claim(ctx, acme, entry("loyaltyId", "cust-42", "t2")); err != nil || !ok {
			t.Errorf("Claim of loyaltyId/cust-42 = %v, %v; want claimed beside crmId/cust-42", ok, err)
		}
		got, err := s.Entries(ctx, acme, entry("loyaltyId", "cust-42", "").Key)
		if err != nil || len(got) != 1 || got[0].Token != "t2" {
			t.Errorf("Entries(loyaltyId/cust-42) = %+v, %v; want its one entry", got, err)
		}
	})
	t.Run("user ids with separators never collide", func(t *testing.T) {
		s := h.New(t)
		a, b := entry("a#b", "c", "t1"), entry("a", "b#c", "t2")
		for _, e := range []delivery.Entry{a, b} {
			if _, ok, err := s.Claim(ctx, acme, e); err != nil || !ok {
				t.Errorf("Claim %s/%s = %v, %v; want claimed", e.Namespace, e.UserID, ok, err)
			}
		}
	})
	t.Run("only the holder starts, finishes or releases; a released claim is taken over", func(t *testing.T) {
		s := h.New(t)
		e := entry("email", "jane@example.com", "t1")
		if _, _, err := s.Claim(ctx, acme, e); err != nil {
			t.Fatal(err)
		}
		e.InFlight, e.Attempts, e.AttemptAt = true, 1, t0
		if err := s.Start(ctx, acme, e, "wrong"); !derrors.Is(err, derrors.Conflict) {
			t.Errorf("Start from a token that does not hold it = %v, want Conflict", err)
		}
		if err := s.Start(ctx, acme, e, "t1"); err != nil {
			t.Fatalf("Start by the holder: %v", err)
		}
		if err := s.Start(ctx, acme, e, "t1"); err != nil {
			t.Errorf("Start repeated (an SDK retry of a write that landed) = %v, want nil", err)
		}
		again := e
		again.Token, again.Attempts = "t9", 2
		if err := s.Start(ctx, acme, again, "t1"); !derrors.Is(err, derrors.Conflict) {
			t.Errorf("Start of an attempt already in flight = %v, want Conflict", err)
		}
		bad := e
		bad.Token, bad.State = "t9", delivery.Done
		if err := s.Finish(ctx, acme, bad); !derrors.Is(err, derrors.Conflict) {
			t.Errorf("Finish by a non-holder = %v, want Conflict", err)
		}
		e.InFlight, e.LastCode = false, "Throttling"
		if err := s.Release(ctx, acme, e); err != nil {
			t.Fatalf("Release: %v", err)
		}
		next := e
		next.Token, next.InFlight, next.Attempts = "t2", true, 2
		if err := s.Start(ctx, acme, next, "t1"); err != nil {
			t.Fatalf("Start taking over a released claim: %v", err)
		}
		got, err := s.Entries(ctx, acme, e.Key)
		if err != nil || len(got) != 1 {
			t.Fatalf("Entries = %+v, %v", got, err)
		}
		if g := got[0]; g.Token != "t2" || !g.InFlight || g.Attempts != 2 || g.LastCode != "Throttling" || !g.ClaimedAt.Equal(t0) {
			t.Errorf("entry after takeover = %+v; want token t2 in flight, attempt 2, the last code and the first claim time", g)
		}
		done := next
		done.State, done.Outcome, done.InFlight, done.MessageID, done.FinishedAt = delivery.Done, delivery.Sent, false, "m1", t0.Add(time.Second)
		done.Variant, done.Treatment = "fr-CA", "B"
		if err := s.Finish(ctx, acme, done); err != nil {
			t.Fatalf("Finish by the holder: %v", err)
		}
		if got, err := s.Entries(ctx, acme, e.Key); err != nil || len(got) != 1 || got[0].Variant != "fr-CA" || got[0].Treatment != "B" {
			t.Errorf("entry after Finish = %+v, %v; want the variant and treatment sent recorded", got, err)
		}
		if err := s.Finish(ctx, acme, done); err != nil {
			t.Errorf("Finish repeated (an SDK retry of a write that landed) = %v, want nil", err)
		}
		if err := s.Release(ctx, acme, next); !derrors.Is(err, derrors.Conflict) {
			t.Errorf("Release of a done entry = %v, want Conflict", err)
		}
	})
	t.Run("close records an outcome unless one exists or an attempt is in flight", func(t *testing.T) {
		s := h.New(t)
		e := entry("email", "a@example.com", "t1")
		e.State, e.Outcome = delivery.Done, delivery.ExcludedNoConsent
		if _, ok, err := s.Close(ctx, acme, e); err != nil || !ok {
			t.Fatalf("Close of a new entry = %v, %v; want closed", ok, err)
		}
		again := e
		again.Outcome = delivery.ExcludedSuppressed
		old, ok, err := s.Close(ctx, acme, again)
		if err != nil || ok || old.Outcome != delivery.ExcludedNoConsent {
			t.Errorf("Close of a done entry = %+v, %v, %v; want the first outcome kept", old, ok, err)
		}
		f := entry("email", "b@example.com", "t1")
		if _, _, err := s.Claim(ctx, acme, f); err != nil {
			t.Fatal(err)
		}
		closing := f
		closing.Token, closing.State, closing.Outcome = "t2", delivery.Done, delivery.FailedThrottled
		if _, ok, err := s.Close(ctx, acme, closing); err != nil || !ok {
			t.Errorf("Close of a claim not in flight = %v, %v; want closed", ok, err)
		}
		g := entry("email", "c@example.com", "t1")
		if _, _, err := s.Claim(ctx, acme, g); err != nil {
			t.Fatal(err)
		}
		g.InFlight, g.AttemptAt = true, t0
		if err := s.Start(ctx, acme, g, "t1"); err != nil {
			t.Fatal(err)
		}
		closing = g
		closing.State, closing.Outcome = delivery.Done, delivery.FailedRetriesExhausted
		if old, ok, err := s.Close(ctx, acme, closing); err != nil || ok || !old.InFlight {
			t.Errorf("Close of an attempt in flight = %+v, %v, %v; want refused with the entry", old, ok, err)
		}
	})
	t.Run("an entry under the earlier key is found by legacy jobs and can be finished there", func(t *testing.T) {
		s := h.New(t)
		old := entry("email", "jane@example.com", "old")
		h.PutLegacy(t, s, acme, old)
		e := entry("email", "jane@example.com", "new")
		e.Legacy = true
		got, ok, err := s.Claim(ctx, acme, e)
		if err != nil || ok || !got.LegacyKey || got.Token != "old" || !got.InFlight {
			t.Fatalf("legacy Claim = %+v, %v, %v; want the earlier claim, as an attempt in flight", got, ok, err)
		}
		entries, err := s.Entries(ctx, acme, e.Key)
		if err != nil || len(entries) != 1 || !entries[0].LegacyKey {
			t.Fatalf("Entries = %+v, %v; want the legacy entry", entries, err)
		}
		got.State, got.Outcome, got.InFlight = delivery.Done, delivery.AmbiguousInterrupted, false
		if err := s.Finish(ctx, acme, got); err != nil {
			t.Fatalf("Finish of the legacy entry: %v", err)
		}
		e.State, e.Outcome = delivery.Done, delivery.ExcludedNoConsent
		if cur, ok, err := s.Close(ctx, acme, e); err != nil || ok || cur.Outcome != delivery.AmbiguousInterrupted {
			t.Errorf("legacy Close = %+v, %v, %v; want the legacy outcome kept", cur, ok, err)
		}
		fresh := entry("email", "jane@example.com", "t3")
		if _, ok, err := s.Claim(ctx, acme, fresh); err != nil || !ok {
			t.Errorf("a LedgerV2 job's Claim = %v, %v; want claimed (it does not look at the earlier key)", ok, err)
		}
	})
	t.Run("the first recipient to claim an address owns it", func(t *testing.T) {
		s := h.New(t)
		for _, tc := range []struct{ owner, want string }{{"tag-a", "tag-a"}, {"tag-b", "tag-a"}, {"tag-a", "tag-a"}} {
			got, err := s.ClaimAddress(ctx, acme, "ex-1", campaign.Email, "addr1", tc.owner)
			if err != nil || got != tc.want {
				t.Errorf("ClaimAddress by %s = %q, %v; want %q", tc.owner, got, err, tc.want)
			}
		}
		if got, err := s.ClaimAddress(ctx, acme, "ex-2", campaign.Email, "addr1", "tag-b"); err != nil || got != "tag-b" {
			t.Errorf("ClaimAddress in another execution = %q, %v; want tag-b", got, err)
		}
	})
	t.Run("claim and start takes a new address and entry in one write, and nothing when either is taken", func(t *testing.T) {
		s := h.New(t)
		e := entry("crmId", "cust-1", "t1")
		e.InFlight, e.Attempts, e.AttemptAt = true, 1, t0
		if res, err := s.ClaimAndStart(ctx, acme, e, "addr1", nil); err != nil || res != delivery.ClaimStarted {
			t.Fatalf("ClaimAndStart of a new recipient = %v, %v; want started", res, err)
		}
		got, err := s.Entries(ctx, acme, e.Key)
		if err != nil || len(got) != 1 || got[0].State != delivery.Claimed || !got[0].InFlight || got[0].Token != "t1" || got[0].Attempts != 1 {
			t.Fatalf("entries after ClaimAndStart = %+v, %v; want one claim in flight held by t1", got, err)
		}
		if owner, err := s.ClaimAddress(ctx, acme, "ex-1", campaign.Email, "addr1", "someone-else"); err != nil || owner != e.Tag {
			t.Errorf("the address's owner = %q, %v; want the begun entry's tag", owner, err)
		}
		// The same recipient again (a redelivery): its entry exists.
		again := e
		again.Token = "t2"
		if res, err := s.ClaimAndStart(ctx, acme, again, "addr1", nil); err != nil || res != delivery.ClaimTaken {
			t.Errorf("ClaimAndStart of an existing entry = %v, %v; want taken", res, err)
		}
		// Another recipient with the same address: nothing is written,
		// not even its entry.
		dup := entry("crmId", "cust-2", "t3")
		dup.InFlight, dup.Attempts = true, 1
		if res, err := s.ClaimAndStart(ctx, acme, dup, "addr1", nil); err != nil || res != delivery.ClaimTaken {
			t.Errorf("ClaimAndStart of a taken address = %v, %v; want taken", res, err)
		}
		if got, err := s.Entries(ctx, acme, dup.Key); err != nil || len(got) != 0 {
			t.Errorf("the duplicate's entries = %+v, %v; want none", got, err)
		}
		// An address a recipient claimed the long way is still its own.
		own := entry("crmId", "cust-3", "t4")
		own.InFlight, own.Attempts = true, 1
		if _, err := s.ClaimAddress(ctx, acme, "ex-1", campaign.Email, "addr3", own.Tag); err != nil {
			t.Fatal(err)
		}
		if res, err := s.ClaimAndStart(ctx, acme, own, "addr3", nil); err != nil || res != delivery.ClaimStarted {
			t.Errorf("ClaimAndStart on the recipient's own address = %v, %v; want started", res, err)
		}
		// An entry that asks for the earlier key never takes this way.
		legacy := entry("crmId", "cust-4", "t5")
		legacy.Legacy = true
		if res, err := s.ClaimAndStart(ctx, acme, legacy, "addr4", nil); err != nil || res != delivery.ClaimTaken {
			t.Errorf("ClaimAndStart of a legacy job's entry = %v, %v; want taken", res, err)
		}
		if owner, err := s.ClaimAddress(ctx, acme, "ex-1", campaign.Email, "addr4", "tag-x"); err != nil || owner != "tag-x" {
			t.Errorf("the legacy entry's address = %q, %v; want untouched (tag-x takes it)", owner, err)
		}
	})
	t.Run("claim and start writes the frequency cap counter planned, and nothing when it changed since", func(t *testing.T) {
		s := h.New(t)
		cs, ok := s.(capping.Store)
		if !ok {
			t.Skip("the store keeps no frequency cap counters")
		}
		ck := capping.Key{Channel: campaign.Email, Namespace: "crmId", UserID: "cust-1"}
		at := t0.Truncate(time.Millisecond)
		e := entry("crmId", "cust-1", "t1")
		e.InFlight, e.Attempts = true, 1
		planned := &delivery.CapWrite{Key: ck, Counter: capping.Counter{Slots: []capping.Slot{{Tag: e.Tag, At: at}}, ExpiresAt: at.Add(48 * time.Hour)}}
		if res, err := s.ClaimAndStart(ctx, acme, e, "addr1", planned); err != nil || res != delivery.ClaimStarted {
			t.Fatalf("ClaimAndStart with a new counter = %v, %v; want started", res, err)
		}
		got, err := cs.CapCounter(ctx, acme, ck)
		if err != nil || got.Rev != 1 || len(got.Slots) != 1 || got.Slots[0].Tag != e.Tag {
			t.Fatalf("the counter after the claim = %+v, %v; want revision 1 holding the claim's slot", got, err)
		}
		// Another execution's recipient planned from the same revision 0:
		// the counter changed, so nothing is written, not its entry, not
		// its address.
		other := entry("crmId", "cust-1", "t2")
		other.ExecutionID = "ex-2"
		other.InFlight, other.Attempts = true, 1
		stale := &delivery.CapWrite{Key: ck, Counter: capping.Counter{Slots: []capping.Slot{{Tag: other.Tag, At: at}}}, Attempt: 0}
		if res, err := s.ClaimAndStart(ctx, acme, other, "addr1", stale); err != nil || res != delivery.CapChanged {
			t.Fatalf("ClaimAndStart from a stale counter = %v, %v; want the counter changed", res, err)
		}
		if es, err := s.Entries(ctx, acme, other.Key); err != nil || len(es) != 0 {
			t.Errorf("entries after a changed counter = %+v, %v; want none", es, err)
		}
		if owner, err := s.ClaimAddress(ctx, acme, "ex-2", campaign.Email, "addr1", "tag-x"); err != nil || owner != "tag-x" {
			t.Errorf("the address after a changed counter = %q, %v; want free (tag-x takes it)", owner, err)
		}
		// Planned again from revision 1, with a plan number of its own.
		other.Key.UserID, other.Tag = "cust-9", "tag-9"
		again := &delivery.CapWrite{Key: ck, Counter: capping.Counter{Rev: 1, Slots: append(got.Slots, capping.Slot{Tag: "tag-9", At: at})}, Attempt: 1}
		if res, err := s.ClaimAndStart(ctx, acme, other, "addr9", again); err != nil || res != delivery.ClaimStarted {
			t.Fatalf("ClaimAndStart planned again = %v, %v; want started", res, err)
		}
		if got, err := cs.CapCounter(ctx, acme, ck); err != nil || got.Rev != 2 || len(got.Slots) != 2 {
			t.Errorf("the counter = %+v, %v; want revision 2 with two slots", got, err)
		}
		// A taken entry wins over the counter: the long way tells.
		dup := entry("crmId", "cust-1", "t3")
		dup.InFlight, dup.Attempts = true, 1
		if res, err := s.ClaimAndStart(ctx, acme, dup, "addr1", stale); err != nil || res != delivery.ClaimTaken {
			t.Errorf("ClaimAndStart of a taken entry with a stale counter = %v, %v; want taken", res, err)
		}
	})
	t.Run("many tallies at once count new recipients, move counted ones and repeat as no-ops", func(t *testing.T) {
		s := h.New(t)
		if err := s.Tally(ctx, acme, "ex-1", 0, "r1", delivery.FailedThrottled, "A/"); err != nil {
			t.Fatal(err)
		}
		batch := []delivery.Count{{Tag: "r2", Outcome: delivery.Sent, Label: "A/fr"}, {Tag: "r3", Outcome: delivery.Sent, Label: "B/"},
			{Tag: "r4", Outcome: delivery.ExcludedSuppressed}}
		for range 2 {
			if err := s.TallyMany(ctx, acme, "ex-1", 0, batch); err != nil {
				t.Fatalf("TallyMany of new recipients: %v", err)
			}
		}
		// r1 is counted already: it moves; r5 is new; r3 repeats.
		mixed := []delivery.Count{{Tag: "r1", Outcome: delivery.Sent, Label: "A/"}, {Tag: "r5", Outcome: delivery.Sent, Label: "A/fr"},
			{Tag: "r3", Outcome: delivery.Sent, Label: "B/"}}
		if err := s.TallyMany(ctx, acme, "ex-1", 0, mixed); err != nil {
			t.Fatalf("TallyMany of counted and new recipients: %v", err)
		}
		many := make([]delivery.Count, 120)
		for i := range many {
			many[i] = delivery.Count{Tag: fmt.Sprintf("m%03d", i), Outcome: delivery.Sent}
		}
		if err := s.TallyMany(ctx, acme, "ex-1", 1, many); err != nil {
			t.Fatalf("TallyMany of 120 recipients: %v", err)
		}
		got, err := s.Counts(ctx, acme, "ex-1")
		if err != nil {
			t.Fatal(err)
		}
		want := map[delivery.Outcome]int64{delivery.Sent: 124, delivery.ExcludedSuppressed: 1}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Counts (-want +got):\n%s", diff)
		}
		variants, err := s.VariantCounts(ctx, acme, "ex-1")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string]int64{"v:A/fr#sent": 2, "v:B/#sent": 1, "v:A/#sent": 1}, variants); diff != "" {
			t.Errorf("VariantCounts (-want +got):\n%s", diff)
		}
	})
	t.Run("a tally's variant label counts the outcome per variant too, and moves with it", func(t *testing.T) {
		s := h.New(t)
		steps := []struct {
			tag   string
			o     delivery.Outcome
			label string
		}{
			{"r1", delivery.Sent, "A/fr"}, {"r1", delivery.Sent, "A/fr"}, {"r2", delivery.Sent, "B/"},
			{"r3", delivery.ExcludedHoldout, "holdout/"}, {"r4", delivery.Ambiguous("5xx"), "A/fr"}, {"r4", delivery.Sent, "A/fr"},
			{"r5", delivery.FailedRetriesExhausted, "B/"}, {"r5", "", ""}, {"r6", delivery.Sent, ""}, {"r7", delivery.Sent, "B/"},
			{"r7", delivery.Sent, "A/"},
		}
		for _, st := range steps {
			if err := s.Tally(ctx, acme, "ex-1", 0, st.tag, st.o, st.label); err != nil {
				t.Fatalf("Tally(%s, %q, %q): %v", st.tag, st.o, st.label, err)
			}
		}
		got, err := s.Counts(ctx, acme, "ex-1")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[delivery.Outcome]int64{delivery.Sent: 5, delivery.ExcludedHoldout: 1}, got); diff != "" {
			t.Errorf("Counts (-want +got):\n%s", diff)
		}
		variants, err := s.VariantCounts(ctx, acme, "ex-1")
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{"v:A/fr#sent": 2, "v:B/#sent": 1, "v:A/#sent": 1, "v:holdout/#excluded:holdout": 1}
		if diff := cmp.Diff(want, variants); diff != "" {
			t.Errorf("VariantCounts (-want +got):\n%s", diff)
		}
		counted, err := s.Counted(ctx, acme, "ex-1", 0, []string{"r1", "r3", "r5"})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string]delivery.Outcome{"r1": delivery.Sent, "r3": delivery.ExcludedHoldout}, counted); diff != "" {
			t.Errorf("Counted (-want +got):\n%s", diff)
		}
	})
	t.Run("tallies are idempotent, move between outcomes and add up", func(t *testing.T) {
		s := h.New(t)
		steps := []struct {
			shard int
			tag   string
			o     delivery.Outcome
		}{
			{0, "r1", delivery.Sent}, {0, "r1", delivery.Sent}, {1, "r2", delivery.Ambiguous("5xx")}, {0, "r3", delivery.FailedRetriesExhausted},
			{1, "r2", delivery.Sent}, {0, "r3", ""}, {0, "r3", ""}, {0, "r4", delivery.ExcludedDuplicate},
		}
		for _, st := range steps {
			if err := s.Tally(ctx, acme, "ex-1", st.shard, st.tag, st.o, ""); err != nil {
				t.Fatalf("Tally(%s, %q): %v", st.tag, st.o, err)
			}
		}
		got, err := s.Counts(ctx, acme, "ex-1")
		if err != nil {
			t.Fatal(err)
		}
		want := map[delivery.Outcome]int64{delivery.Sent: 2, delivery.ExcludedDuplicate: 1}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Counts (-want +got):\n%s", diff)
		}
		if got, _ := s.Counts(ctx, other, "ex-1"); len(got) != 0 {
			t.Errorf("another tenant's Counts = %v, want none", got)
		}
		counted, err := s.Counted(ctx, acme, "ex-1", 0, []string{"r1", "r3", "r4", "never"})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string]delivery.Outcome{"r1": delivery.Sent, "r4": delivery.ExcludedDuplicate}, counted); diff != "" {
			t.Errorf("Counted (-want +got):\n%s", diff)
		}
	})
	t.Run("reopen withdraws a done entry only with the outcome it names", func(t *testing.T) {
		s := h.New(t)
		e := entry("email", "a@example.com", "t1")
		e.State, e.Outcome = delivery.Done, delivery.FailedRetriesExhausted
		if _, _, err := s.Close(ctx, acme, e); err != nil {
			t.Fatal(err)
		}
		wrong := e
		wrong.Outcome = delivery.Sent
		if err := s.Reopen(ctx, acme, wrong); !derrors.Is(err, derrors.Conflict) {
			t.Errorf("Reopen naming another outcome = %v, want Conflict", err)
		}
		if err := s.Reopen(ctx, acme, e); err != nil {
			t.Fatalf("Reopen: %v", err)
		}
		if _, ok, err := s.Claim(ctx, acme, entry("email", "a@example.com", "t2")); err != nil || !ok {
			t.Errorf("Claim after Reopen = %v, %v; want claimed", ok, err)
		}
	})
	t.Run("retry reopens an ambiguous entry as a claim, once, and never a confirmed one", func(t *testing.T) {
		s := h.New(t)
		e := entry("email", "a@example.com", "t1")
		e.State, e.Outcome = delivery.Done, delivery.Ambiguous("5xx")
		if _, _, err := s.Close(ctx, acme, e); err != nil {
			t.Fatal(err)
		}
		r := e
		r.Token, r.ClaimedAt = "t2", t0.Add(time.Hour)
		if err := s.Retry(ctx, acme, r, delivery.Sent); !derrors.Is(err, derrors.Conflict) {
			t.Errorf("Retry from another outcome = %v, want Conflict", err)
		}
		if err := s.Retry(ctx, acme, r, delivery.Ambiguous("5xx")); err != nil {
			t.Fatalf("Retry: %v", err)
		}
		if err := s.Retry(ctx, acme, r, delivery.Ambiguous("5xx")); !derrors.Is(err, derrors.Conflict) {
			t.Errorf("a second Retry = %v, want Conflict", err)
		}
		got, err := s.Entries(ctx, acme, e.Key)
		if err != nil || len(got) != 1 || got[0].State != delivery.Claimed || got[0].Outcome != "" || got[0].Token != "t2" ||
			got[0].InFlight || !got[0].ClaimedAt.Equal(t0.Add(time.Hour)) {
			t.Errorf("entry after Retry = %+v, %v; want a claim held by t2, not in flight, without outcome", got, err)
		}
		// The next attempt starts from it as from a released claim.
		started := got[0]
		started.Token = "t3"
		if err := s.Start(ctx, acme, started, "t2"); err != nil {
			t.Errorf("Start from the retried claim: %v", err)
		}
	})
	t.Run("jobs are parked once and unparked", func(t *testing.T) {
		s := h.New(t)
		job := delivery.Job{Tenant: acme, ExecutionID: "ex-1", CampaignID: "c1", Version: 1, Channel: campaign.Email, Ledger: delivery.LedgerV2,
			Recipients: []delivery.Recipient{{Type: delivery.TypeExternal, Namespace: "email", UserID: "a@example.com", Context: mustObject(t, `{"n":1.5}`)}}}
		p := delivery.ParkedJob{ID: "p1", Job: job, Reason: "dead-letter queue", ParkedAt: t0}
		for range 2 {
			if err := s.Park(ctx, acme, p); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Parked(ctx, acme, "ex-1")
		if err != nil || len(got) != 1 {
			t.Fatalf("Parked = %+v, %v; want one job", got, err)
		}
		if got[0].Job.Recipients[0].UserID != "a@example.com" || !got[0].Job.Recipients[0].Context.Equal(job.Recipients[0].Context) || got[0].Reason != p.Reason || got[0].Job.Channel != campaign.Email {
			t.Errorf("Parked job = %+v, want it as parked", got[0])
		}
		deferred := job
		deferred.DeferUntil = t0.Add(10 * time.Hour)
		if err := s.Park(ctx, acme, delivery.ParkedJob{ID: "q1", Job: deferred, Reason: delivery.ReasonQuietHours, ParkedAt: t0}); err != nil {
			t.Fatal(err)
		}
		one, err := s.ParkedJob(ctx, acme, "ex-1", "q1")
		if err != nil || one.ID != "q1" || one.Reason != delivery.ReasonQuietHours || !one.Job.DeferUntil.Equal(deferred.DeferUntil) ||
			one.Job.Recipients[0].UserID != "a@example.com" {
			t.Errorf("ParkedJob(q1) = %+v, %v; want the deferred job as parked", one, err)
		}
		if _, err := s.ParkedJob(ctx, acme, "ex-1", "nope"); !derrors.Is(err, derrors.NotFound) {
			t.Errorf("ParkedJob of an unknown id = %v, want NotFound", err)
		}
		for _, id := range []string{"p1", "q1"} {
			if err := s.Unpark(ctx, acme, "ex-1", id); err != nil {
				t.Fatal(err)
			}
		}
		if got, _ := s.Parked(ctx, acme, "ex-1"); len(got) != 0 {
			t.Errorf("Parked after Unpark = %+v, want none", got)
		}
	})
	t.Run("pages list every entry once, filtered by outcome", func(t *testing.T) {
		s := h.New(t)
		outcomes := []delivery.Outcome{delivery.Sent, delivery.FailedThrottled, delivery.ExcludedNoAddress, delivery.Sent, "", delivery.Ambiguous("timeout"), delivery.Sent}
		for i, o := range outcomes {
			e := entry("crmId", "u"+string(rune('a'+i)), "t")
			if o == "" {
				if _, _, err := s.Claim(ctx, acme, e); err != nil {
					t.Fatal(err)
				}
				continue
			}
			e.State, e.Outcome = delivery.Done, o
			if _, _, err := s.Close(ctx, acme, e); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			filter string
			want   []string
		}{
			{"", []string{"ua", "ub", "uc", "ud", "ue", "uf", "ug"}},
			{"sent", []string{"ua", "ud", "ug"}},
			{"failed", []string{"ub"}},
			{"ambiguous:timeout", []string{"uf"}},
			{"pending", []string{"ue"}},
		} {
			var got []string
			cursor := ""
			for range 20 {
				page, next, err := s.Page(ctx, acme, "ex-1", status.Query{Outcome: tc.filter, Cursor: cursor, Limit: 2})
				if err != nil {
					t.Fatalf("Page(%q): %v", tc.filter, err)
				}
				for _, e := range page {
					got = append(got, e.UserID)
				}
				if cursor = next; cursor == "" {
					break
				}
			}
			sort.Strings(got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Page(%q) userIds (-want +got):\n%s", tc.filter, diff)
			}
		}
		if _, _, err := s.Page(ctx, acme, "ex-1", status.Query{Cursor: "!!not-a-cursor", Limit: 2}); !derrors.Is(err, derrors.Invalid) {
			t.Errorf("Page with a foreign cursor = %v, want Invalid", err)
		}
	})
}

// mustObject decodes a JSON object as a trigger call's context arrives.
func mustObject(t *testing.T, s string) render.Object {
	t.Helper()
	o, err := render.ParseObject([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return o
}
