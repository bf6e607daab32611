package localcloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"

	"github.com/heraldhq/herald/internal/logsafe"
	"github.com/heraldhq/herald/internal/schedule"
)

// moto stores EventBridge Scheduler schedules and never fires them; the
// local cloud does, as the service would: a schedule whose next firing
// time has come invokes its target function with the schedule's input
// (context attributes such as <aws.scheduler.scheduled-time> filled in),
// and a one-time schedule with ActionAfterCompletion DELETE is deleted
// once its invocation succeeded. A failed invocation stays due and is
// retried on the next pass, as Scheduler's retry policy would.

// firingState remembers when each recurring schedule last fired.
type firingState struct {
	mu   sync.Mutex
	last map[string]time.Time // group/name → last scheduled time fired
}

// Fired is one schedule invocation made by FireDueSchedules.
type Fired struct {
	Group, Name   string
	ScheduledTime time.Time
	Err           error
}

// Now is the cloud's clock (Options.Now, else the wall clock).
func (c *Cloud) Now() time.Time { return c.now() }

// runSchedules fires due schedules once a second until ctx is done.
func (c *Cloud) runSchedules(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := c.FireDueSchedules(ctx); err != nil && ctx.Err() == nil {
				c.log.ErrorContext(ctx, "firing schedules failed", logsafe.Attr(err))
			}
		}
	}
}

// FireDueSchedules fires every schedule of the stack's groups that is due
// at the cloud's clock, once per due occurrence (a recurring schedule
// whose clock jumped several periods fires for each, up to 100), and
// returns what it fired. Schedules created by a firing are seen by the
// next call, not this one.
func (c *Cloud) FireDueSchedules(ctx context.Context) ([]Fired, error) {
	sc := scheduler.NewFromConfig(c.AWS)
	now := c.now()
	var fired []Fired
	for _, group := range c.Stack.ScheduleGroups {
		p := scheduler.NewListSchedulesPaginator(sc, &scheduler.ListSchedulesInput{GroupName: aws.String(group)})
		var names []string
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return fired, fmt.Errorf("list schedules of %s: %w", group, err)
			}
			for _, s := range page.Schedules {
				if s.State == schedtypes.ScheduleStateEnabled {
					names = append(names, aws.ToString(s.Name))
				}
			}
		}
		for _, name := range names {
			f, err := c.fireIfDue(ctx, sc, group, name, now)
			if err != nil {
				return fired, err
			}
			fired = append(fired, f...)
		}
	}
	return fired, nil
}

func (c *Cloud) fireIfDue(ctx context.Context, sc *scheduler.Client, group, name string, now time.Time) ([]Fired, error) {
	s, err := sc.GetSchedule(ctx, &scheduler.GetScheduleInput{GroupName: aws.String(group), Name: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("get schedule %s: %w", name, err)
	}
	expr, err := schedule.Parse(aws.ToString(s.ScheduleExpression), aws.ToString(s.ScheduleExpressionTimezone))
	if err != nil {
		c.log.WarnContext(ctx, "schedule expression not understood locally; it never fires", "schedule", name, logsafe.Attr(err))
		return nil, nil
	}
	key := group + "/" + name
	created := aws.ToTime(s.CreationDate)
	c.firing.mu.Lock()
	if c.firing.last == nil {
		c.firing.last = map[string]time.Time{}
	}
	last, seen := c.firing.last[key]
	c.firing.mu.Unlock()
	if !seen {
		last = created.Add(-time.Nanosecond)
		if expr.OneTime() {
			last = time.Time{}
		}
	}
	var out []Fired
	for range 100 {
		at, ok := expr.Next(last, created)
		if !ok || at.After(now) {
			break
		}
		f := Fired{Group: group, Name: name, ScheduledTime: at, Err: c.invokeTarget(ctx, s.Target, at)}
		out = append(out, f)
		if f.Err != nil {
			c.log.WarnContext(ctx, "schedule invocation failed; it will be retried", "schedule", name, logsafe.Attr(f.Err))
			break
		}
		last = at
		c.firing.mu.Lock()
		c.firing.last[key] = at
		c.firing.mu.Unlock()
		if expr.OneTime() {
			if s.ActionAfterCompletion == schedtypes.ActionAfterCompletionDelete {
				_, err := sc.DeleteSchedule(ctx, &scheduler.DeleteScheduleInput{GroupName: aws.String(group), Name: aws.String(name)})
				var gone *schedtypes.ResourceNotFoundException
				if err != nil && !errors.As(err, &gone) { // the target may delete its own schedule
					return out, fmt.Errorf("delete completed schedule %s: %w", name, err)
				}
			}
			break
		}
	}
	return out, nil
}

// invokeTarget invokes the function a schedule targets with its input.
func (c *Cloud) invokeTarget(ctx context.Context, t *schedtypes.Target, at time.Time) error {
	arn := aws.ToString(t.Arn)
	for id, f := range c.Stack.Functions {
		if f.ARN != arn {
			continue
		}
		h := c.Handlers.Events[id]
		if h == nil {
			return fmt.Errorf("function %s cannot be invoked by a schedule", id)
		}
		in := strings.ReplaceAll(aws.ToString(t.Input), schedule.ScheduledTimeAttribute, at.UTC().Format(time.RFC3339))
		hctx, cancel := context.WithTimeout(ctx, f.Timeout)
		defer cancel()
		_, err := h(hctx, json.RawMessage(in))
		return err
	}
	return fmt.Errorf("schedule target %s is not a function of the stack", arn)
}
