package delivery

import (
	"context"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/reputation"
	"github.com/heraldhq/herald/internal/tenant"
)

// The reconciliation of ambiguous email.
//
// An email whose send was ambiguous (ambiguous:<cause>: the answer was
// lost after SES may have taken it) is settled by SES's events: any event
// about it confirms it sent (package feedback). When none has come
// ReconcileAfter later — long past the seconds in which SES publishes a
// SEND event for what it accepted — SES did not take it, and it is sent
// once more. Dispatch schedules that second look when it records the
// ambiguous outcome: a job of that one recipient, delayed on the queue.
// The look reopens the entry (Ledger.Retry, conditioned on the outcome
// still being ambiguous, so a late confirmation or another look wins) and
// delivers it as any claim; an answer ambiguous again is final.
//
// It only re-sends when SES events are known to reach Herald for the
// tenant (its email SEND events of the last day, SendEvents): a
// configuration set without an event destination confirms nothing, and
// re-sending there would duplicate what SES took.

// SendEvents tells whether SES events reach Herald for a tenant: the
// reputation window's counts (email sends are counted from SEND events).
type SendEvents interface {
	ReputationWindow(ctx context.Context, t tenant.Tenant, ch campaign.Channel, since time.Time) (reputation.Counts, error)
}

// eventsWindow is how far back SendEvents is asked.
const eventsWindow = 24 * time.Hour

// reconcileLater queues the second look at each of a job's emails that
// ended ambiguous.
func (d *Dispatcher) reconcileLater(ctx context.Context, job Job, ch campaign.Channel, outcomes [][]Outcome, errs []error) error {
	if d.ReconcileAfter <= 0 || d.Requeue == nil || job.Proof || job.Reconcile || ch != campaign.Email {
		return nil
	}
	var jobs []Job
	for i, r := range job.Recipients {
		if errs[i] != nil || len(outcomes[i]) == 0 || aggregate(outcomes[i]).Kind() != "ambiguous" {
			continue
		}
		j := job
		j.Recipients, j.Reconcile, j.Delay, j.Receipt, j.Shards = []Recipient{r}, true, min(d.ReconcileAfter, MaxDelay), Receipt{}, job.Shards
		jobs = append(jobs, j)
	}
	if len(jobs) == 0 {
		return nil
	}
	if err := d.Requeue.Enqueue(ctx, jobs); err != nil {
		return retryAfter(Jitter(d.timing().Backoff(max(job.Receipt.Count, 1))), fmt.Errorf("queue reconciliation: %w", err))
	}
	return nil
}

// reconcile is the second look at an ambiguous email: it reopens the
// entry when nothing settled it and SES events reach Herald for the
// tenant, and reports whether the recipient is to be delivered again.
func (d *Dispatcher) reconcile(ctx context.Context, job Job, ch campaign.Channel) (bool, error) {
	if len(job.Recipients) != 1 || ch != campaign.Email {
		return false, nil
	}
	r := job.Recipients[0]
	key := Key{ExecutionID: job.ExecutionID, Namespace: r.Namespace, UserID: r.UserID, Channel: ch}
	entries, err := d.Ledger.Entries(ctx, job.Tenant, key)
	if err != nil {
		return false, retryAfter(Jitter(d.timing().Backoff(max(job.Receipt.Count, 1))), fmt.Errorf("read entry: %w", err))
	}
	if len(entries) != 1 {
		return false, nil
	}
	e := entries[0]
	switch {
	case e.State == Claimed:
		return true, nil // reopened by an earlier look that went no further
	case e.Outcome.Kind() != "ambiguous" || len(e.Events) > 0:
		return false, nil // settled
	}
	if d.SendEvents == nil {
		return false, nil
	}
	w, err := d.SendEvents.ReputationWindow(ctx, job.Tenant, ch, d.now().Add(-eventsWindow))
	if err != nil {
		return false, retryAfter(Jitter(d.timing().Backoff(max(job.Receipt.Count, 1))), fmt.Errorf("read send events: %w", err))
	}
	if w.Sends == 0 {
		d.log().WarnContext(ctx, "ambiguous email left as it is: no SES event reached Herald for the tenant in a day",
			"executionId", job.ExecutionID, "campaignId", job.CampaignID, "outcome", string(e.Outcome))
		return false, nil
	}
	was := e.Outcome
	e.Token, e.ClaimedAt, e.LastCode = token(), d.now(), "reconcile"
	if err := d.Ledger.Retry(ctx, job.Tenant, e, was); derrors.Is(err, derrors.Conflict) {
		return false, nil
	} else if err != nil {
		return false, retryAfter(Jitter(d.timing().Backoff(max(job.Receipt.Count, 1))), fmt.Errorf("reopen entry: %w", err))
	}
	d.log().InfoContext(ctx, "ambiguous email sent once more: no SES event confirmed it", "executionId", job.ExecutionID,
		"campaignId", job.CampaignID, "outcome", string(was))
	return true, nil
}
