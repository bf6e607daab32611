package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsscheduler "github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/scheduler/types"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/infra/motoserver"
	"github.com/heraldhq/herald/internal/schedule"
	"github.com/heraldhq/herald/internal/scheduler"
	"github.com/heraldhq/herald/internal/tenant"
)

func TestMain(m *testing.M) {
	code := m.Run()
	motoserver.StopShared()
	os.Exit(code)
}

var cfg = scheduler.Config{
	TargetARN:     "arn:aws:lambda:" + motoserver.Region + ":" + motoserver.AccountID + ":function:herald-scheduler",
	RoleARN:       "arn:aws:iam::" + motoserver.AccountID + ":role/herald-scheduler-invoke",
	DeadLetterARN: "arn:aws:sqs:" + motoserver.Region + ":" + motoserver.AccountID + ":herald-schedules-dlq",
}

var groups atomic.Int32

// newClient returns an adapter writing to a schedule group of its own in
// the shared moto, and an SDK client to read back what moto stored. The
// group is made fresh: moto's CreateScheduleGroup would silently replace
// an existing group and the schedules in it, so the name must be new.
func newClient(t *testing.T) (*scheduler.Client, *awsscheduler.Client, string) {
	t.Helper()
	ctx := context.Background()
	sdk := awsscheduler.NewFromConfig(motoserver.Shared(t).AWSConfig())
	group := fmt.Sprintf("herald-test-%d", groups.Add(1))
	if _, err := sdk.GetScheduleGroup(ctx, &awsscheduler.GetScheduleGroupInput{Name: aws.String(group)}); err == nil {
		t.Fatalf("schedule group %s exists already; creating it again would empty it", group)
	}
	if _, err := sdk.CreateScheduleGroup(ctx, &awsscheduler.CreateScheduleGroupInput{Name: aws.String(group)}); err != nil {
		t.Fatalf("create schedule group %s: %v", group, err)
	}
	c := cfg
	c.Group = group
	return scheduler.New(sdk, c), sdk, group
}

// stored is what moto holds of a schedule, in the fields the adapter sets.
type stored struct {
	Group, Expression, TimeZone, State, FlexibleWindow, ActionAfterCompletion string
	TargetARN, RoleARN, Input, DeadLetterARN                                  string
	MaxRetryAttempts, MaxEventAgeSeconds                                      int32
}

// getSchedule reads a schedule back from moto.
func getSchedule(t *testing.T, sdk *awsscheduler.Client, group, name string) stored {
	t.Helper()
	out, err := sdk.GetSchedule(context.Background(), &awsscheduler.GetScheduleInput{Name: aws.String(name), GroupName: aws.String(group)})
	if err != nil {
		t.Fatalf("GetSchedule(%s/%s): %v", group, name, err)
	}
	s := stored{
		Group: aws.ToString(out.GroupName), Expression: aws.ToString(out.ScheduleExpression),
		TimeZone: aws.ToString(out.ScheduleExpressionTimezone), State: string(out.State),
		ActionAfterCompletion: string(out.ActionAfterCompletion),
	}
	if out.FlexibleTimeWindow != nil {
		s.FlexibleWindow = string(out.FlexibleTimeWindow.Mode)
	}
	if tg := out.Target; tg != nil {
		s.TargetARN, s.RoleARN, s.Input = aws.ToString(tg.Arn), aws.ToString(tg.RoleArn), aws.ToString(tg.Input)
		if tg.DeadLetterConfig != nil {
			s.DeadLetterARN = aws.ToString(tg.DeadLetterConfig.Arn)
		}
		if rp := tg.RetryPolicy; rp != nil {
			s.MaxRetryAttempts, s.MaxEventAgeSeconds = aws.ToInt32(rp.MaximumRetryAttempts), aws.ToInt32(rp.MaximumEventAgeInSeconds)
		}
	}
	return s
}

// listSchedules returns the names of the group's schedules, sorted.
func listSchedules(t *testing.T, sdk *awsscheduler.Client, group string) []string {
	t.Helper()
	var names []string
	p := awsscheduler.NewListSchedulesPaginator(sdk, &awsscheduler.ListSchedulesInput{GroupName: aws.String(group)})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("ListSchedules(%s): %v", group, err)
		}
		for _, s := range out.Schedules {
			if g := aws.ToString(s.GroupName); g != group {
				t.Errorf("ListSchedules(%s) returned %s of group %s", group, aws.ToString(s.Name), g)
			}
			names = append(names, aws.ToString(s.Name))
		}
	}
	slices.Sort(names)
	return names
}

func isNotFound(err error) bool {
	var nf *types.ResourceNotFoundException
	return errors.As(err, &nf)
}

var acme = tenant.Tenant{Org: "acme", Sandbox: "prod"}

func TestCreateScheduleStoresWhatHeraldAsksFor(t *testing.T) {
	tests := []struct {
		name     string
		schedule schedule.Schedule
		want     func(group string) stored
	}{
		{"a one-time schedule keeps its zone and is deleted after it fires",
			schedule.Schedule{Name: schedule.Name(acme, schedule.KindExecution, "exec-1"),
				Expression: "at(2026-12-24T18:00:00)", TimeZone: "Europe/Paris", OneTime: true,
				Input: []byte(`{"kind":"execution","org":"acme","sandbox":"prod","id":"exec-1"}`)},
			func(group string) stored {
				return stored{Group: group, Expression: "at(2026-12-24T18:00:00)", TimeZone: "Europe/Paris", State: "ENABLED",
					FlexibleWindow: "OFF", ActionAfterCompletion: "DELETE", TargetARN: cfg.TargetARN, RoleARN: cfg.RoleARN,
					Input:         `{"kind":"execution","org":"acme","sandbox":"prod","id":"exec-1"}`,
					DeadLetterARN: cfg.DeadLetterARN, MaxRetryAttempts: 10, MaxEventAgeSeconds: 3600}
			}},
		// moto stores no ActionAfterCompletion when none is sent (AWS
		// would answer NONE); either way the schedule is not DELETE.
		{"a recurring schedule without a zone is read in UTC and kept after it fires",
			schedule.Schedule{Name: schedule.Name(acme, schedule.KindRecurrence, "camp-1"),
				Expression: "cron(0 9 ? * MON *)",
				Input:      []byte(`{"kind":"recurrence","scheduledTime":"<aws.scheduler.scheduled-time>"}`)},
			func(group string) stored {
				return stored{Group: group, Expression: "cron(0 9 ? * MON *)", TimeZone: "UTC", State: "ENABLED",
					FlexibleWindow: "OFF", TargetARN: cfg.TargetARN, RoleARN: cfg.RoleARN,
					Input:         `{"kind":"recurrence","scheduledTime":"<aws.scheduler.scheduled-time>"}`,
					DeadLetterARN: cfg.DeadLetterARN, MaxRetryAttempts: 10, MaxEventAgeSeconds: 3600}
			}},
		{"a rate schedule in a zone is stored as given",
			schedule.Schedule{Name: "h-continue-1", Expression: "rate(5 minutes)", TimeZone: "America/New_York",
				Input: []byte(`{"kind":"continue"}`)},
			func(group string) stored {
				return stored{Group: group, Expression: "rate(5 minutes)", TimeZone: "America/New_York", State: "ENABLED",
					FlexibleWindow: "OFF", TargetARN: cfg.TargetARN, RoleARN: cfg.RoleARN, Input: `{"kind":"continue"}`,
					DeadLetterARN: cfg.DeadLetterARN, MaxRetryAttempts: 10, MaxEventAgeSeconds: 3600}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, sdk, group := newClient(t)
			if err := c.CreateSchedule(context.Background(), tt.schedule); err != nil {
				t.Fatalf("CreateSchedule: %v", err)
			}
			got := getSchedule(t, sdk, group, tt.schedule.Name)
			if diff := cmp.Diff(tt.want(group), got); diff != "" {
				t.Errorf("stored schedule mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{tt.schedule.Name}, listSchedules(t, sdk, group)); diff != "" {
				t.Errorf("schedules in the group (-want +got):\n%s", diff)
			}
			_, err := sdk.GetSchedule(context.Background(), &awsscheduler.GetScheduleInput{Name: aws.String(tt.schedule.Name)})
			if !isNotFound(err) {
				t.Errorf("GetSchedule(default group) error = %v, want ResourceNotFoundException: the schedule belongs in %s", err, group)
			}
		})
	}
}

func TestCreatingAScheduleAgainKeepsTheFirst(t *testing.T) {
	ctx := context.Background()
	c, sdk, group := newClient(t)
	name := schedule.Name(acme, schedule.KindCampaignStart, "camp-1")
	first := schedule.Schedule{Name: name, Expression: "at(2026-12-01T09:00:00)", Input: []byte(`{"try":1}`), OneTime: true}
	if err := c.CreateSchedule(ctx, first); err != nil {
		t.Fatalf("first CreateSchedule: %v", err)
	}
	// A retried create has the same deterministic name: the schedule is
	// the one the earlier try made, and it is not an error.
	retry := schedule.Schedule{Name: name, Expression: "at(2026-12-02T09:00:00)", TimeZone: "Asia/Tokyo", Input: []byte(`{"try":2}`)}
	if err := c.CreateSchedule(ctx, retry); err != nil {
		t.Fatalf("CreateSchedule(existing name) error = %v, want none", err)
	}
	got := getSchedule(t, sdk, group, name)
	want := stored{Group: group, Expression: "at(2026-12-01T09:00:00)", TimeZone: "UTC", State: "ENABLED", FlexibleWindow: "OFF",
		ActionAfterCompletion: "DELETE", TargetARN: cfg.TargetARN, RoleARN: cfg.RoleARN, Input: `{"try":1}`,
		DeadLetterARN: cfg.DeadLetterARN, MaxRetryAttempts: 10, MaxEventAgeSeconds: 3600}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stored schedule mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{name}, listSchedules(t, sdk, group)); diff != "" {
		t.Errorf("schedules in the group (-want +got):\n%s", diff)
	}
}

func TestDeleteSchedule(t *testing.T) {
	ctx := context.Background()
	c, sdk, group := newClient(t)
	start := schedule.Name(acme, schedule.KindCampaignStart, "camp-1")
	end := schedule.Name(acme, schedule.KindCampaignEnd, "camp-1")
	for _, name := range []string{start, end} {
		if err := c.CreateSchedule(ctx, schedule.Schedule{Name: name, Expression: "at(2026-12-01T09:00:00)", Input: []byte(`{}`), OneTime: true}); err != nil {
			t.Fatalf("CreateSchedule(%s): %v", name, err)
		}
	}
	if diff := cmp.Diff(slices.Sorted(slices.Values([]string{start, end})), listSchedules(t, sdk, group)); diff != "" {
		t.Fatalf("schedules before the delete (-want +got):\n%s", diff)
	}

	if err := c.DeleteSchedule(ctx, start); err != nil {
		t.Fatalf("DeleteSchedule: %v", err)
	}
	if diff := cmp.Diff([]string{end}, listSchedules(t, sdk, group)); diff != "" {
		t.Errorf("schedules after the delete (-want +got):\n%s", diff)
	}
	_, err := sdk.GetSchedule(ctx, &awsscheduler.GetScheduleInput{Name: aws.String(start), GroupName: aws.String(group)})
	if !isNotFound(err) {
		t.Errorf("GetSchedule(deleted) error = %v, want ResourceNotFoundException", err)
	}

	t.Run("a schedule already gone is not an error", func(t *testing.T) {
		if err := c.DeleteSchedule(ctx, start); err != nil {
			t.Errorf("DeleteSchedule(deleted) error = %v, want none", err)
		}
		if err := c.DeleteSchedule(ctx, "h-never-made"); err != nil {
			t.Errorf("DeleteSchedule(never made) error = %v, want none", err)
		}
		if diff := cmp.Diff([]string{end}, listSchedules(t, sdk, group)); diff != "" {
			t.Errorf("schedules left (-want +got):\n%s", diff)
		}
	})
}

// TestOtherFailuresAreReturned drives the real Scheduler client (REST-JSON)
// against a server that refuses with errors moto cannot be made to send.
func TestOtherFailuresAreReturned(t *testing.T) {
	tests := []struct {
		name   string
		status int
		code   string
		call   func(*scheduler.Client) error
		prefix string
	}{
		{"a refused create names the schedule", 400, "ValidationException", func(c *scheduler.Client) error {
			return c.CreateSchedule(context.Background(), schedule.Schedule{Name: "h-1", Expression: "at(bad)", Input: []byte(`{}`)})
		}, "create schedule h-1: "},
		{"a create without permission names the schedule", 403, "AccessDeniedException", func(c *scheduler.Client) error {
			return c.CreateSchedule(context.Background(), schedule.Schedule{Name: "h-2", Expression: "rate(1 hour)", Input: []byte(`{}`)})
		}, "create schedule h-2: "},
		{"a refused delete names the schedule", 400, "ValidationException", func(c *scheduler.Client) error {
			return c.DeleteSchedule(context.Background(), "h-3")
		}, "delete schedule h-3: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var requests atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				_, _ = io.Copy(io.Discard, r.Body)
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("X-Amzn-ErrorType", tt.code)
				w.WriteHeader(tt.status)
				fmt.Fprintf(w, `{"Message":"refused"}`)
			}))
			defer srv.Close()
			sdk := awsscheduler.NewFromConfig(aws.Config{Region: motoserver.Region, BaseEndpoint: aws.String(srv.URL),
				Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
			err := tt.call(scheduler.New(sdk, scheduler.Config{Group: "herald", TargetARN: cfg.TargetARN, RoleARN: cfg.RoleARN, DeadLetterARN: cfg.DeadLetterARN}))
			if err == nil || !strings.HasPrefix(err.Error(), tt.prefix) || !strings.Contains(err.Error(), tt.code) {
				t.Errorf("error = %v, want %s… with %s", err, tt.prefix, tt.code)
			}
			if n := requests.Load(); n != 1 {
				t.Errorf("the server got %d requests, want 1", n)
			}
		})
	}
}
