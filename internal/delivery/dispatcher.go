package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/address"
	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/logsafe"
	"github.com/heraldhq/herald/internal/memo"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/unsubscribe"
)

// ErrRetry marks a job that must be delivered again later: some recipient
// met a throttle, an unreachable provider, a held channel or an attempt
// still in flight elsewhere. Recipients already done are skipped on the
// retry. A *RetryError says when.
var ErrRetry error = logsafe.Text("delivery: retry later")

// Checkpoints a delivery passes, in order, named to Dispatcher.Checkpoint.
const (
	// CheckpointClaimed: the ledger entry is claimed; no attempt started.
	// Where one write claims and starts (Ledger.ClaimAndStart), the
	// checkpoint comes just before it: nothing is recorded yet.
	CheckpointClaimed = "claimed"
	// CheckpointStarted: the attempt is marked in flight; the provider
	// has not been called.
	CheckpointStarted = "started"
	// CheckpointSent: the provider answered; the outcome is not recorded.
	CheckpointSent = "sent"
	// CheckpointFinished: the outcome is recorded and tallied (in a job,
	// once the job's counts are written: see withTallies).
	CheckpointFinished = "finished"
)

// Dispatcher delivers jobs. It is safe for concurrent use.
type Dispatcher struct {
	Campaigns Campaigns
	Profiles  Profiles
	Ledger    Ledger
	// Parking keeps jobs given up on, for a redrive (Abandon).
	Parking Parking
	Mailer  Mailer
	// SMS and Pusher send the SMS and push channels; a campaign of a
	// channel without its sender cannot be dispatched.
	SMS    SMSSender
	Pusher Pusher
	// Suppressions is the suppression list; nil checks none.
	Suppressions Suppressions
	// Guards are the tenants' reputation guards; nil pauses nothing.
	Guards Guards
	// Caps counts marketing sends against the tenants' frequency caps
	// (capping.go); nil caps nothing.
	Caps Caps
	// Devices stores endpoint ARNs and disabled devices on profiles; nil
	// stores nothing.
	Devices Devices
	// Endpoints records the owner of each endpoint stored on a profile,
	// so the Feedback function can act on the endpoint's events; nil
	// records nothing.
	Endpoints EndpointOwners
	// Unsubscribe signs the one-click unsubscribe links of marketing
	// email, which point at PublicURL + "/unsubscribe" unless the
	// configuration names another base.
	Unsubscribe *unsubscribe.Signer
	PublicURL   string
	// DefaultConfigurationSet is used when the channel configuration names
	// none and tracks opens, or both opens and clicks (it publishes every
	// event type). ClicksConfigurationSet (no OPEN) and
	// UntrackedConfigurationSet (neither OPEN nor CLICK) serve the other
	// choices; empty, they fall back to DefaultConfigurationSet with links
	// marked ses:no-track when clicks are off (see chooseConfigurationSet).
	DefaultConfigurationSet   string
	ClicksConfigurationSet    string
	UntrackedConfigurationSet string
	// Allowed is the sender identity and the platform applications the
	// deployment lets configurations send through. It is checked before
	// every send, so a configuration stored before the deployment allowed
	// less sends nothing either (failed:unauthorized_sender,
	// failed:unauthorized_application). The functions always set it; nil
	// checks nothing (tests of other rules).
	Allowed *campaign.Allowlist
	// NormalizePhone makes an SMS recipient's number E.164 with the SMS
	// configuration's defaultRegion, or fails the recipient
	// (failed:invalid_address). Dispatch's reads numbers as AJO accepts
	// them (phonelib.Normalize: libphonenumber's answers from a generated
	// table; injected so that no other function links the table); nil is
	// address.E164Only, which takes E.164 alone.
	NormalizePhone address.PhoneNormalizer
	Log            *slog.Logger
	Now            func() time.Time
	// Calendar, when set, is the clock quiet hours are read by (the
	// local cloud's simulated time); nil is Now.
	Calendar func() time.Time
	// Outcomes, when set, is told every recipient's final outcome (the
	// feedback webhook; see OutcomeNotifier).
	Outcomes OutcomeNotifier
	// ReconcileAfter, when set with Requeue and SendEvents, sends an
	// ambiguous email once more when no SES event confirmed it this long
	// after (at most MaxDelay; see reconcile.go).
	ReconcileAfter time.Duration
	Requeue        Requeue
	SendEvents     SendEvents
	// Deferrals keeps the recipients deferred by quiet hours whose window
	// ends more than MaxDelay away; nil: they hop on Requeue, MaxDelay at
	// a time.
	Deferrals Deferrals
	// Parallel bounds the recipients delivered at once in one invocation,
	// across the jobs of its batch (default 8).
	Parallel int
	// Timing is the retry schedule (DefaultTiming where zero).
	Timing Timing
	// Rates caps sends per second per channel in this process; a channel
	// without a rate is not capped. For email, the SES account's own
	// maximum send rate, when the Mailer reports it (RateReporter), caps
	// it too, shared by Instances.
	Rates map[campaign.Channel]float64
	// Instances is how many Dispatch processes may send at once (the
	// queue's maximum concurrency); the account's rate is split among
	// them. Default 1.
	Instances int
	// Checkpoint, when set, is called at each named checkpoint of every
	// delivery with the entry's key: the fault-injection tests stop the
	// process there. It is nil in production.
	Checkpoint func(name string, key Key)
	// Metrics, when set, is told each invocation's outcomes, provider
	// calls (latency, dispatch lag, error codes) and ambiguous sends.
	Metrics Metrics

	versions sync.Map // versionKey → *compiled
	configs  sync.Map // configKey → cachedConfig
	guards   sync.Map // guardKey → cachedGuard
	// The loads that fill them, one at a time per key: the jobs of a
	// batch start at once.
	versionLoads memo.Flight[string, *compiled]
	configLoads  memo.Flight[string, campaign.ChannelConfig]
	guardLoads   memo.Flight[guardKey, bool]
	limitOnce    sync.Once
	limiters     map[campaign.Channel]*Limiter
	holds        holds
	froms        fromHeaders
}

// RateReporter is a Mailer that can tell the provider account's maximum
// send rate (SES GetAccount).
type RateReporter interface {
	MaxSendRate(ctx context.Context) (float64, error)
}

func (d *Dispatcher) now() time.Time {
	if d.Now != nil {
		return d.Now().UTC()
	}
	return time.Now().UTC()
}

func (d *Dispatcher) log() *slog.Logger {
	if d.Log != nil {
		return d.Log
	}
	return slog.Default()
}

func (d *Dispatcher) timing() Timing { return d.Timing.orDefault() }

func (d *Dispatcher) checkpoint(name string, key Key) {
	if d.Checkpoint != nil {
		d.Checkpoint(name, key)
	}
}

// limiter returns ch's rate limiter, sizing them all on first use.
func (d *Dispatcher) limiter(ctx context.Context, ch campaign.Channel) *Limiter {
	d.limitOnce.Do(func() {
		d.limiters = map[campaign.Channel]*Limiter{}
		for _, c := range []campaign.Channel{campaign.Email, campaign.SMS, campaign.Push} {
			rate := d.Rates[c]
			if rr, ok := d.Mailer.(RateReporter); ok && c == campaign.Email {
				if acct, err := rr.MaxSendRate(ctx); err == nil && acct > 0 {
					share := acct / float64(max(d.Instances, 1))
					if rate <= 0 || share < rate {
						rate = share
					}
				}
			}
			d.limiters[c] = NewLimiter(rate)
		}
	})
	return d.limiters[ch]
}

// Dispatch delivers every recipient of job. It returns a *RetryError
// (wrapping ErrRetry) when the job must come back later, and another error
// when the job cannot be processed at all.
func (d *Dispatcher) Dispatch(ctx context.Context, job Job) error {
	if err := job.validate(); err != nil {
		return err
	}
	if held, err := d.holdDeferred(ctx, job); held {
		return err
	}
	ctx = WithInvocation(ctx)
	cv, err := d.version(ctx, job.Tenant, job.CampaignID, job.Version)
	if err != nil {
		return d.jobFailed(ctx, job, fmt.Errorf("read campaign version: %w", err))
	}
	if job.Reconcile {
		again, err := d.reconcile(ctx, job, cv.version.Channel)
		if err != nil || !again {
			return err
		}
	}
	_, err = d.run(ctx, job, cv)
	return err
}

// jobFailed handles a job none of whose recipients could be looked at (its
// campaign version, configuration or profiles could not be read): it is
// retried with backoff until the deadline from its first receipt, then
// abandoned — every open recipient closed as failed:retries_exhausted and
// the job parked for a redrive.
func (d *Dispatcher) jobFailed(ctx context.Context, job Job, err error) error {
	if errors.Is(err, ErrChannel) || derrors.Is(err, derrors.NotFound) || job.Proof {
		// Nothing to wait for: the version or configuration does not
		// exist. The queue gives up on it; the dead-letter consumer
		// closes its recipients.
		return err
	}
	now := d.now()
	first := job.Receipt.First
	if first.IsZero() || now.Before(first.Add(d.timing().RetryDeadline)) || d.Parking == nil {
		return retryAfter(Jitter(d.timing().Backoff(max(job.Receipt.Count, 1))), err)
	}
	d.log().WarnContext(ctx, "job abandoned at its retry deadline", "executionId", job.ExecutionID, "campaignId", job.CampaignID,
		"recipients", len(job.Recipients), logsafe.Attr(err))
	if _, aerr := d.Abandon(ctx, job, "deadline: "+causeCode(err)); aerr != nil {
		return retryAfter(Jitter(d.timing().Backoff(max(job.Receipt.Count, 1))), errors.Join(err, aerr))
	}
	return nil
}

// causeCode names an error by a short code without its text (which may
// carry provider messages or addresses), for a parked job's reason.
func causeCode(err error) string {
	var se *SendError
	var de *derrors.Error
	switch {
	case errors.As(err, &se):
		return se.Code
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.As(err, &de):
		return de.Kind.String()
	}
	return logsafe.Describe(err)
}

// DispatchProof sends a proof of version v — which may be a draft never
// activated (Number 0) — to job's recipients through the same path as
// Dispatch: ledger claims (entries marked as proofs), render with the
// proof prefix, provider. A proof is never retried later: what could not
// be sent now is closed now (failed:throttled, say). It returns each
// recipient's outcome, in order (the first device's for push).
func (d *Dispatcher) DispatchProof(ctx context.Context, job Job, v campaign.Version) ([]Outcome, error) {
	job.Proof = true
	job.Ledger = LedgerV2
	switch {
	case job.Tenant.Validate() != nil:
		return nil, fmt.Errorf("proof: invalid tenant")
	case job.ExecutionID == "" || job.CampaignID == "" || len(job.Recipients) == 0:
		return nil, fmt.Errorf("proof: executionId, campaignId and recipients are required")
	}
	ctx = WithInvocation(ctx)
	cv, err := d.compile(v)
	if err != nil {
		return nil, err
	}
	all, err := d.run(ctx, job, cv)
	if all == nil {
		return nil, err
	}
	out := make([]Outcome, len(all))
	for i, os := range all {
		if len(os) > 0 {
			out[i] = os[0]
		}
	}
	return out, err
}

// run delivers every recipient of job with the compiled version cv and
// returns each recipient's outcomes (one per device for push).
func (d *Dispatcher) run(ctx context.Context, job Job, cv *compiled) ([][]Outcome, error) {
	cfg, err := d.config(ctx, job.Tenant, cv.version.Spec.ChannelConfigID, cv.version.Channel)
	if err != nil {
		return nil, d.jobFailed(ctx, job, err)
	}
	paused, err := d.paused(ctx, job, cv)
	if err != nil {
		return nil, d.jobFailed(ctx, job, err)
	}
	var profiles map[profile.Identity]profile.Profile
	if !paused {
		if profiles, err = d.profiles(ctx, job); err != nil {
			return nil, d.jobFailed(ctx, job, err)
		}
	} else {
		d.log().WarnContext(ctx, "marketing paused by the tenant's reputation guard; not sent", "executionId", job.ExecutionID,
			"campaignId", job.CampaignID, "channel", string(cv.version.Channel))
	}
	if code := d.unauthorized(cfg, cv.version.Channel); code != "" {
		// Said once per job; every recipient (or device) concerned ends
		// with the outcome.
		d.log().WarnContext(ctx, "configuration outside what the deployment allows; not sent", "executionId", job.ExecutionID,
			"campaignId", job.CampaignID, "channelConfigurationId", cfg.ID, "code", code)
	}
	par := d.Parallel
	if par <= 0 {
		par = 8
	}
	sem := slots(ctx, par)
	outcomes := make([][]Outcome, len(job.Recipients))
	errs := make([]error, len(job.Recipients))
	counted := d.counted(ctx, job, cv.version.Channel)
	ctx, tallies := withTallies(ctx)
	var quiet quietSet
	if !paused {
		quiet = d.quietHours(job, cv, cfg, profiles, counted)
		ctx = d.lookAhead(ctx, job, cv, cfg, profiles, counted)
	}
	var wg sync.WaitGroup
	for i, r := range job.Recipients {
		if o, ok := counted[i]; ok {
			outcomes[i] = []Outcome{o}
			continue
		}
		if quiet.deferred(i) {
			continue // see deferJobs
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			p := profiles[profile.Identity{Namespace: r.Namespace, ID: r.UserID}]
			if paused {
				outcomes[i], errs[i] = d.exclude(ctx, job, cv, r, ExcludedReputationPaused)
				return
			}
			if quiet.drop[i] {
				outcomes[i], errs[i] = d.exclude(ctx, job, cv, r, ExcludedQuietHours)
				return
			}
			outcomes[i], errs[i] = d.deliver(ctx, job, cv, cfg, r, p)
		}()
	}
	wg.Wait()
	if failed, err := d.countTallies(ctx, job, tallies); err != nil {
		// Recorded but not counted: delivered again, they are counted
		// then.
		for i, r := range job.Recipients {
			k := Key{ExecutionID: job.ExecutionID, Namespace: r.Namespace, UserID: r.UserID, Channel: cv.version.Channel}
			if errs[i] == nil && failed[Tag(job.Tenant, k)] {
				errs[i] = err
			}
		}
	}
	quiet.failed(errs, d.deferJobs(ctx, job, quiet))
	counts := map[Outcome]int{}
	retry := 0
	var after time.Duration
	for i := range outcomes {
		if errs[i] != nil {
			retry++
			var re *RetryError
			if errors.As(errs[i], &re) && (after == 0 || re.After < after) {
				after = re.After
			}
		}
		for _, o := range outcomes[i] {
			counts[o]++
		}
	}
	attrs := []any{"executionId", job.ExecutionID, "campaignId", job.CampaignID, "version", job.Version,
		"channel", string(cv.version.Channel), "recipients", len(job.Recipients), "retry", retry}
	for o, n := range counts {
		attrs = append(attrs, string(o), n)
	}
	if job.Proof {
		attrs = append(attrs, "proof", true)
	}
	d.log().InfoContext(ctx, "job delivered", attrs...)
	if err := d.notify(ctx, job, cv, outcomes, errs); err != nil {
		return outcomes, err
	}
	if err := d.reconcileLater(ctx, job, cv.version.Channel, outcomes, errs); err != nil {
		return outcomes, err
	}
	if retry > 0 {
		// The job comes back as soon as its soonest recipient may go on.
		return outcomes, retryAfter(after, fmt.Errorf("%d of %d recipients: %w", retry, len(job.Recipients), errors.Join(errs...)))
	}
	return outcomes, nil
}

func (j Job) validate() error {
	switch {
	case j.Tenant.Validate() != nil:
		return fmt.Errorf("job: invalid tenant")
	case j.ExecutionID == "" || j.CampaignID == "" || j.Version < 1:
		return fmt.Errorf("job: executionId, campaignId and version are required")
	case len(j.Recipients) == 0:
		return fmt.Errorf("job: no recipients")
	}
	for i, r := range j.Recipients {
		if r.UserID == "" || r.Namespace == "" {
			return fmt.Errorf("job: recipient %d: userId and namespace are required", i)
		}
	}
	return nil
}
