package execution

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/heraldhq/herald/internal/audience"
	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/logsafe"
	"github.com/heraldhq/herald/internal/schedule"
	"github.com/heraldhq/herald/internal/tenant"
)

// FanOut puts a running execution's members on the dispatch queue, a Query
// page at a time, from the stored cursor on, for about budget. It saves
// the cursor after every page, so a crash resumes where the last saved
// page ended and no member is enqueued twice (the window left is a crash
// between SQS accepting a page and the cursor write; the ledger's
// conditional claim then drops the duplicate).
//
// Only the holder of the execution's lease fans out: a second invocation
// (a schedule delivered twice, a continuation racing a retry) finds the
// lease held and returns. When the budget runs out, or paced batches lie
// beyond SQS's 15-minute delay, it hands over to a one-time continuation
// schedule. A fan-out that fails (the queue or the store refused)
// releases its lease with the progress it saved, so the retry that
// follows resumes at once instead of finding the lease held.
func (s *AudienceExecutions) FanOut(ctx context.Context, t tenant.Tenant, id string, budget time.Duration) (err error) {
	token := newToken()
	start := s.now()
	var queued int64
	began := time.Now() // real time, for the rate
	defer func() { s.fanOutRate(queued, time.Since(began)) }()
	ex, err := s.Executions.AcquireLease(ctx, t, id, token, start, start.Add(LeaseDuration))
	if derrors.Is(err, derrors.Conflict) {
		s.log().InfoContext(ctx, "fan-out not needed: finished, or owned by another invocation", "executionId", id)
		return nil
	}
	if err != nil {
		return fmt.Errorf("lease execution %s: %w", id, err)
	}
	defer func() {
		if err != nil {
			s.release(ctx, t, ex)
		}
	}()
	if ex.StartedAt.IsZero() {
		// First run: the campaign must still be live and in its window
		// (a scheduled execution fires long after it was accepted).
		if _, err := liveVersion(ctx, s.Campaigns, t, ex.CampaignID, campaign.Marketing, false, start); err != nil {
			if k := derrors.KindOf(err); k == derrors.Conflict || k == derrors.NotFound {
				return s.fail(ctx, t, ex, "", err)
			}
			return err
		}
		ex.StartedAt = start
	}
	v, err := s.Campaigns.GetVersion(ctx, t, ex.CampaignID, ex.Version)
	if err != nil {
		return fmt.Errorf("read campaign %s version %d: %w", ex.CampaignID, ex.Version, err)
	}
	ex.Channel = v.Channel
	pageSize := cmpOr(s.PageSize, DefaultPageSize)
	deadline := start.Add(budget)
	for {
		now := s.now()
		if !now.Before(deadline) || ctxShort(ctx) {
			return s.continueAt(ctx, t, ex, now)
		}
		page, err := s.Members.Members(ctx, t, ex.AudienceID, ex.Cursor, pageSize)
		if derrors.Is(err, derrors.Invalid) || derrors.Is(err, derrors.NotFound) {
			return s.fail(ctx, t, ex, "the audience could not be read: ", err)
		}
		if err != nil {
			return fmt.Errorf("read audience %s: %w", ex.AudienceID, err)
		}
		var slots time.Time
		if ex.Rate > 0 && len(page.Members) > 0 {
			// Slots for the members read, not for a page: a small
			// audience takes only its own time on the campaign's
			// timeline, and the next execution starts where it ends.
			windowEnd := ex.StartedAt.Add(MaxWindow)
			first, got, err := s.Pacer.Reserve(ctx, t, ex.CampaignID, len(page.Members), ex.Rate, now, minTime(now.Add(MaxDelay), windowEnd))
			if err != nil {
				return fmt.Errorf("pace execution %s: %w", id, err)
			}
			if got == 0 {
				if !first.Before(windowEnd) {
					return s.excludeRest(ctx, t, ex)
				}
				// The next free slot is over 15 minutes away: come back
				// when it is 14 minutes away.
				return s.continueAt(ctx, t, ex, first.Add(-MaxDelay+time.Minute))
			}
			if ex.QueuedBehind == 0 && ex.Enqueued == 0 && first.Sub(ex.StartedAt) >= time.Second {
				// Earlier executions of the campaign still hold the
				// timeline: this one waits its turn, and says so.
				ex.QueuedBehind = first.Sub(ex.StartedAt).Round(time.Second)
			}
			if got < len(page.Members) {
				// The slots end within this page (15 minutes ahead, or
				// the 12-hour window): read just the members that have
				// one, so the cursor stops after the last of them.
				if page, err = s.Members.Members(ctx, t, ex.AudienceID, ex.Cursor, got); err != nil {
					return fmt.Errorf("read audience %s: %w", ex.AudienceID, err)
				}
				page.Members = page.Members[:min(got, len(page.Members))]
			}
			slots = first
		}
		if len(page.Members) > 0 {
			if err := s.Queue.Enqueue(ctx, s.jobs(t, ex, page, slots, s.now())); err != nil {
				return fmt.Errorf("enqueue execution %s: %w", id, err)
			}
		}
		n := int64(len(page.Members))
		queued += n
		ex.Cursor, ex.Targeted, ex.Enqueued = page.Next, ex.Targeted+n, ex.Enqueued+n
		ex.LeaseUntil = s.now().Add(LeaseDuration)
		if page.Next == "" {
			ex.State, ex.LeaseUntil = StateFannedOut, time.Time{}
		}
		if err := s.Executions.SaveProgress(ctx, t, ex); err != nil {
			if derrors.Is(err, derrors.Conflict) {
				s.log().WarnContext(ctx, "fan-out lost its lease; stopping", "executionId", id)
				return nil
			}
			return fmt.Errorf("save progress of %s: %w", id, err)
		}
		if page.Next == "" {
			s.log().InfoContext(ctx, "fan-out finished", "executionId", id, "campaignId", ex.CampaignID,
				"targeted", ex.Targeted, "enqueued", ex.Enqueued, "windowExcluded", ex.WindowExcluded)
			return nil
		}
	}
}

// jobs groups a page's members into queue messages of at most JobSize
// recipients. Paced pages get a slot each, 1/rate seconds apart from
// first; a member's delay is its slot's distance from now rounded up to a
// whole second (SQS's unit), so no second of the release timeline holds
// more than rate members. Members sharing a delay share messages.
func (s *AudienceExecutions) jobs(t tenant.Tenant, ex AudienceExecution, page audience.Page, first, now time.Time) []delivery.Job {
	size := cmpOr(s.JobSize, DefaultJobSize)
	var out []delivery.Job
	cur := -1
	for i, m := range page.Members {
		delay := time.Duration(0)
		if ex.Rate > 0 {
			slot := first.Add(time.Duration(float64(i) * float64(time.Second) / float64(ex.Rate)))
			secs := math.Ceil(slot.Sub(now).Seconds())
			delay = time.Duration(min(max(secs, 0), MaxDelay.Seconds())) * time.Second
		}
		if cur < 0 || out[cur].Delay != delay || len(out[cur].Recipients) == size {
			out = append(out, delivery.Job{Tenant: t, ExecutionID: ex.ID, CampaignID: ex.CampaignID, Delay: delay,
				Version: ex.Version, Channel: ex.Channel, Ledger: delivery.LedgerV2, Shards: ex.Shards, Context: ex.Context,
				Recipients: make([]delivery.Recipient, 0, min(size, len(page.Members)-i))})
			cur = len(out) - 1
		}
		out[cur].Recipients = append(out[cur].Recipients, delivery.Recipient{Type: delivery.TypeAEP, UserID: m.ID, Namespace: m.Namespace})
	}
	return out
}

// excludeRest records every member not yet read as
// excluded:rate_window_exceeded and finishes the fan-out.
func (s *AudienceExecutions) excludeRest(ctx context.Context, t tenant.Tenant, ex AudienceExecution) error {
	pageSize := cmpOr(s.PageSize, DefaultPageSize)
	for {
		page, err := s.Members.Members(ctx, t, ex.AudienceID, ex.Cursor, pageSize)
		if err != nil {
			return fmt.Errorf("read audience %s: %w", ex.AudienceID, err)
		}
		now := s.now()
		entries := make([]delivery.Entry, len(page.Members))
		for i, m := range page.Members {
			k := delivery.Key{ExecutionID: ex.ID, Namespace: m.Namespace, UserID: m.ID, Channel: ex.Channel}
			entries[i] = delivery.Entry{Key: k, CampaignID: ex.CampaignID, Version: ex.Version, State: delivery.Done,
				Outcome: delivery.ExcludedRateWindow, Tag: delivery.Tag(t, k), ClaimedAt: now, FinishedAt: now}
		}
		if err := s.Executions.RecordOutcomes(ctx, t, entries); err != nil {
			return fmt.Errorf("record window exclusions of %s: %w", ex.ID, err)
		}
		n := int64(len(page.Members))
		ex.Cursor, ex.Targeted, ex.WindowExcluded = page.Next, ex.Targeted+n, ex.WindowExcluded+n
		ex.LeaseUntil = now.Add(LeaseDuration)
		if page.Next == "" {
			ex.State, ex.LeaseUntil = StateFannedOut, time.Time{}
		}
		if err := s.Executions.SaveProgress(ctx, t, ex); err != nil {
			if derrors.Is(err, derrors.Conflict) {
				return nil
			}
			return err
		}
		if page.Next == "" {
			s.log().InfoContext(ctx, "fan-out finished at the end of its window", "executionId", ex.ID,
				"targeted", ex.Targeted, "enqueued", ex.Enqueued, "windowExcluded", ex.WindowExcluded)
			return nil
		}
	}
}

// release gives up a failed fan-out's lease, keeping the progress ex
// holds (the cursor after the last page the queue took). If the store
// refuses this too, the lease runs out by itself.
func (s *AudienceExecutions) release(ctx context.Context, t tenant.Tenant, ex AudienceExecution) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	ex.LeaseUntil = time.Time{}
	if err := s.Executions.SaveProgress(ctx, t, ex); err != nil {
		s.log().WarnContext(ctx, "failed fan-out's lease not released; it expires by itself", "executionId", ex.ID, logsafe.Attr(err))
	}
}

// continueAt saves progress and creates a one-time continuation schedule
// at `at` (now at the earliest), releasing the lease to it.
func (s *AudienceExecutions) continueAt(ctx context.Context, t tenant.Tenant, ex AudienceExecution, at time.Time) error {
	if now := s.now(); at.Before(now) {
		at = now
	}
	ex.Continuations++
	name := schedule.Name(t, "c"+strconv.Itoa(ex.Continuations), ex.ID)
	in, _ := json.Marshal(schedule.Input{Kind: schedule.KindContinue, Org: t.Org, Sandbox: t.Sandbox, ExecutionID: ex.ID, CampaignID: ex.CampaignID})
	// at() has a one-second resolution: round up so it is never early.
	at = at.Truncate(time.Second).Add(time.Second)
	if err := s.Schedules.CreateSchedule(ctx, schedule.Schedule{Name: name, Expression: schedule.At(at), TimeZone: "UTC", Input: in, OneTime: true}); err != nil {
		return fmt.Errorf("schedule continuation of %s: %w", ex.ID, err)
	}
	ex.LeaseUntil = time.Time{}
	if err := s.Executions.SaveProgress(ctx, t, ex); err != nil && !derrors.Is(err, derrors.Conflict) {
		return err
	}
	s.log().InfoContext(ctx, "fan-out continues later", "executionId", ex.ID, "at", at.Format(time.RFC3339), "targeted", ex.Targeted)
	return nil
}

// fail ends ex for good: its status says why (prefix and err's message,
// which the tenant may read); the log names err by its kind.
func (s *AudienceExecutions) fail(ctx context.Context, t tenant.Tenant, ex AudienceExecution, prefix string, err error) error {
	ex.State, ex.FailReason, ex.LeaseUntil = StateFailed, prefix+err.Error(), time.Time{}
	if err := s.Executions.SaveProgress(ctx, t, ex); err != nil && !derrors.Is(err, derrors.Conflict) {
		return err
	}
	s.log().WarnContext(ctx, "audience execution failed", "executionId", ex.ID, "campaignId", ex.CampaignID, logsafe.Attr(err))
	return nil
}

// ctxShort reports whether the invocation is about to time out.
func ctxShort(ctx context.Context) bool {
	d, ok := ctx.Deadline()
	return ok && time.Until(d) < 10*time.Second
}

func newToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func cmpOr(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
