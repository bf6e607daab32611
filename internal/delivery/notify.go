package delivery

import (
	"context"
	"fmt"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/tenant"
)

// OutcomeNotice is one recipient's final outcome, for the tenant's
// feedback webhook.
type OutcomeNotice struct {
	Key        Key
	CampaignID string
	Version    int
	Type       campaign.Type
	Outcome    Outcome
}

// OutcomeNotifier hears the outcomes Dispatch records (the feedback
// webhook's queue). It may be told an outcome more than once (a job
// delivered again); each notice names its recipient and outcome so the
// receiving end can tell repeats apart.
type OutcomeNotifier interface {
	NotifyOutcomes(ctx context.Context, t tenant.Tenant, ns []OutcomeNotice) error
}

// notifies reports whether an outcome is told to the webhook from
// Dispatch: exclusions and failures of every channel, and sends of SMS and
// push (an email's send is told by its SES event, an ambiguous one when an
// event confirms it).
func notifies(ch campaign.Channel, o Outcome) bool {
	switch o.Kind() {
	case "excluded", "failed":
		return true
	case "sent":
		return ch != campaign.Email
	}
	return false
}

// notify tells the OutcomeNotifier the final outcomes of a job's
// recipients (recorded now or on an earlier delivery). A failure makes the
// job come back: its recipients are done and skipped, and told again.
func (d *Dispatcher) notify(ctx context.Context, job Job, cv *compiled, outcomes [][]Outcome, errs []error) error {
	if d.Outcomes == nil || job.Proof {
		return nil
	}
	ch := cv.version.Channel
	var ns []OutcomeNotice
	for i, r := range job.Recipients {
		if errs[i] != nil || len(outcomes[i]) == 0 {
			continue
		}
		o := aggregate(outcomes[i])
		if !notifies(ch, o) {
			continue
		}
		ns = append(ns, OutcomeNotice{Key: Key{ExecutionID: job.ExecutionID, Namespace: r.Namespace, UserID: r.UserID, Channel: ch},
			CampaignID: job.CampaignID, Version: job.Version, Type: cv.version.Type, Outcome: o})
	}
	if len(ns) == 0 {
		return nil
	}
	rctx, cancel := recordContext(ctx)
	defer cancel()
	if err := d.Outcomes.NotifyOutcomes(rctx, job.Tenant, ns); err != nil {
		return retryAfter(Jitter(d.timing().Backoff(max(job.Receipt.Count, 1))), fmt.Errorf("notify outcomes: %w", err))
	}
	return nil
}
