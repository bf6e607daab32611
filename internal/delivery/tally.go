package delivery

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

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

// tally counts a recipient's final outcome in its execution's counters:
// at once, or, within a run of a job (withTallies), with the job's other
// recipients when they are all done.
func (d *Dispatcher) tally(ctx context.Context, job Job, key Key, o Outcome) error {
	return d.tallyIn(ctx, job, key, o, "")
}

// tallyIn is tally that also counts the outcome under the recipient's
// variant label (see Label; "" counts no variant).
func (d *Dispatcher) tallyIn(ctx context.Context, job Job, key Key, o Outcome, label string) error {
	return d.tallyTag(ctx, job, key, Tag(job.Tenant, key.Recipient()), o, label)
}

// tallyTag is tallyIn with the recipient's tag computed already.
func (d *Dispatcher) tallyTag(ctx context.Context, job Job, key Key, tag string, o Outcome, label string) error {
	shard := Shard(tag, job.Shards)
	if jt, ok := ctx.Value(talliesKey{}).(*jobTallies); ok {
		jt.add(shard, Count{Tag: tag, Outcome: o, Label: label}, key.Recipient())
		return nil
	}
	// The outcome is recorded: count it even if the invocation's
	// context ends meanwhile.
	ctx, cancel := recordContext(ctx)
	defer cancel()
	if err := d.Ledger.Tally(ctx, job.Tenant, key.ExecutionID, shard, tag, o, label); err != nil {
		return retryAfter(Jitter(d.timing().Backoff(max(job.Receipt.Count, 1))), fmt.Errorf("tally: %w", err))
	}
	return nil
}

// finished passes CheckpointFinished for a recipient whose outcome tally
// counted at once; a collected one passes it when the job's counts are
// written.
func (d *Dispatcher) finished(ctx context.Context, key Key) {
	if _, ok := ctx.Value(talliesKey{}).(*jobTallies); !ok {
		d.checkpoint(CheckpointFinished, key)
	}
}

type talliesKey struct{}

// jobTallies collects the outcomes of a run of a job, by counter item.
type jobTallies struct {
	mu      sync.Mutex
	byShard map[int][]Count
	keys    map[string]Key // by tag
}

func (jt *jobTallies) add(shard int, c Count, k Key) {
	jt.mu.Lock()
	defer jt.mu.Unlock()
	jt.byShard[shard] = append(jt.byShard[shard], c)
	jt.keys[c.Tag] = k
}

// withTallies makes the tally calls made under ctx collect their counts
// for countTallies, so that a job's recipients are counted with one write
// per counter item instead of one each.
func withTallies(ctx context.Context) (context.Context, *jobTallies) {
	jt := &jobTallies{byShard: map[int][]Count{}, keys: map[string]Key{}}
	return context.WithValue(ctx, talliesKey{}, jt), jt
}

// countTallies writes the collected counts, one counter item after
// another, and returns the tags of the recipients it could not count
// with the error to retry them by: their outcomes are recorded, so a
// redelivery finds them and counts them then.
func (d *Dispatcher) countTallies(ctx context.Context, job Job, jt *jobTallies) (map[string]bool, error) {
	ctx, cancel := recordContext(ctx)
	defer cancel()
	var failed map[string]bool
	var errs []error
	for shard, counts := range jt.byShard {
		if err := d.Ledger.TallyMany(ctx, job.Tenant, job.ExecutionID, shard, counts); err != nil {
			if failed == nil {
				failed = map[string]bool{}
			}
			for _, c := range counts {
				failed[c.Tag] = true
			}
			errs = append(errs, err)
			continue
		}
		for _, c := range counts {
			d.checkpoint(CheckpointFinished, jt.keys[c.Tag])
		}
	}
	if len(errs) > 0 {
		return failed, retryAfter(Jitter(d.timing().Backoff(max(job.Receipt.Count, 1))), fmt.Errorf("tally: %w", errors.Join(errs...)))
	}
	return nil, nil
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
