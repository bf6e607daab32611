package delivery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/logsafe"
	"github.com/heraldhq/herald/internal/tenant"
)

// ParkedJob is a job given up on: its open recipients were closed as
// failed:retries_exhausted, and a redrive reopens them and queues it again.
type ParkedJob struct {
	// ID names the parked job within its execution (a digest of the job,
	// so parking the same job twice keeps one).
	ID       string
	Job      Job
	Reason   string
	ParkedAt time.Time
}

// Parking keeps abandoned jobs until a redrive.
type Parking interface {
	// Park keeps job under its execution; parking an identical job again
	// replaces it.
	Park(ctx context.Context, t tenant.Tenant, p ParkedJob) error
	// Parked returns an execution's parked jobs, oldest first.
	Parked(ctx context.Context, t tenant.Tenant, executionID string) ([]ParkedJob, error)
	// Unpark deletes a parked job (no error when it is gone).
	Unpark(ctx context.Context, t tenant.Tenant, executionID, id string) error
}

// Requeue puts jobs back on the dispatch queue.
type Requeue interface {
	Enqueue(ctx context.Context, jobs []Job) error
}

// Abandon gives up on job — it reached the dead-letter queue, or its
// retry deadline passed with nothing readable — without losing anyone:
// every recipient still open is closed (failed:retries_exhausted; an
// attempt left in flight, ambiguous:interrupted, since the provider may
// have it) and tallied, and the job is parked for a redrive. It returns
// how many entries it closed. Repeating it changes nothing more.
func (d *Dispatcher) Abandon(ctx context.Context, job Job, reason string) (int, error) {
	if err := job.validate(); err != nil {
		return 0, err
	}
	ch := job.Channel
	if ch == "" {
		// Jobs queued before they named their channel.
		v, err := d.Campaigns.GetVersion(ctx, job.Tenant, job.CampaignID, job.Version)
		if err != nil {
			return 0, fmt.Errorf("abandon: campaign %s version %d: %w", job.CampaignID, job.Version, err)
		}
		ch = v.Channel
	}
	job.Channel = ch
	if d.Parking == nil {
		return 0, logsafe.Text("abandon: no parking")
	}
	closed := 0
	var errs []error
	var told []OutcomeNotice
	kinds := map[string]int{}
	for _, r := range job.Recipients {
		key := Key{ExecutionID: job.ExecutionID, Namespace: r.Namespace, UserID: r.UserID, Channel: ch}
		n, o, err := d.abandonRecipient(ctx, job, key)
		closed += n
		if n > 0 && o != "" {
			kinds[o.Kind()]++
		}
		if err != nil {
			errs = append(errs, err)
		}
		if o != "" && notifies(ch, o) {
			told = append(told, OutcomeNotice{Key: key, CampaignID: job.CampaignID, Version: job.Version, Outcome: o})
		}
	}
	// Closed now, whatever follows: counted once.
	d.outcomeMetrics(job, ch, kinds)
	if err := errors.Join(errs...); err != nil {
		return closed, err
	}
	if d.Outcomes != nil && !job.Proof && len(told) > 0 {
		// The campaign's type, when its version can be read (a notice
		// without it says null).
		if cv, err := d.version(ctx, job.Tenant, job.CampaignID, job.Version); err == nil {
			for i := range told {
				told[i].Type = cv.version.Type
			}
		}
		// The dead-letter message comes back if the webhook's queue is
		// down; closing again changes nothing, and the notices repeat.
		if err := d.Outcomes.NotifyOutcomes(ctx, job.Tenant, told); err != nil {
			return closed, fmt.Errorf("notify outcomes: %w", err)
		}
	}
	p := ParkedJob{ID: parkID(job), Job: job, Reason: reason, ParkedAt: d.now()}
	p.Job.Receipt = Receipt{}
	if err := d.Parking.Park(ctx, job.Tenant, p); err != nil {
		return closed, fmt.Errorf("park job: %w", err)
	}
	d.log().WarnContext(ctx, "job parked", "executionId", job.ExecutionID, "campaignId", job.CampaignID,
		"recipients", len(job.Recipients), "closed", closed, "parkedJob", p.ID)
	return closed, nil
}

// parkID names a parked job by its recipients, so the same job parked
// twice (a duplicate message) is kept once.
func parkID(job Job) string {
	h := sha256.New()
	h.Write([]byte(job.ExecutionID))
	for _, r := range job.Recipients {
		h.Write([]byte("\x00" + r.Namespace + "\x00" + r.UserID))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// abandonRecipient closes what is open of one recipient and returns how
// many entries it closed and the recipient's outcome ("" if it has none).
func (d *Dispatcher) abandonRecipient(ctx context.Context, job Job, key Key) (int, Outcome, error) {
	entries, err := d.Ledger.Entries(ctx, job.Tenant, key)
	if err != nil {
		return 0, "", fmt.Errorf("read entries: %w", err)
	}
	closed := 0
	var outs []Outcome
	if len(entries) == 0 {
		e := d.entry(job, key)
		e.State, e.Outcome, e.FinishedAt = Done, FailedRetriesExhausted, d.now()
		existing, ok, err := d.Ledger.Close(ctx, job.Tenant, e)
		if err != nil {
			return 0, "", err
		}
		if !ok {
			// Someone recorded it meanwhile: look again next time.
			return 0, "", logsafe.Text("entry appeared while abandoning (" + string(existing.State) + ")")
		}
		closed++
		outs = append(outs, FailedRetriesExhausted)
	}
	for _, e := range entries {
		switch {
		case e.State == Done:
		case e.InFlight:
			if d.now().Sub(e.AttemptAt) < d.timing().StaleAttempt {
				return closed, "", logsafe.Text("an attempt is still in flight")
			}
			e.State, e.Outcome, e.InFlight, e.FinishedAt = Done, AmbiguousInterrupted, false, d.now()
			if err := d.Ledger.Finish(ctx, job.Tenant, e); err != nil {
				return closed, "", err
			}
			closed++
		default:
			e.State, e.Outcome, e.FinishedAt = Done, FailedRetriesExhausted, d.now()
			existing, ok, err := d.Ledger.Close(ctx, job.Tenant, e)
			if err != nil {
				return closed, "", err
			}
			if !ok {
				e = existing
			} else {
				closed++
			}
		}
		if e.State == Done {
			outs = append(outs, e.Outcome)
		}
	}
	if len(outs) == 0 {
		return closed, "", nil
	}
	o := aggregate(outs)
	if err := d.tally(ctx, job, key, o); err != nil {
		return closed, "", err
	}
	return closed, o, nil
}

// Redriver puts an execution's parked jobs back on the queue.
type Redriver struct {
	Ledger  Ledger
	Parking Parking
	Queue   Requeue
}

// RedriveResult says what a redrive did.
type RedriveResult struct {
	ExecutionID string `json:"executionId"`
	// Jobs is how many parked jobs were queued again; Reopened how many
	// recipients' failed:retries_exhausted outcomes were withdrawn.
	Jobs     int `json:"jobs"`
	Reopened int `json:"reopened"`
}

// Redrive reopens the recipients an execution's parked jobs closed as
// failed:retries_exhausted (their entries and counts withdrawn) and queues
// the jobs again; recipients with any other outcome stay as they are. A
// job is unparked only once it is queued, so an interrupted redrive can be
// repeated.
func (r *Redriver) Redrive(ctx context.Context, t tenant.Tenant, executionID string) (RedriveResult, error) {
	res := RedriveResult{ExecutionID: executionID}
	parked, err := r.Parking.Parked(ctx, t, executionID)
	if err != nil {
		return res, fmt.Errorf("read parked jobs: %w", err)
	}
	for _, p := range parked {
		if p.Reason == ReasonQuietHours {
			continue // deferred, not given up on: its schedule wakes it
		}
		job := p.Job
		for _, rc := range job.Recipients {
			key := Key{ExecutionID: job.ExecutionID, Namespace: rc.Namespace, UserID: rc.UserID, Channel: job.Channel}
			entries, err := r.Ledger.Entries(ctx, t, key)
			if err != nil {
				return res, fmt.Errorf("read entries: %w", err)
			}
			reopened := false
			for _, e := range entries {
				if e.State == Done && e.Outcome == FailedRetriesExhausted {
					if err := r.Ledger.Reopen(ctx, t, e); err != nil {
						return res, fmt.Errorf("reopen entry: %w", err)
					}
					reopened = true
				}
			}
			if reopened {
				tag := Tag(t, key.Recipient())
				if err := r.Ledger.Tally(ctx, t, executionID, Shard(tag, job.Shards), tag, "", ""); err != nil {
					return res, fmt.Errorf("withdraw count: %w", err)
				}
				res.Reopened++
			}
		}
		if err := r.Queue.Enqueue(ctx, []Job{job}); err != nil {
			return res, fmt.Errorf("queue job again: %w", err)
		}
		if err := r.Parking.Unpark(ctx, t, executionID, p.ID); err != nil {
			return res, fmt.Errorf("unpark: %w", err)
		}
		res.Jobs++
	}
	return res, nil
}
