// Package schedule holds what Herald knows about EventBridge Scheduler: the
// schedules it creates (deterministic names, one-time or recurring), the
// port that creates and deletes them, the input every schedule hands the
// Scheduler function, and a parser for Scheduler's at(), rate() and cron()
// expressions that says when one fires next.
package schedule

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/heraldhq/herald/internal/tenant"
)

// Schedule is one EventBridge Scheduler schedule that Herald creates. Its
// target is always the Scheduler function, which receives Input.
type Schedule struct {
	// Name is deterministic (Name), so a retried create finds the
	// schedule it made before instead of making a second one.
	Name string
	// Expression is at(yyyy-mm-ddThh:mm:ss), cron(…) or rate(…).
	Expression string
	// TimeZone is the IANA zone the expression is read in (default UTC).
	TimeZone string
	// Input is the JSON the Scheduler function receives (a Input).
	Input []byte
	// OneTime schedules are deleted by EventBridge after they fire
	// (ActionAfterCompletion DELETE).
	OneTime bool
}

// Scheduler creates and deletes schedules (EventBridge Scheduler).
type Scheduler interface {
	// CreateSchedule creates s. A schedule of the same name that already
	// exists is not an error: names are deterministic, so it is ours.
	CreateSchedule(ctx context.Context, s Schedule) error
	// DeleteSchedule deletes a schedule; one already gone is not an error.
	DeleteSchedule(ctx context.Context, name string) error
}

// Kinds of schedule input.
const (
	KindExecution     = "execution"      // a scheduled audience execution fires
	KindContinue      = "continue"       // a fan-out resumes (paced or long)
	KindCampaignStart = "campaign-start" // a scheduled campaign goes live
	KindCampaignEnd   = "campaign-end"   // a campaign completes
	KindRecurrence    = "recurrence"     // a recurring execution fires
	KindDeferred      = "deferred"       // recipients deferred by quiet hours are due
)

// Input is what every schedule hands the Scheduler function.
type Input struct {
	Kind         string `json:"kind"`
	Org          string `json:"org"`
	Sandbox      string `json:"sandbox"`
	ExecutionID  string `json:"executionId,omitempty"`
	CampaignID   string `json:"campaignId,omitempty"`
	RecurrenceID string `json:"recurrenceId,omitempty"`
	// JobID names a deferred job parked under ExecutionID (KindDeferred).
	JobID string `json:"jobId,omitempty"`
	// ScheduledTime is filled by EventBridge Scheduler from the
	// <aws.scheduler.scheduled-time> context attribute: the same for every
	// retry of one firing, so it makes a firing's requestId.
	ScheduledTime string `json:"scheduledTime,omitempty"`
}

// ScheduledTimeAttribute is the Scheduler context attribute Herald puts in
// a recurrence's input.
const ScheduledTimeAttribute = "<aws.scheduler.scheduled-time>"

// Tenant returns the input's tenant.
func (in Input) Tenant() tenant.Tenant {
	return tenant.Tenant{Org: in.Org, Sandbox: in.Sandbox}
}

// Name is the deterministic schedule name of (tenant, kind, id):
// "h-<tenant hash>-<kind>-<id>", within Scheduler's 64 characters of
// [0-9A-Za-z_.-]. An id that would not fit is hashed.
func Name(t tenant.Tenant, kind, id string) string {
	th := sha256.Sum256([]byte(t.Key()))
	prefix := "h-" + hex.EncodeToString(th[:])[:10] + "-" + kind + "-"
	if len(prefix)+len(id) > 64 || !nameSafe(id) {
		ih := sha256.Sum256([]byte(id))
		id = hex.EncodeToString(ih[:])[:64-len(prefix)]
	}
	return prefix + id
}

func nameSafe(s string) bool {
	for _, r := range s {
		if !(r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// At is the one-time expression for t, in UTC.
func At(t time.Time) string { return "at(" + t.UTC().Format("2006-01-02T15:04:05") + ")" }
