package delivery

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/backoff"
	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/tenant"
)

// Timing is the dispatcher's retry schedule and its safety margins. The
// numbers must fit the queue around it (see config.Delivery.Check): an
// attempt's invocation always ends before StaleAttempt, so an attempt in
// flight for longer was interrupted; and the deadline passes long before
// the queue gives up on a message.
type Timing struct {
	// RetryFirst is the first retry's delay; each later one doubles, up
	// to RetryMax, with jitter (a delay d becomes a random one in
	// [d/2, d]).
	RetryFirst, RetryMax time.Duration
	// RetryDeadline bounds a recipient's retries, counted from its first
	// claim (or its job's first receipt): past it, a recipient still
	// refused for now is closed as failed.
	RetryDeadline time.Duration
	// StaleAttempt is how old an attempt in flight must be before a
	// redelivery takes it as interrupted (ambiguous:interrupted): above
	// Dispatch's timeout, so the invocation that started it has ended.
	StaleAttempt time.Duration
	// LimiterWait is the longest a send waits for the local rate limiter
	// before its recipient is retried later instead.
	LimiterWait time.Duration
	// SendTimeout bounds one provider call. An attempt is only started
	// while the invocation has that long left, plus a second to record
	// its answer, so a timeout never cuts between a send and its outcome.
	SendTimeout time.Duration
}

// DefaultTiming is the schedule of the deployed template.
var DefaultTiming = Timing{RetryFirst: 5 * time.Second, RetryMax: 5 * time.Minute, RetryDeadline: time.Hour,
	StaleAttempt: time.Minute, LimiterWait: 2 * time.Second, SendTimeout: 10 * time.Second}

func (t Timing) orDefault() Timing {
	d := DefaultTiming
	if t.RetryFirst > 0 {
		d.RetryFirst = t.RetryFirst
	}
	if t.RetryMax > 0 {
		d.RetryMax = t.RetryMax
	}
	if t.RetryDeadline > 0 {
		d.RetryDeadline = t.RetryDeadline
	}
	if t.StaleAttempt > 0 {
		d.StaleAttempt = t.StaleAttempt
	}
	if t.LimiterWait > 0 {
		d.LimiterWait = t.LimiterWait
	}
	if t.SendTimeout > 0 {
		d.SendTimeout = t.SendTimeout
	}
	return d
}

// Backoff is the delay before retry n (1 for the first), without jitter:
// RetryFirst doubled n-1 times, at most RetryMax.
func (t Timing) Backoff(n int) time.Duration {
	t = t.orDefault()
	return backoff.Exponential(t.RetryFirst, t.RetryMax, n)
}

// Jitter spreads d over [d/2, d], so messages throttled together do not
// come back together.
func Jitter(d time.Duration) time.Duration { return backoff.Jitter(d) }

// RetryError asks for the job to come back after After (a hint: the
// queue rounds it up to whole seconds). errors.Is(err, ErrRetry) holds
// for every RetryError.
type RetryError struct {
	After time.Duration
	Err   error
}

func (e *RetryError) Error() string { return "retry later: " + e.Err.Error() }

// Unwrap returns the cause.
func (e *RetryError) Unwrap() error { return e.Err }

// Is reports whether target is ErrRetry, which every RetryError is.
func (e *RetryError) Is(target error) bool { return target == ErrRetry }

// LogCode names the error for logs; its cause follows.
func (e *RetryError) LogCode() string { return "retry later" }

func retryAfter(d time.Duration, err error) *RetryError { return &RetryError{After: d, Err: err} }

// Limiter spaces sends at a steady rate (one every 1/rate), so a warm
// Dispatch stays under the provider account's send rate instead of
// finding it by throttling errors. It is safe for concurrent use.
type Limiter struct {
	mu       sync.Mutex
	interval time.Duration
	next     time.Time
	now      func() time.Time
	sleep    func(context.Context, time.Duration) error
}

// NewLimiter returns a limiter of rate sends per second (0 or less: no
// limit).
func NewLimiter(rate float64) *Limiter {
	l := &Limiter{now: time.Now, sleep: sleepCtx}
	if rate > 0 {
		l.interval = time.Duration(float64(time.Second) / rate)
	}
	return l
}

// Wait blocks until the next send slot, unless it is more than max away
// (or past ctx's deadline): then it takes no slot and reports false.
func (l *Limiter) Wait(ctx context.Context, max time.Duration) bool {
	if l == nil || l.interval == 0 {
		return true
	}
	l.mu.Lock()
	now := l.now()
	at := l.next
	if at.Before(now) {
		at = now
	}
	wait := at.Sub(now)
	if dl, ok := ctx.Deadline(); wait > max || ok && now.Add(wait).After(dl) {
		l.mu.Unlock()
		return false
	}
	l.next = at.Add(l.interval)
	l.mu.Unlock()
	if wait > 0 {
		return l.sleep(ctx, wait) == nil
	}
	return true
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// holds are the channels held after an account-level refusal, per tenant
// and channel, in one warm Dispatch: while held nothing is attempted;
// when the hold expires one attempt (the probe) goes through; its success
// lifts the hold, its failure holds again for twice as long.
type holds struct {
	mu sync.Mutex
	m  map[holdKey]*hold
}

type holdKey struct {
	tenant  string
	channel campaign.Channel
}

type hold struct {
	until    time.Time
	interval time.Duration
	probing  bool
	code     string
}

// check reports whether a send on (t, ch) may be attempted now; if not,
// how long to wait and the code that held the channel.
func (h *holds) check(t tenant.Tenant, ch campaign.Channel, now time.Time) (ok bool, wait time.Duration, code string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	hd := h.m[holdKey{t.Key(), ch}]
	switch {
	case hd == nil:
		return true, 0, ""
	case !hd.probing && !now.Before(hd.until):
		hd.probing = true // this attempt is the probe
		return true, 0, ""
	case hd.probing:
		return false, max(hd.interval/2, time.Second), hd.code
	default:
		return false, hd.until.Sub(now), hd.code
	}
}

// succeeded lifts the hold of (t, ch), if any.
func (h *holds) succeeded(t tenant.Tenant, ch campaign.Channel) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.m, holdKey{t.Key(), ch})
}

// failed holds (t, ch) after an account-level refusal: for first, then
// twice as long after each failed probe, at most maxHold.
func (h *holds) failed(t tenant.Tenant, ch campaign.Channel, code string, now time.Time, first, maxHold time.Duration) time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		h.m = map[holdKey]*hold{}
	}
	k := holdKey{t.Key(), ch}
	hd := h.m[k]
	if hd == nil {
		hd = &hold{interval: first}
		h.m[k] = hd
	} else if hd.probing {
		hd.interval = min(hd.interval*2, maxHold)
	}
	hd.until, hd.probing, hd.code = now.Add(hd.interval), false, code
	return hd.interval
}

// ended closes a probe that ended without an answer about the account (a
// throttle, an unreachable provider): the next attempt probes again.
func (h *holds) ended(t tenant.Tenant, ch campaign.Channel) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if hd := h.m[holdKey{t.Key(), ch}]; hd != nil {
		hd.probing = false
	}
}

// Queue is what Timing must fit around: the Dispatch function and its
// queue, as the template (or the local cloud) sets them.
type Queue struct {
	// FunctionTimeout is Dispatch's timeout.
	FunctionTimeout time.Duration
	// Visibility is the queue's visibility timeout: when a message whose
	// invocation died comes back.
	Visibility time.Duration
	// MaxReceiveCount is the receives after which SQS moves a message to
	// the dead-letter queue.
	MaxReceiveCount int
}

// ReceivesWithin is how many receives a message can have within the
// retry deadline when every delay is jittered down to its shortest: the
// queue must allow more, or a recipient could reach the dead-letter queue
// before its deadline closes it.
func (t Timing) ReceivesWithin() int {
	t = t.orDefault()
	n, total := 1, time.Duration(0)
	for total < t.RetryDeadline {
		total += max(t.Backoff(n)/2, time.Second)
		n++
	}
	return n
}

// Check reports how t fails to fit q, so that a crash-left attempt is
// closed (ambiguous:interrupted) and every retry deadline passes before a
// message can reach the dead-letter queue:
//
//   - a send call and the recording of its answer fit in an invocation
//     (SendTimeout + 1s < FunctionTimeout);
//   - an attempt in flight for StaleAttempt belongs to an ended invocation
//     that can no longer write (StaleAttempt > FunctionTimeout + RecordGrace);
//   - a message whose invocation died comes back with its attempt already
//     stale (Visibility >= FunctionTimeout + StaleAttempt);
//   - the queue allows every receive the retry schedule needs, with five
//     to spare for in-flight waits and crashes
//     (MaxReceiveCount >= ReceivesWithin() + 5);
//   - a delay fits SQS's visibility limit (RetryMax <= 12h).
func (t Timing) Check(q Queue) error {
	t = t.orDefault()
	var errs []error
	if t.SendTimeout+time.Second >= q.FunctionTimeout {
		errs = append(errs, fmt.Errorf("send timeout %s plus a second must be shorter than Dispatch's timeout %s", t.SendTimeout, q.FunctionTimeout))
	}
	if t.StaleAttempt <= q.FunctionTimeout+RecordGrace {
		errs = append(errs, fmt.Errorf("stale attempt age %s must exceed Dispatch's timeout %s plus the %s an answer may take to record", t.StaleAttempt, q.FunctionTimeout, RecordGrace))
	}
	if q.Visibility < q.FunctionTimeout+t.StaleAttempt {
		errs = append(errs, fmt.Errorf("visibility timeout %s must be at least Dispatch's timeout plus the stale attempt age (%s)", q.Visibility, q.FunctionTimeout+t.StaleAttempt))
	}
	if need := t.ReceivesWithin() + 5; q.MaxReceiveCount < need {
		errs = append(errs, fmt.Errorf("maxReceiveCount %d is too low: the retry schedule needs up to %d receives within its %s deadline, plus 5", q.MaxReceiveCount, need-5, t.RetryDeadline))
	}
	if t.RetryMax > 12*time.Hour {
		errs = append(errs, fmt.Errorf("retry max %s exceeds SQS's 12-hour visibility limit", t.RetryMax))
	}
	return errors.Join(errs...)
}
