package localcloud

import (
	"fmt"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/delivery"
)

// DispatchFunctionID is the template's Dispatch function; its SQS source
// is the dispatch queue.
const DispatchFunctionID = "DispatchFunction"

// Timing overrides the template's delivery numbers, so tests see retries,
// deadlines and crashes in seconds. Zero fields keep the template's. The
// result must still fit (see CheckDeliveryTiming): Start refuses a stack
// whose numbers could dead-letter a recipient before its deadline.
type Timing struct {
	// DispatchTimeout is the Dispatch function's timeout.
	DispatchTimeout time.Duration
	// SendTimeout, StaleAttempt and the retry schedule are Dispatch's
	// HERALD_SEND_TIMEOUT, HERALD_STALE_ATTEMPT and HERALD_RETRY_*.
	SendTimeout, StaleAttempt, RetryFirst, RetryMax, RetryDeadline time.Duration
	// Visibility and MaxReceiveCount are the dispatch queue's.
	Visibility      time.Duration
	MaxReceiveCount int
	// Env adds environment variables to every function (send rates, say).
	Env map[string]string
}

// FastTiming is a Timing for tests: a 5 s Dispatch, 1 s send calls,
// attempts stale after 9 s, retries from 1 s to 2 s until a 10 s
// deadline, failed invocations back after 14 s, dead-lettered after 20
// receives; sends are not rate-limited (the limiter has tests of its own);
// feedback webhook retries wait 1 s to 2 s (their window stays 24 h);
// ambiguous emails are not looked at again.
var FastTiming = Timing{DispatchTimeout: 5 * time.Second, SendTimeout: time.Second, StaleAttempt: 9 * time.Second,
	RetryFirst: time.Second, RetryMax: 2 * time.Second, RetryDeadline: 10 * time.Second,
	Visibility: 14 * time.Second, MaxReceiveCount: 20,
	Env: map[string]string{"HERALD_EMAIL_RATE": "0", "HERALD_SMS_RATE": "0", "HERALD_PUSH_RATE": "0",
		"HERALD_WEBHOOK_RETRY_FIRST": "1s", "HERALD_WEBHOOK_RETRY_MAX": "2s",
		// No second look at ambiguous emails: a suite that wants one sets
		// a window of seconds (Drain waits for the delayed look).
		"HERALD_RECONCILE_AFTER": "0s"}}

// Apply writes t into the stack's Dispatch function and queue (and Env
// into every function).
func (t Timing) Apply(s *Stack) error {
	for _, f := range s.Functions {
		for k, v := range t.Env {
			f.Env[k] = v
		}
	}
	f, q, err := dispatchQueue(s)
	if err != nil {
		return err
	}
	if t.DispatchTimeout > 0 {
		f.Timeout = t.DispatchTimeout
	}
	env := func(name string, d time.Duration) {
		if d > 0 {
			f.Env[name] = d.String()
		}
	}
	env("HERALD_SEND_TIMEOUT", t.SendTimeout)
	env("HERALD_STALE_ATTEMPT", t.StaleAttempt)
	env("HERALD_RETRY_FIRST", t.RetryFirst)
	env("HERALD_RETRY_MAX", t.RetryMax)
	env("HERALD_RETRY_DEADLINE", t.RetryDeadline)
	if t.Visibility > 0 {
		v := int(t.Visibility / time.Second)
		q.Def.VisibilityTimeout = &v
	}
	if t.MaxReceiveCount > 0 {
		q.MaxReceiveCount = t.MaxReceiveCount
	}
	return nil
}

func dispatchQueue(s *Stack) (*Function, *Queue, error) {
	f, ok := s.Functions[DispatchFunctionID]
	if !ok || len(f.SQS) == 0 {
		return nil, nil, fmt.Errorf("the template has no %s with an SQS source", DispatchFunctionID)
	}
	q := s.QueueByARN(f.SQS[0].QueueARN)
	if q == nil {
		return nil, nil, fmt.Errorf("%s: its queue is not in the template", DispatchFunctionID)
	}
	return f, q, nil
}

// CheckDeliveryTiming checks that the stack's Dispatch function and queue
// fit its retry schedule (delivery.Timing.Check): the numbers the template
// writes down, or a Timing's.
func CheckDeliveryTiming(s *Stack) error {
	f, q, err := dispatchQueue(s)
	if err != nil {
		return err
	}
	cfg, err := config.Load(func(k string) string { return f.Env[k] })
	if err != nil {
		return fmt.Errorf("%s: %w", DispatchFunctionID, err)
	}
	dc := cfg.Delivery
	vis := 30 * time.Second // SQS's default
	if q.Def.VisibilityTimeout != nil {
		vis = time.Duration(*q.Def.VisibilityTimeout) * time.Second
	}
	tm := delivery.Timing{RetryFirst: dc.RetryFirst, RetryMax: dc.RetryMax, RetryDeadline: dc.RetryDeadline, StaleAttempt: dc.StaleAttempt,
		SendTimeout: dc.SendTimeout}
	if err := tm.Check(delivery.Queue{FunctionTimeout: f.Timeout, Visibility: vis, MaxReceiveCount: q.MaxReceiveCount}); err != nil {
		return fmt.Errorf("delivery timing of %s and %s: %s", DispatchFunctionID, q.LogicalID, strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return nil
}
