package delivery_test

import (
	"context"
	"errors"
	"sort"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/suppression"
	"github.com/heraldhq/herald/internal/tenant"
)

// countingSuppressions counts the reads of the suppression list; batch,
// when set, fails every batch read.
type countingSuppressions struct {
	*memory.Store
	singles, batches atomic.Int32
	batch            error
}

func (c *countingSuppressions) GetSuppression(ctx context.Context, t tenant.Tenant, ch suppression.Channel, addr string) (suppression.Entry, error) {
	c.singles.Add(1)
	return c.Store.GetSuppression(ctx, t, ch, addr)
}

func (c *countingSuppressions) GetSuppressions(ctx context.Context, t tenant.Tenant, ch suppression.Channel, addrs []string) (map[string]suppression.Entry, error) {
	c.batches.Add(1)
	if c.batch != nil {
		return nil, c.batch
	}
	return c.Store.GetSuppressions(ctx, t, ch, addrs)
}

// A job's recipients are checked against the suppression list with one
// read for all of them, addresses resolved and normalized as for the send;
// when that read fails, each recipient reads its own and the outcomes are
// the same.
func TestAJobReadsTheSuppressionListOnceForAllItsRecipients(t *testing.T) {
	for _, tt := range []struct {
		name             string
		batchErr         error
		singles, batches int32
	}{
		{"one read for the job", nil, 0, 1},
		{"a failed read falls back to one per recipient", errors.New("throttled"), 3, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, defaultContent, defaultSettings)
			sup := &countingSuppressions{Store: f.store, batch: tt.batchErr}
			f.d.Suppressions = sup
			if err := f.store.PutSuppression(context.Background(), acme, suppression.Entry{Channel: suppression.Email,
				Address: "bounced@example.com", Reason: suppression.Bounce, CreatedAt: t0}); err != nil {
				t.Fatal(err)
			}
			j := job(external("email", "a@example.com", ""), external("email", "Bounced@Example.com", ""),
				external("email", "c@example.com", ""))
			if err := f.d.Dispatch(context.Background(), j); err != nil {
				t.Fatal(err)
			}
			got := f.ledger()
			sort.Slice(got, func(a, b int) bool { return got[a].UserID < got[b].UserID })
			want := []outcome{
				{"Bounced@Example.com", delivery.Done, delivery.ExcludedSuppressed},
				{"a@example.com", delivery.Done, delivery.Sent},
				{"c@example.com", delivery.Done, delivery.Sent},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ledger (-want +got):\n%s", diff)
			}
			if s, b := sup.singles.Load(), sup.batches.Load(); s != tt.singles || b != tt.batches {
				t.Errorf("%d single and %d batch reads, want %d and %d", s, b, tt.singles, tt.batches)
			}
		})
	}
}
