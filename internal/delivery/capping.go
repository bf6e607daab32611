package delivery

import (
	"context"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/capping"
	"github.com/heraldhq/herald/internal/logsafe"
	"github.com/heraldhq/herald/internal/tenant"
)

// ExcludedFrequencyCap: a marketing recipient who already got as many
// messages of the channel as a rule of the tenant's frequency caps allows
// within its window (see package capping); nothing was sent.
const ExcludedFrequencyCap Outcome = "excluded:frequency_cap"

// Caps counts marketing messages against the tenant's frequency caps;
// *capping.Service is one.
type Caps interface {
	// Reserve counts one message to k for the recipient whose ledger tag
	// is tag, unless a rule is full (Verdict.Capped, nothing counted);
	// a tag already counted stays counted once. An error means nothing
	// is known to be counted: retry later.
	Reserve(ctx context.Context, t tenant.Tenant, k capping.Key, tag string, now time.Time) (capping.Verdict, error)
	// Release gives tag's slot back; no slot is no error.
	Release(ctx context.Context, t tenant.Tenant, k capping.Key, tag string) error
	// Plan is Reserve without its write, for the claim's transaction
	// to make (Ledger.ClaimAndStart with a CapWrite).
	Plan(ctx context.Context, t tenant.Tenant, k capping.Key, tag string, now time.Time) (capping.Plan, error)
}

// capPlans is how many times the one-write claim plans a recipient's
// frequency cap slot when other messages to the profile keep being
// counted first; then the long way reserves it (Caps.Reserve, which
// retries on its own).
const capPlans = 4

var _ Caps = (*capping.Service)(nil)

// capsApply reports whether the tenant's frequency caps apply to job's
// messages: marketing sends (not proofs) of a campaign version not
// exempt, when the dispatcher counts at all.
func (d *Dispatcher) capsApply(job Job, cv *compiled) bool {
	return d.Caps != nil && marketing(job, cv) && !cv.version.Spec.FrequencyCapExempt
}

// capSlot is the counter and the slot name of a recipient: the profile
// on the channel, and the recipient's ledger tag without a device, so
// the devices of one push recipient share one slot (one message).
func capSlot(t tenant.Tenant, k Key) (capping.Key, string) {
	return capping.Key{Channel: k.Channel, Namespace: k.Namespace, UserID: k.UserID}, Tag(t, k.Recipient())
}

// reserveCap counts the claimed recipient e against the frequency caps
// just before its attempt starts. It returns an outcome when the
// recipient ends here (excluded:frequency_cap, or failed:store_unavailable
// past the retry deadline) or a retry; neither when the send goes on.
// The slot is counted before the provider call, so concurrent executions
// never send past a limit; a retry of the same recipient finds its slot.
func (d *Dispatcher) reserveCap(ctx context.Context, job Job, e Entry, prep prepared) (Outcome, error) {
	if !prep.capped {
		return "", nil
	}
	k, tag := capSlot(job.Tenant, e.Key)
	v, err := d.Caps.Reserve(ctx, job.Tenant, k, tag, d.now())
	switch {
	case err != nil:
		return d.storeFailed(ctx, job, e, fmt.Errorf("frequency cap: %w", err))
	case v.Capped:
		return d.closeOpen(ctx, job, e, ExcludedFrequencyCap)
	}
	return "", nil
}

// planCap plans the claimed-to-be recipient e's frequency cap slot for
// the claim's transaction to write: the counter write (nil when nothing
// is to be written: no rule on the channel, or e holds its slot already),
// or the outcome e ends with here (excluded:frequency_cap, or
// failed:store_unavailable past the retry deadline), or a retry.
func (d *Dispatcher) planCap(ctx context.Context, job Job, e Entry, prep prepared, attempt int) (*CapWrite, Outcome, error) {
	if !prep.capped {
		return nil, "", nil
	}
	k, tag := capSlot(job.Tenant, e.Key)
	p, err := d.Caps.Plan(ctx, job.Tenant, k, tag, d.now())
	switch {
	case err != nil:
		o, err := d.storeFailed(ctx, job, e, fmt.Errorf("frequency cap: %w", err))
		return nil, o, err
	case p.Verdict.Capped:
		o, err := d.closeOpen(ctx, job, e, ExcludedFrequencyCap)
		return nil, o, err
	case p.Next == nil:
		return nil, "", nil
	}
	return &CapWrite{Key: k, Counter: *p.Next, Attempt: attempt}, "", nil
}

// releaseCap gives back the slot of a recipient the provider certainly
// did not take a message from (a refusal, or nothing sent by the retry
// deadline). Push keeps its slot: it is the recipient's, shared by its
// devices, one of which may have been sent to. So does the second look at
// an ambiguous email (Job.Reconcile): its first attempt may have been
// sent even if this one is refused. A release that fails
// keeps the slot — a message counted that was not sent, never the
// reverse.
func (d *Dispatcher) releaseCap(ctx context.Context, job Job, e Entry, capped bool) {
	if !capped || e.Channel == campaign.Push || job.Reconcile {
		return
	}
	k, tag := capSlot(job.Tenant, e.Key)
	if err := d.Caps.Release(ctx, job.Tenant, k, tag); err != nil {
		d.log().WarnContext(ctx, "frequency cap slot not given back", "executionId", job.ExecutionID, "campaignId", job.CampaignID,
			"channel", string(e.Channel), logsafe.Attr(err))
	}
}
