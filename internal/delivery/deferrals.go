package delivery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/schedule"
	"github.com/heraldhq/herald/internal/tenant"
)

// ReasonQuietHours is the Reason of a parked job of recipients deferred
// by quiet hours: waiting for its schedule, not given up on (a redrive
// leaves it alone).
const ReasonQuietHours = "quiet_hours"

// Deferrals keeps the jobs of recipients deferred by quiet hours whose
// window ends later than the queue can delay them, and puts each back on
// the dispatch queue when it is due.
type Deferrals interface {
	// Defer keeps job until job.DeferUntil. Deferring the same job
	// again (a redelivery) keeps one.
	Defer(ctx context.Context, job Job) error
}

// QueuedDeferrals is Deferrals for a function that does not schedule
// (Dispatch, which then links no Scheduler client and may pass no role):
// each deferred job goes as it is on the deferral queue, whose consumer
// (the Scheduler function) defers it with ScheduledDeferrals. The queue's
// dead letters go where the dispatch queue's do: a job that could not be
// deferred is closed and parked like one that could not be sent.
type QueuedDeferrals struct {
	Queue Requeue
}

var _ Deferrals = QueuedDeferrals{}

// Defer implements Deferrals: the job on the queue, undelayed.
func (q QueuedDeferrals) Defer(ctx context.Context, job Job) error {
	job.Receipt, job.Delay = Receipt{}, 0
	if err := q.Queue.Enqueue(ctx, []Job{job}); err != nil {
		return fmt.Errorf("queue deferred job: %w", err)
	}
	return nil
}

// ParkedJobs reads one parked job.
type ParkedJobs interface {
	// ParkedJob returns the parked job id of execution exec, or
	// derrors.NotFound.
	ParkedJob(ctx context.Context, t tenant.Tenant, exec, id string) (ParkedJob, error)
}

// ScheduledDeferrals is Deferrals on EventBridge Scheduler, as the
// audience fan-out waits past SQS's 15 minutes: the job is parked in the
// table (Reason ReasonQuietHours) and a one-time schedule at its due
// instant makes the Scheduler function Wake it.
type ScheduledDeferrals struct {
	Parking   Parking
	Jobs      ParkedJobs
	Schedules schedule.Scheduler
	// Queue is the dispatch queue Wake puts jobs back on.
	Queue Requeue
	// Campaigns and Pacer, when set, release the deferred recipients of
	// a marketing campaign with a delivery rate on the campaign's pacing
	// timeline (the fan-out's), so the end of a window does not send them
	// all at once; the execution's 12-hour window does not bound them.
	Campaigns Campaigns
	Pacer     Pacer
	Now       func() time.Time
}

// Pacer hands out send slots on a campaign's delivery-rate timeline
// (execution.Pacer: the timeline the audience fan-out reserves on).
type Pacer interface {
	// Reserve reserves up to want consecutive slots at rate per second,
	// none at or after limit, and returns the first slot's time and how
	// many it got (0 when the next free slot is at or past limit).
	Reserve(ctx context.Context, t tenant.Tenant, campaignID string, want, rate int, now, limit time.Time) (start time.Time, got int, err error)
}

var _ Deferrals = (*ScheduledDeferrals)(nil)

func (s *ScheduledDeferrals) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// DeferredJobID names a deferred job by its execution, recipients and due
// instant, so deferring the same recipients again parks and schedules
// the same one.
func DeferredJobID(job Job) string {
	h := sha256.New()
	h.Write([]byte(job.ExecutionID + "\x00" + job.DeferUntil.UTC().Format(time.RFC3339Nano)))
	for _, r := range job.Recipients {
		h.Write([]byte("\x00" + r.Namespace + "\x00" + r.UserID))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Defer implements Deferrals: park, then schedule (a schedule whose job
// is not parked yet would find nothing to wake).
func (s *ScheduledDeferrals) Defer(ctx context.Context, job Job) error {
	id := DeferredJobID(job)
	job.Receipt, job.Delay = Receipt{}, 0
	if err := s.Parking.Park(ctx, job.Tenant, ParkedJob{ID: id, Job: job, Reason: ReasonQuietHours, ParkedAt: s.now()}); err != nil {
		return fmt.Errorf("park deferred job: %w", err)
	}
	// at() has a one-second resolution: round up so it is never early.
	// Nor is the schedule asked for an instant already past, or about to
	// be (a job deferred again after a retry): at the earliest a minute
	// from now, EventBridge Scheduler's own precision; its wake then sends
	// at once.
	at := job.DeferUntil.Add(time.Second - 1).Truncate(time.Second)
	if earliest := s.now().Add(time.Minute).Truncate(time.Second); at.Before(earliest) {
		at = earliest
	}
	return s.schedule(ctx, job, id, "q", at)
}

// schedule creates the one-time schedule (named by kind and id) that
// wakes the parked job id at at.
func (s *ScheduledDeferrals) schedule(ctx context.Context, job Job, id, kind string, at time.Time) error {
	t := job.Tenant
	in, _ := json.Marshal(schedule.Input{Kind: schedule.KindDeferred, Org: t.Org, Sandbox: t.Sandbox, ExecutionID: job.ExecutionID,
		CampaignID: job.CampaignID, JobID: id})
	if err := s.Schedules.CreateSchedule(ctx, schedule.Schedule{Name: schedule.Name(t, kind, id), Expression: schedule.At(at),
		TimeZone: "UTC", Input: in, OneTime: true}); err != nil {
		return fmt.Errorf("schedule deferred job: %w", err)
	}
	return nil
}

// Wake puts a deferred job back on the dispatch queue (delayed by what is
// left until it is due, if anything) and unparks it. A job already woken
// is nothing to do; a firing repeated between the two writes queues it
// twice, which the ledger's claim makes harmless.
func (s *ScheduledDeferrals) Wake(ctx context.Context, t tenant.Tenant, exec, id string) error {
	p, err := s.Jobs.ParkedJob(ctx, t, exec, id)
	if derrors.Is(err, derrors.NotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read deferred job: %w", err)
	}
	job := p.Job
	now := s.now()
	rate, err := s.rate(ctx, job)
	if err != nil {
		return err
	}
	if rate == 0 {
		job.Delay = deferDelay(job.DeferUntil, now)
		if err := s.Queue.Enqueue(ctx, []Job{job}); err != nil {
			return fmt.Errorf("queue deferred job: %w", err)
		}
		return s.unpark(ctx, t, exec, id)
	}
	start := maxTime(now, job.DeferUntil)
	first, got, err := s.Pacer.Reserve(ctx, t, job.CampaignID, len(job.Recipients), rate, start, now.Add(MaxDelay))
	if err != nil {
		return fmt.Errorf("pace deferred job: %w", err)
	}
	if got > 0 {
		if err := s.Queue.Enqueue(ctx, pacedJobs(job, got, first, rate, now)); err != nil {
			return fmt.Errorf("queue deferred job: %w", err)
		}
	}
	if got == len(job.Recipients) {
		return s.unpark(ctx, t, exec, id)
	}
	// The timeline's free slots end within SQS's 15 minutes: the rest
	// waits, parked, until its next slot is 14 minutes away (as the
	// fan-out does). A firing repeated before this write queues the
	// first part again, which the ledger's claim makes harmless.
	next := first.Add(time.Duration(got) * time.Second / time.Duration(rate))
	job.Recipients = job.Recipients[got:]
	if err := s.Parking.Park(ctx, t, ParkedJob{ID: id, Job: job, Reason: ReasonQuietHours, ParkedAt: p.ParkedAt}); err != nil {
		return fmt.Errorf("park the rest of a deferred job: %w", err)
	}
	at := maxTime(next.Add(-MaxDelay+time.Minute), now).Add(time.Second - 1).Truncate(time.Second)
	return s.schedule(ctx, job, id, "q"+strconv.FormatInt(at.Unix(), 36), at)
}

// rate is the delivery rate the deferred job is released at: its
// campaign's, when it is a paced marketing campaign and Wake can pace.
func (s *ScheduledDeferrals) rate(ctx context.Context, job Job) (int, error) {
	if s.Pacer == nil || s.Campaigns == nil {
		return 0, nil
	}
	v, err := s.Campaigns.GetVersion(ctx, job.Tenant, job.CampaignID, job.Version)
	if derrors.Is(err, derrors.NotFound) {
		return 0, nil // Dispatch decides what becomes of it
	}
	if err != nil {
		return 0, fmt.Errorf("read campaign version: %w", err)
	}
	if v.Type != campaign.Marketing {
		return 0, nil
	}
	return v.Spec.Schedule.DeliveryRate, nil
}

func (s *ScheduledDeferrals) unpark(ctx context.Context, t tenant.Tenant, exec, id string) error {
	if err := s.Parking.Unpark(ctx, t, exec, id); err != nil {
		return fmt.Errorf("unpark deferred job: %w", err)
	}
	return nil
}

// pacedJobs splits the first n recipients of job by their slot on the
// timeline, 1/rate seconds apart from first: each is delayed on the queue
// until its slot, rounded up to the second, and recipients sharing a
// delay share a job.
func pacedJobs(job Job, n int, first time.Time, rate int, now time.Time) []Job {
	var out []Job
	for i, r := range job.Recipients[:n] {
		slot := first.Add(time.Duration(i) * time.Second / time.Duration(rate))
		delay := deferDelay(slot, now)
		if len(out) == 0 || out[len(out)-1].Delay != delay {
			j := job
			j.Recipients, j.Delay = nil, delay
			out = append(out, j)
		}
		out[len(out)-1].Recipients = append(out[len(out)-1].Recipients, r)
	}
	return out
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
