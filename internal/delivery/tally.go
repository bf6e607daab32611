package delivery

import (
	"context"
	"fmt"
	"strconv"

	"github.com/heraldhq/herald/internal/campaign"
)

// TallyShardSize is about how many recipients one counter item holds:
// small enough that an item stays a few kilobytes (each recipient's
// outcome is kept in it to make counting idempotent).
const TallyShardSize = 250

// ShardsFor is how many counter items an execution of n recipients uses.
func ShardsFor(n int64) int {
	return int(min(max((n+TallyShardSize-1)/TallyShardSize, 1), 10000))
}

// Shard is the counter item of tag among shards (at least one).
func Shard(tag string, shards int) int {
	if shards <= 1 || len(tag) < 8 {
		return 0
	}
	n, _ := strconv.ParseUint(tag[:8], 16, 32)
	return int(n % uint64(shards))
}

// tally counts a recipient's final outcome in its execution's counters.
func (d *Dispatcher) tally(ctx context.Context, job Job, key Key, o Outcome) error {
	return d.tallyIn(ctx, job, key, o, "")
}

// tallyIn is tally that also counts the outcome under the recipient's
// variant label (see Label; "" counts no variant).
func (d *Dispatcher) tallyIn(ctx context.Context, job Job, key Key, o Outcome, label string) error {
	tag := Tag(job.Tenant, key.Recipient())
	if err := d.Ledger.Tally(ctx, job.Tenant, key.ExecutionID, Shard(tag, job.Shards), tag, o, label); err != nil {
		return retryAfter(Jitter(d.timing().Backoff(max(job.Receipt.Count, 1))), fmt.Errorf("tally: %w", err))
	}
	return nil
}

// counted returns, for a redelivered job of several recipients, the
// outcome of each recipient already counted: it is final, and delivering
// it again would only read what is known. One read per counter item
// instead of a round of conditional writes per recipient; an error only
// costs the optimisation.
func (d *Dispatcher) counted(ctx context.Context, job Job, ch campaign.Channel) map[int]Outcome {
	if job.Receipt.Count <= 1 || len(job.Recipients) < 2 {
		return nil
	}
	byShard := map[int][]string{}
	tagOf := make([]string, len(job.Recipients))
	for i, r := range job.Recipients {
		tagOf[i] = Tag(job.Tenant, Key{ExecutionID: job.ExecutionID, Namespace: r.Namespace, UserID: r.UserID, Channel: ch})
		sh := Shard(tagOf[i], job.Shards)
		byShard[sh] = append(byShard[sh], tagOf[i])
	}
	found := map[string]Outcome{}
	for sh, tags := range byShard {
		got, err := d.Ledger.Counted(ctx, job.Tenant, job.ExecutionID, sh, tags)
		if err != nil {
			return nil
		}
		for tag, o := range got {
			found[tag] = o
		}
	}
	out := map[int]Outcome{}
	for i, tag := range tagOf {
		if o, ok := found[tag]; ok {
			out[i] = o
		}
	}
	return out
}
