package delivery

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/logsafe"
	"github.com/heraldhq/herald/internal/profile"
)

// Quiet hours.
//
// A channel configuration's quiet hours (campaign.QuietHours) hold back
// the messages of its campaigns — marketing ones, and transactional ones
// when the configuration says so; never proofs — while the recipient's
// local time (the stored profile's timeZone, else the configuration's
// default zone) is inside the window. The check runs in run, after the
// profiles are read and before any recipient is claimed:
//
//   - drop: the recipient is closed as excluded:quiet_hours, through the
//     same path as any exclusion;
//   - defer: the recipient is taken out of the job without a ledger
//     entry or a count — it stays pending — and is put in a job of the
//     recipients of the job due at the same instant, the end of their
//     window (deferJobs), carrying DeferUntil. A job due within MaxDelay
//     (SQS's longest DelaySeconds) goes back on the dispatch queue
//     delayed until then; a later one — or any one of a campaign with a
//     delivery rate — is parked with a one-time EventBridge Scheduler
//     schedule at its due instant, whose firing queues it again
//     (Deferrals, ScheduledDeferrals) — the path the audience fan-out
//     takes past 15 minutes —, paced: its recipients take slots on the
//     campaign's delivery-rate timeline from the window's end, so a
//     window ending for many at once does not send them at once. Without
//     Deferrals it hops on the queue MaxDelay at a time. Any delivery of
//     it before it is due goes straight back to the queue without
//     reading anything (holdDeferred). Once due it is delivered as any
//     job, quiet hours checked again.
//
// Since nothing is claimed before the deferral, the recipient's one
// message is the one its deferred job sends: a job delivered twice defers
// twice, and the ledger's claim keeps the second from sending. A deferred
// recipient is never judged against the execution's 12-hour rate window,
// which bounds the fan-out only: the slots its release takes on the
// campaign's timeline have no limit but the queue's 15 minutes ahead.

// ExcludedQuietHours: the recipient's local time was inside its channel
// configuration's quiet hours, and the configuration drops such
// recipients; nothing was sent.
const ExcludedQuietHours Outcome = "excluded:quiet_hours"

// calendar is the clock quiet hours are read by: Calendar, else Now.
func (d *Dispatcher) calendar() time.Time {
	if d.Calendar != nil {
		return d.Calendar().UTC()
	}
	return d.now()
}

// quietSet is what the quiet-hours check decided for a job's recipients,
// by index: dropped ones, and deferred ones with the instant they are due.
type quietSet struct {
	drop  map[int]bool
	later map[int]time.Time
	// paced: the campaign has a delivery rate, which the deferred
	// recipients are released at (through Deferrals, however soon due).
	paced bool
}

// deferred reports whether recipient i is deferred.
func (q quietSet) deferred(i int) bool {
	_, ok := q.later[i]
	return ok
}

// quietHours checks every recipient still to be delivered against cfg's
// quiet hours. Recipients already counted, proofs, a reconciliation's
// second look and campaigns the window does not apply to are left alone,
// as are audience members without a profile (excluded:no_profile
// anyway).
func (d *Dispatcher) quietHours(job Job, cv *compiled, cfg campaign.ChannelConfig, profiles map[profile.Identity]profile.Profile, done map[int]Outcome) quietSet {
	var q quietSet
	qh := cfg.QuietHours
	if !qh.Applies(cv.version.Type) || job.Proof || job.Reconcile {
		return q
	}
	q.paced = cv.version.Type == campaign.Marketing && cv.version.Spec.Schedule.DeliveryRate > 0
	now := d.calendar()
	for i, r := range job.Recipients {
		if _, ok := done[i]; ok {
			continue
		}
		p := profiles[profile.Identity{Namespace: r.Namespace, ID: r.UserID}]
		if noProfile(job, cv, r, p) {
			continue
		}
		c := qh.Check(now, p.TimeZone)
		switch {
		case !c.Quiet:
		case qh.Drops():
			if q.drop == nil {
				q.drop = map[int]bool{}
			}
			q.drop[i] = true
		default:
			if q.later == nil {
				q.later = map[int]time.Time{}
			}
			q.later[i] = c.Ends
		}
	}
	return q
}

// deferJobs puts a job's deferred recipients back on the queue, one job
// per instant they are due, and returns an error (a retry of the job)
// when the queue refused: the recipients are then deferred again by the
// retry. Without a queue (Requeue) they are retried as the job is.
func (d *Dispatcher) deferJobs(ctx context.Context, job Job, q quietSet) error {
	if len(q.later) == 0 {
		return nil
	}
	byDue := map[time.Time][]Recipient{}
	for i, r := range job.Recipients {
		if due, ok := q.later[i]; ok {
			byDue[due] = append(byDue[due], r)
		}
	}
	now := d.calendar()
	var queued, scheduled []Job
	for _, due := range slices.SortedFunc(maps.Keys(byDue), time.Time.Compare) {
		j := job
		j.Recipients, j.DeferUntil, j.Receipt = byDue[due], due, Receipt{}
		j.Delay = deferDelay(due, now)
		if d.Deferrals != nil && (due.Sub(now) > MaxDelay || q.paced) {
			scheduled = append(scheduled, j)
		} else {
			queued = append(queued, j)
		}
	}
	fail := func(err error) error {
		return retryAfter(Jitter(d.timing().Backoff(max(job.Receipt.Count, 1))), fmt.Errorf("defer recipients past quiet hours: %w", err))
	}
	if len(queued) > 0 {
		if d.Requeue == nil {
			return retryAfter(MaxDelay, logsafe.Text("quiet hours: no queue to defer recipients to"))
		}
		if err := d.Requeue.Enqueue(ctx, queued); err != nil {
			return fail(err)
		}
	}
	for _, j := range scheduled {
		if err := d.Deferrals.Defer(ctx, j); err != nil {
			return fail(err)
		}
	}
	d.log().InfoContext(ctx, "recipients deferred by quiet hours", "executionId", job.ExecutionID, "campaignId", job.CampaignID,
		"deferred", len(q.later), "queued", len(queued), "scheduled", len(scheduled))
	return nil
}

// holdDeferred sends a deferred job that is not yet due back to the queue,
// for as long as the queue can hold it (at most MaxDelay), and reports
// whether it did: nothing else of the job is read meanwhile.
func (d *Dispatcher) holdDeferred(ctx context.Context, job Job) (bool, error) {
	now := d.calendar()
	if job.DeferUntil.IsZero() || !now.Before(job.DeferUntil) {
		return false, nil
	}
	if d.Requeue == nil {
		return true, retryAfter(min(job.DeferUntil.Sub(now), MaxDelay), logsafe.Text("quiet hours: deferred until the window ends"))
	}
	j := job
	j.Receipt, j.Delay = Receipt{}, deferDelay(job.DeferUntil, now)
	if err := d.Requeue.Enqueue(ctx, []Job{j}); err != nil {
		return true, retryAfter(Jitter(d.timing().Backoff(max(job.Receipt.Count, 1))), fmt.Errorf("hold deferred job: %w", err))
	}
	return true, nil
}

// deferDelay is how long a job due at due waits on the queue now: whole
// seconds rounded up (SQS's unit, so it is never early), at most MaxDelay.
func deferDelay(due, now time.Time) time.Duration {
	wait := due.Sub(now)
	secs := (wait + time.Second - 1) / time.Second
	return min(max(secs*time.Second, 0), MaxDelay)
}

// failed gives every deferred recipient err (deferJobs's), so the job is
// retried and defers them again.
func (q quietSet) failed(errs []error, err error) {
	if err == nil {
		return
	}
	for i := range q.later {
		errs[i] = err
	}
}
