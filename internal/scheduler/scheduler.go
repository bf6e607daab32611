// Package scheduler creates and deletes EventBridge Scheduler schedules
// for Herald: every schedule targets the Scheduler function in one
// schedule group, with the flexible time window off, an explicit retry
// policy and a dead-letter queue.
package scheduler

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/scheduler/types"

	"github.com/heraldhq/herald/internal/schedule"
)

// API is the part of the Scheduler client the adapter uses.
type API interface {
	CreateSchedule(ctx context.Context, in *scheduler.CreateScheduleInput, opts ...func(*scheduler.Options)) (*scheduler.CreateScheduleOutput, error)
	DeleteSchedule(ctx context.Context, in *scheduler.DeleteScheduleInput, opts ...func(*scheduler.Options)) (*scheduler.DeleteScheduleOutput, error)
}

// Retry policy of every schedule: Scheduler retries a failed invocation
// for up to an hour (the Scheduler function's work is idempotent).
const (
	MaxRetryAttempts = 10
	MaxEventAge      = 3600
)

// Config says where schedules go and what they invoke.
type Config struct {
	// Group is the schedule group.
	Group string
	// TargetARN is the Scheduler function; RoleARN the role Scheduler
	// assumes to invoke it; DeadLetterARN the SQS queue of invocations
	// that failed every retry.
	TargetARN, RoleARN, DeadLetterARN string
}

// Client implements schedule.Scheduler.
type Client struct {
	api API
	cfg Config
}

var _ schedule.Scheduler = (*Client)(nil)

// New returns a client creating schedules per cfg.
func New(api API, cfg Config) *Client { return &Client{api: api, cfg: cfg} }

// CreateSchedule implements schedule.Scheduler.
func (c *Client) CreateSchedule(ctx context.Context, s schedule.Schedule) error {
	in := &scheduler.CreateScheduleInput{
		Name:                       aws.String(s.Name),
		GroupName:                  aws.String(c.cfg.Group),
		ScheduleExpression:         aws.String(s.Expression),
		ScheduleExpressionTimezone: aws.String(s.TimeZone),
		FlexibleTimeWindow:         &types.FlexibleTimeWindow{Mode: types.FlexibleTimeWindowModeOff},
		State:                      types.ScheduleStateEnabled,
		Target: &types.Target{
			Arn:              aws.String(c.cfg.TargetARN),
			RoleArn:          aws.String(c.cfg.RoleARN),
			Input:            aws.String(string(s.Input)),
			RetryPolicy:      &types.RetryPolicy{MaximumRetryAttempts: aws.Int32(MaxRetryAttempts), MaximumEventAgeInSeconds: aws.Int32(MaxEventAge)},
			DeadLetterConfig: &types.DeadLetterConfig{Arn: aws.String(c.cfg.DeadLetterARN)},
		},
	}
	if s.TimeZone == "" {
		in.ScheduleExpressionTimezone = aws.String("UTC")
	}
	if s.OneTime {
		in.ActionAfterCompletion = types.ActionAfterCompletionDelete
	}
	_, err := c.api.CreateSchedule(ctx, in)
	var conflict *types.ConflictException
	if errors.As(err, &conflict) {
		return nil // deterministic name: it is the schedule a previous try made
	}
	if err != nil {
		return fmt.Errorf("create schedule %s: %w", s.Name, err)
	}
	return nil
}

// DeleteSchedule implements schedule.Scheduler.
func (c *Client) DeleteSchedule(ctx context.Context, name string) error {
	_, err := c.api.DeleteSchedule(ctx, &scheduler.DeleteScheduleInput{Name: aws.String(name), GroupName: aws.String(c.cfg.Group)})
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete schedule %s: %w", name, err)
	}
	return nil
}
