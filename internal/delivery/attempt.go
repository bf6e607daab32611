package delivery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/logsafe"
	"github.com/heraldhq/herald/internal/profile"
)

// deliver takes one recipient to its outcomes: one for email and SMS, one
// per device for push. A non-nil error means the recipient must be
// retried.
func (d *Dispatcher) deliver(ctx context.Context, job Job, cv *compiled, cfg campaign.ChannelConfig, r Recipient, p profile.Profile) ([]Outcome, error) {
	key := Key{ExecutionID: job.ExecutionID, Namespace: r.Namespace, UserID: r.UserID, Channel: cv.version.Channel}
	if d.ending(ctx) {
		return nil, retryAfter(time.Second, logsafe.Text("the invocation is ending"))
	}
	if cv.version.Channel == campaign.Push && !noProfile(job, cv, r, p) {
		return d.deliverPush(ctx, job, cv, cfg, key, r, p)
	}
	var prep prepared
	var err error
	switch {
	case noProfile(job, cv, r, p):
		prep.outcome = ExcludedNoProfile
	case cv.version.Channel == campaign.SMS:
		prep, err = d.prepareSMS(ctx, job, cv, cfg, r, p)
	default:
		prep, err = d.prepareEmail(ctx, job, cv, cfg, r, p)
	}
	if err != nil {
		return nil, d.recipientFailed(ctx, job, key, err)
	}
	prep.capped = d.capsApply(job, cv)
	// One recipient, one key without a device: the entry's tag is the
	// counters' too.
	prep.tag = Tag(job.Tenant, key)
	o, err := d.attempt(ctx, job, key, prep)
	if err != nil {
		return nil, err
	}
	if err := d.tallyTag(ctx, job, key, prep.tag, o, prep.label()); err != nil {
		return nil, err
	}
	d.finished(ctx, key)
	return []Outcome{o}, nil
}

// recipientFailed handles a recipient that could not be prepared (the
// suppression list or the opt-out check did not answer): retried with
// backoff until the deadline from its job's first receipt, then closed as
// failed:store_unavailable.
func (d *Dispatcher) recipientFailed(ctx context.Context, job Job, key Key, err error) error {
	var re *RetryError
	if errors.As(err, &re) {
		return err
	}
	now := d.now()
	if first := job.Receipt.First; job.Proof || !first.IsZero() && !now.Before(first.Add(d.timing().RetryDeadline)) {
		o, cerr := d.close(ctx, job, d.entry(job, key), FailedStoreUnavailable)
		if cerr == nil {
			return d.tally(ctx, job, key, o)
		}
		err = errors.Join(err, cerr)
	}
	return retryAfter(Jitter(d.timing().Backoff(max(job.Receipt.Count, 1))), err)
}

// entry returns a fresh entry of key for job.
func (d *Dispatcher) entry(job Job, key Key) Entry { return d.entryTagged(job, key, "") }

// entryTagged is entry with key's Tag computed already (or "").
func (d *Dispatcher) entryTagged(job Job, key Key, tag string) Entry {
	if tag == "" {
		tag = Tag(job.Tenant, key)
	}
	return Entry{Key: key, CampaignID: job.CampaignID, Version: job.Version, Proof: job.Proof, Token: token(),
		Tag: tag, Legacy: job.Ledger < LedgerV2, ClaimedAt: d.now()}
}

func token() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// attempt takes a prepared recipient (or one push device) to its outcome:
// it records an outcome reached without the provider, or claims the entry,
// starts the attempt and judges the provider's answer.
func (d *Dispatcher) attempt(ctx context.Context, job Job, key Key, prep prepared) (Outcome, error) {
	t := job.Tenant
	base := d.entryTagged(job, key, prep.tag)
	base.Treatment = prep.treatment
	if prep.outcome != "" {
		return d.close(ctx, job, base, prep.outcome)
	}
	base.Variant = prep.variant
	addr := AddressDigest(key.Channel, prep.addr)
	if !base.Legacy {
		if o, done, err := d.claimAndStart(ctx, job, key, base, addr, prep); done {
			return o, err
		}
	}
	owner, err := d.Ledger.ClaimAddress(ctx, t, key.ExecutionID, key.Channel, addr, base.Tag)
	if err != nil {
		return d.storeFailed(ctx, job, base, fmt.Errorf("claim address: %w", err))
	}
	if owner != base.Tag {
		return d.close(ctx, job, base, ExcludedDuplicate)
	}
	e := base
	e.State = Claimed
	from := e.Token
	existing, claimed, err := d.Ledger.Claim(ctx, t, e)
	if err != nil {
		return d.storeFailed(ctx, job, base, fmt.Errorf("claim: %w", err))
	}
	if !claimed {
		if existing.State == Done || existing.InFlight {
			return d.settle(ctx, job, existing)
		}
		// A claim whose last attempt ended without an outcome (or never
		// started): ours to go on with.
		e, from = existing, existing.Token
		e.Token, e.Tag, e.Variant, e.Treatment = token(), base.Tag, base.Variant, base.Treatment
	} else if existing.InFlight {
		// Our own ClaimAndStart, which landed though its answer was
		// lost: nothing was sent. Back to a claim not in flight first,
		// so that if this delivery stops short of sending, the next
		// goes on with it instead of taking it for an interrupted
		// attempt.
		existing.InFlight = false
		if err := d.Ledger.Release(ctx, t, existing); err != nil {
			return d.storeFailed(ctx, job, base, fmt.Errorf("release own claim: %w", err))
		}
	}
	d.checkpoint(CheckpointClaimed, key)
	deadline := d.deadline(job, e)
	// When it stops here the claim waits, not in flight, for the next
	// delivery.
	if o, stop, err := d.mayStart(ctx, job, key, e, deadline); stop {
		return o, err
	}
	if o, err := d.reserveCap(ctx, job, e, prep); o != "" || err != nil {
		return o, err
	}
	if o, stop, err := d.waitRate(ctx, job, key, e, deadline, prep.capped); stop {
		return o, err
	}
	e.InFlight, e.AttemptAt, e.Attempts = true, d.now(), e.Attempts+1
	if err := d.Ledger.Start(ctx, t, e, from); err != nil {
		d.holds.ended(t, key.Channel)
		if derrors.Is(err, derrors.Conflict) {
			// A concurrent duplicate took the claim first.
			return "", retryAfter(time.Second, logsafe.Text("another delivery holds the claim"))
		}
		return d.storeFailed(ctx, job, e, fmt.Errorf("start attempt: %w", err))
	}
	d.checkpoint(CheckpointStarted, key)
	return d.send(ctx, job, key, e, prep, deadline)
}

// claimAndStart is attempt's first way, for a recipient most likely new
// (those a redelivery finds counted are skipped before): once the channel
// and the rate let it send, one write claims the address and the entry
// and starts the attempt (Ledger.ClaimAndStart), where the long way makes
// three. done is false when that write found the address or the entry
// taken (nothing written), or failed: the long way then tells a
// duplicate address from a redelivered recipient, at the cost of this
// one write.
func (d *Dispatcher) claimAndStart(ctx context.Context, job Job, key Key, base Entry, addr string, prep prepared) (o Outcome, done bool, err error) {
	t := job.Tenant
	// Nothing is recorded yet at this checkpoint: a process stopped here
	// leaves the recipient as new.
	d.checkpoint(CheckpointClaimed, key)
	deadline := d.deadline(job, base)
	if o, stop, err := d.mayStart(ctx, job, key, base, deadline); stop {
		return o, true, err
	}
	// The frequency cap's slot is planned before the rate is waited for
	// (a capped recipient takes no send slot) and written with the
	// claim: none is held yet to give back.
	cw, o, err := d.planCap(ctx, job, base, prep, 0)
	if o != "" || err != nil {
		return o, true, err
	}
	if o, stop, err := d.waitRate(ctx, job, key, base, deadline, false); stop {
		return o, true, err
	}
	e := base
	e.State, e.InFlight, e.AttemptAt, e.Attempts = Claimed, true, d.now(), 1
	for attempt := 1; ; attempt++ {
		res, err := d.Ledger.ClaimAndStart(ctx, t, e, addr, cw)
		if err == nil && res == ClaimStarted {
			break
		}
		if err == nil && res == CapChanged && attempt < capPlans {
			// Another message to the profile was counted since the
			// counter was read: decide again on what it holds now.
			if cw, o, err = d.planCap(ctx, job, base, prep, attempt); o != "" || err != nil {
				d.holds.ended(t, key.Channel)
				return o, true, err
			}
			continue
		}
		// On an error the write may have landed (its answer was lost):
		// the long way, with the same token, then finds the claim its
		// own and goes on with it, where a later delivery could only
		// take it for an attempt interrupted. If the store is down, the
		// long way's first write says so. A counter still contended
		// after capPlans plans goes that way too (Caps.Reserve).
		d.holds.ended(t, key.Channel)
		return "", false, nil
	}
	d.checkpoint(CheckpointStarted, key)
	o, err = d.send(ctx, job, key, e, prep, deadline)
	return o, true, err
}

// mayStart tells whether e's attempt may start now, on either way: not
// when the invocation is ending (retried), nor on a channel held for the
// tenant (retried when it may go on, or closed failed:<code> past the
// deadline).
func (d *Dispatcher) mayStart(ctx context.Context, job Job, key Key, e Entry, deadline time.Time) (o Outcome, stop bool, err error) {
	if d.ending(ctx) {
		// Not enough of the invocation left to send and record the
		// answer.
		return "", true, retryAfter(time.Second, logsafe.Text("the invocation is ending"))
	}
	now := d.now()
	if ok, wait, code := d.holds.check(job.Tenant, key.Channel, now); !ok {
		if !now.Before(deadline) {
			o, err := d.closeOpen(ctx, job, e, Failed(code))
			return o, true, err
		}
		return "", true, retryAfter(wait, logsafe.Text(string(key.Channel)+" held after "+code))
	}
	return "", false, nil
}

// waitRate waits for a slot of the process's send rate; without one, e is
// retried, or closed failed:throttled past the deadline, giving back the
// frequency cap slot it holds (holdsSlot).
func (d *Dispatcher) waitRate(ctx context.Context, job Job, key Key, e Entry, deadline time.Time, holdsSlot bool) (o Outcome, stop bool, err error) {
	if d.limiter(ctx, key.Channel).Wait(ctx, d.timing().LimiterWait) {
		return "", false, nil
	}
	d.holds.ended(job.Tenant, key.Channel)
	if !d.now().Before(deadline) {
		d.releaseCap(ctx, job, e, holdsSlot)
		o, err := d.closeOpen(ctx, job, e, FailedThrottled)
		return o, true, err
	}
	return "", true, retryAfter(time.Second, logsafe.Text("over this process's send rate"))
}

// send makes the attempt e started (in flight in the ledger) and records
// the provider's answer: an outcome, or the claim released for a retry
// before deadline.
func (d *Dispatcher) send(ctx context.Context, job Job, key Key, e Entry, prep prepared, deadline time.Time) (Outcome, error) {
	t := job.Tenant
	tm := d.timing()
	started := time.Now()
	id, decided, serr := prep.send(ctx, e.Tag)
	took := time.Since(started)
	d.checkpoint(CheckpointSent, key)
	// The provider has answered: record it even if the invocation's
	// context ends meanwhile.
	ctx, cancel := recordContext(ctx)
	defer cancel()
	switch {
	case serr == nil && decided != "":
		d.sendMetrics(job, key.Channel, started, took, nil)
		d.holds.succeeded(t, key.Channel)
		return d.finish(ctx, job, e, decided, "")
	case serr == nil:
		d.sendMetrics(job, key.Channel, started, took, nil)
		d.holds.succeeded(t, key.Channel)
		return d.finish(ctx, job, e, Sent, id)
	}
	se := Classify(serr)
	d.sendMetrics(job, key.Channel, started, took, se)
	d.log().WarnContext(ctx, "send failed", "executionId", job.ExecutionID, "campaignId", job.CampaignID,
		"channel", string(key.Channel), "failure", se.Failure.String(), "code", se.Code, "attempt", e.Attempts, logsafe.Attr(serr))
	var final Outcome
	wait := Jitter(tm.Backoff(e.Attempts))
	switch se.Failure {
	case Refused:
		d.holds.succeeded(t, key.Channel)
		d.releaseCap(ctx, job, e, prep.capped)
		return d.finish(ctx, job, e, Failed(se.Code), "")
	case Uncertain:
		d.holds.ended(t, key.Channel)
		return d.finish(ctx, job, e, Ambiguous(se.Code), "")
	case Held:
		wait = d.holds.failed(t, key.Channel, se.Code, d.now(), tm.RetryFirst, tm.RetryMax)
		final = Failed(se.Code)
	case Throttled:
		d.holds.ended(t, key.Channel)
		final = FailedThrottled
	default: // NotSent
		d.holds.ended(t, key.Channel)
		final = FailedUnavailable
	}
	// Nothing was taken: keep the claim, retry later — unless the
	// deadline has passed.
	e.InFlight, e.LastCode = false, se.Code
	if !d.now().Before(deadline) {
		d.releaseCap(ctx, job, e, prep.capped)
		return d.finish(ctx, job, e, final, "")
	}
	if err := d.Ledger.Release(ctx, t, e); err != nil {
		// The claim stays in flight: a redelivery closes it as
		// interrupted once stale. Nothing was sent, but we cannot say so.
		return "", retryAfter(tm.StaleAttempt, fmt.Errorf("release claim: %w", err))
	}
	return "", retryAfter(wait, serr)
}

// RecordGrace is how long recording an answer may outlive the invocation's
// context: an attempt's last write happens at most this long after
// Dispatch's timeout (so StaleAttempt must exceed both).
const RecordGrace = 3 * time.Second

// ending reports whether the invocation has less left than an attempt
// needs: a send and a second to record its answer.
func (d *Dispatcher) ending(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return ok && time.Until(dl) < d.timing().SendTimeout+time.Second
}

// recordContext is ctx without its cancellation, for the few seconds it
// takes to record an answer the provider already gave.
func recordContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), RecordGrace)
}

// deadline is when a recipient's retries end: RetryDeadline after its
// first claim or its job's first receipt, whichever came first. A proof is
// never retried.
func (d *Dispatcher) deadline(job Job, e Entry) time.Time {
	if job.Proof {
		return time.Time{}
	}
	origin := e.ClaimedAt
	if f := job.Receipt.First; !f.IsZero() && (origin.IsZero() || f.Before(origin)) {
		origin = f
	}
	if origin.IsZero() {
		origin = d.now()
	}
	return origin.Add(d.timing().RetryDeadline)
}

// settle answers an entry another delivery left: a done entry's outcome;
// an attempt in flight too long ago to be alive is closed as
// ambiguous:interrupted; a fresh one is waited for.
func (d *Dispatcher) settle(ctx context.Context, job Job, existing Entry) (Outcome, error) {
	if existing.State == Done {
		return existing.Outcome, nil
	}
	tm := d.timing()
	age := d.now().Sub(existing.AttemptAt)
	if age < tm.StaleAttempt {
		return "", retryAfter(max(tm.StaleAttempt-age, time.Second), logsafe.Text("an attempt is in flight elsewhere"))
	}
	// Its invocation has ended without recording an answer: the provider
	// may or may not have the message, so it is not sent again.
	existing.State, existing.Outcome, existing.InFlight, existing.FinishedAt = Done, AmbiguousInterrupted, false, d.now()
	if err := d.Ledger.Finish(ctx, job.Tenant, existing); err != nil {
		return "", retryAfter(time.Second, fmt.Errorf("close interrupted attempt: %w", err))
	}
	d.recorded(job, existing.Channel, AmbiguousInterrupted)
	d.log().WarnContext(ctx, "interrupted attempt closed", "executionId", job.ExecutionID, "campaignId", job.CampaignID,
		"channel", string(existing.Channel), "outcome", string(AmbiguousInterrupted))
	return AmbiguousInterrupted, nil
}

// close records an outcome reached without an attempt, unless the entry
// already has one (a redelivery) or an attempt is in flight.
func (d *Dispatcher) close(ctx context.Context, job Job, e Entry, o Outcome) (Outcome, error) {
	e.State, e.Outcome, e.InFlight, e.FinishedAt = Done, o, false, d.now()
	existing, closed, err := d.Ledger.Close(ctx, job.Tenant, e)
	switch {
	case err != nil:
		return "", retryAfter(Jitter(d.timing().Backoff(max(job.Receipt.Count, 1))), fmt.Errorf("record %s: %w", o, err))
	case closed:
		d.recorded(job, e.Channel, o)
		return o, nil
	}
	return d.settle(ctx, job, existing)
}

// closeOpen closes a claim whose attempt is not in flight.
func (d *Dispatcher) closeOpen(ctx context.Context, job Job, e Entry, o Outcome) (Outcome, error) {
	return d.close(ctx, job, e, o)
}

// finish records the outcome of the attempt e holds, retrying the write a
// few times: the provider has answered, and a lost outcome would leave
// the claim in flight until it is stale (then ambiguous:interrupted).
func (d *Dispatcher) finish(ctx context.Context, job Job, e Entry, o Outcome, msgID string) (Outcome, error) {
	e.State, e.Outcome, e.MessageID, e.InFlight, e.FinishedAt = Done, o, msgID, false, d.now()
	var err error
	for i := range 3 {
		if err = d.Ledger.Finish(ctx, job.Tenant, e); err == nil || derrors.Is(err, derrors.Conflict) || ctx.Err() != nil {
			break
		}
		_ = sleepCtx(ctx, time.Duration(50<<i)*time.Millisecond)
	}
	if derrors.Is(err, derrors.Conflict) {
		// Another delivery closed it (it took our attempt for
		// interrupted): its outcome stands.
		return "", retryAfter(time.Second, logsafe.Text("the entry was closed by another delivery"))
	}
	if err != nil {
		d.log().ErrorContext(ctx, "outcome not recorded", "executionId", job.ExecutionID, "campaignId", job.CampaignID,
			"channel", string(e.Channel), "outcome", string(o), logsafe.Attr(err))
		return "", retryAfter(d.timing().StaleAttempt, fmt.Errorf("record outcome: %w", err))
	}
	d.recorded(job, e.Channel, o)
	return o, nil
}

// storeFailed handles a ledger write that failed before any attempt:
// retried with backoff until the deadline, then closed as
// failed:store_unavailable if the ledger takes that.
func (d *Dispatcher) storeFailed(ctx context.Context, job Job, e Entry, err error) (Outcome, error) {
	if !d.now().Before(d.deadline(job, e)) {
		if o, cerr := d.close(ctx, job, e, FailedStoreUnavailable); cerr == nil {
			return o, nil
		}
	}
	return "", retryAfter(Jitter(d.timing().Backoff(max(job.Receipt.Count, e.Attempts, 1))), err)
}
