package delivery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

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
	Now   func() time.Time
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
	t := job.Tenant
	in, _ := json.Marshal(schedule.Input{Kind: schedule.KindDeferred, Org: t.Org, Sandbox: t.Sandbox, ExecutionID: job.ExecutionID,
		CampaignID: job.CampaignID, JobID: id})
	// at() has a one-second resolution: round up so it is never early.
	at := job.DeferUntil.Add(time.Second - 1).Truncate(time.Second)
	if err := s.Schedules.CreateSchedule(ctx, schedule.Schedule{Name: schedule.Name(t, "q", id), Expression: schedule.At(at),
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
	job.Delay = deferDelay(job.DeferUntil, s.now())
	if err := s.Queue.Enqueue(ctx, []Job{job}); err != nil {
		return fmt.Errorf("queue deferred job: %w", err)
	}
	if err := s.Parking.Unpark(ctx, t, exec, id); err != nil {
		return fmt.Errorf("unpark deferred job: %w", err)
	}
	return nil
}
