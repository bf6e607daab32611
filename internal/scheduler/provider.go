package scheduler

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	awsscheduler "github.com/aws/aws-sdk-go-v2/service/scheduler"

	"github.com/heraldhq/herald/internal/schedule"
)

// Provider is EventBridge Scheduler as a function's wiring gives it to
// the app (app.Clients.Scheduler).
type Provider struct{ client *awsscheduler.Client }

// NewProvider returns the provider of cfg's account and region.
func NewProvider(cfg aws.Config) Provider { return Provider{client: awsscheduler.NewFromConfig(cfg)} }

// Scheduler returns the adapter creating schedules in group that invoke
// targetARN as roleARN, failed invocations going to deadLetterARN.
func (p Provider) Scheduler(group, targetARN, roleARN, deadLetterARN string) schedule.Scheduler {
	return New(p.client, Config{Group: group, TargetARN: targetARN, RoleARN: roleARN, DeadLetterARN: deadLetterARN})
}
