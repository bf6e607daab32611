package delivery

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strconv"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/address"
	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/suppression"
	"github.com/heraldhq/herald/internal/tenant"
	"github.com/heraldhq/herald/internal/unsubscribe"
)

// StaleClaim is how old a claim must be before a redelivery treats it as
// left behind by a crash. It is well above Dispatch's timeout, so a claim
// this old is never one still being worked on.
const StaleClaim = 5 * time.Minute

// configTTL is how long a channel configuration is cached in a warm
// function; versions are immutable and cached for the life of the process.
const configTTL = time.Minute

// ErrRetry marks a job that must be delivered again later: some recipient
// met a throttle or a claim still in progress. Recipients already done are
// skipped on the retry.
var ErrRetry = errors.New("delivery: retry later")

// Dispatcher delivers jobs. It is safe for concurrent use.
type Dispatcher struct {
	Campaigns Campaigns
	Profiles  Profiles
	Ledger    Ledger
	Mailer    Mailer
	// SMS and Pusher send the SMS and push channels; a campaign of a
	// channel without its sender cannot be dispatched.
	SMS    SMSSender
	Pusher Pusher
	// Suppressions is the suppression list; nil checks none.
	Suppressions Suppressions
	// Devices stores endpoint ARNs and disabled devices on profiles; nil
	// stores nothing.
	Devices Devices
	// Unsubscribe signs the one-click unsubscribe links of marketing
	// email, which point at PublicURL + "/unsubscribe" unless the
	// configuration names another base.
	Unsubscribe *unsubscribe.Signer
	PublicURL   string
	// DefaultConfigurationSet is used when the channel configuration names
	// none.
	DefaultConfigurationSet string
	Log                     *slog.Logger
	Now                     func() time.Time
	// Parallel bounds concurrent sends within one job (default 8).
	Parallel int

	versions sync.Map // versionKey → *compiled
	configs  sync.Map // configKey → cachedConfig
}

type compiled struct {
	version campaign.Version
	content *Templates
}

type cachedConfig struct {
	cfg     campaign.ChannelConfig
	expires time.Time
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

// Dispatch delivers every recipient of job. It returns ErrRetry (wrapped)
// when the job must come back later, and another error when the job
// cannot be processed at all (a poison message once retries run out).
func (d *Dispatcher) Dispatch(ctx context.Context, job Job) error {
	if err := job.validate(); err != nil {
		return err
	}
	ctx = WithInvocation(ctx)
	cv, err := d.version(ctx, job.Tenant, job.CampaignID, job.Version)
	if err != nil {
		return err
	}
	_, err = d.run(ctx, job, cv)
	return err
}

// DispatchProof sends a proof of version v — which may be a draft never
// activated (Number 0) — to job's recipients through the same path as
// Dispatch: ledger claims (entries marked as proofs), render with the
// proof prefix, provider. It returns each recipient's outcome, in order
// (the first device's for push); an error wrapping ErrRetry when some
// could not be sent for now.
func (d *Dispatcher) DispatchProof(ctx context.Context, job Job, v campaign.Version) ([]Outcome, error) {
	job.Proof = true
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
		return nil, err
	}
	profiles, err := d.profiles(ctx, job)
	if err != nil {
		return nil, err
	}
	par := d.Parallel
	if par <= 0 {
		par = 8
	}
	sem := make(chan struct{}, par)
	outcomes := make([][]Outcome, len(job.Recipients))
	errs := make([]error, len(job.Recipients))
	var wg sync.WaitGroup
	for i, r := range job.Recipients {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			p := profiles[profile.Identity{Namespace: r.Namespace, ID: r.UserID}]
			outcomes[i], errs[i] = d.deliver(ctx, job, cv, cfg, r, p)
		}()
	}
	wg.Wait()
	counts := map[Outcome]int{}
	retry := 0
	for i := range outcomes {
		if errs[i] != nil {
			retry++
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
	if retry > 0 {
		return outcomes, fmt.Errorf("%w: %d of %d recipients: %w", ErrRetry, retry, len(job.Recipients), errors.Join(errs...))
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

// deliver takes one recipient to its outcomes: one for email and SMS, one
// per device for push. A non-nil error means the recipient must be
// retried; the ledger then holds no claim for what was not done, or a
// fresh claim of a concurrent duplicate.
func (d *Dispatcher) deliver(ctx context.Context, job Job, cv *compiled, cfg campaign.ChannelConfig, r Recipient, p profile.Profile) ([]Outcome, error) {
	if cv.version.Channel != campaign.Push || noProfile(job, cv, r, p) {
		o, err := d.once(ctx, job, cv, r, "", func() (Outcome, string, error) {
			if noProfile(job, cv, r, p) {
				return ExcludedNoProfile, "", nil
			}
			if cv.version.Channel == campaign.SMS {
				return d.sendSMS(ctx, job, cv, cfg, r, p)
			}
			return d.sendEmail(ctx, job, cv, cfg, r, p)
		})
		if err != nil {
			return nil, err
		}
		return []Outcome{o}, nil
	}
	return d.deliverPush(ctx, job, cv, cfg, r, p)
}

// once claims the ledger entry of (recipient, device), runs send unless
// the entry exists, and records the outcome.
func (d *Dispatcher) once(ctx context.Context, job Job, cv *compiled, r Recipient, device string, send func() (Outcome, string, error)) (Outcome, error) {
	e := Entry{ExecutionID: job.ExecutionID, UserID: r.UserID, Channel: cv.version.Channel, Device: device,
		CampaignID: job.CampaignID, Version: job.Version, Proof: job.Proof, State: Claimed, Token: token(), ClaimedAt: d.now()}
	existing, claimed, err := d.Ledger.Claim(ctx, job.Tenant, e)
	if err != nil {
		return "", fmt.Errorf("claim: %w", err)
	}
	if !claimed {
		switch {
		case existing.State == Done:
			return existing.Outcome, nil // already delivered: a redelivery
		case d.now().Sub(existing.ClaimedAt) < StaleClaim:
			return "", fmt.Errorf("%w: a delivery of the same message is in progress", ErrRetry)
		default:
			// Left behind by a crash mid-send: we cannot know whether the
			// provider took it, so we close it rather than risk a second
			// message.
			existing.State, existing.Outcome, existing.FinishedAt = Done, FailedInterrupted, d.now()
			if err := d.Ledger.Finish(ctx, job.Tenant, existing); err != nil {
				return "", fmt.Errorf("close stale claim: %w", err)
			}
			return FailedInterrupted, nil
		}
	}
	outcome, msgID, err := send()
	if err != nil {
		if rerr := d.Ledger.Release(ctx, job.Tenant, e); rerr != nil {
			return "", fmt.Errorf("release claim after %v: %w", err, rerr)
		}
		return "", err
	}
	e.State, e.Outcome, e.MessageID, e.FinishedAt = Done, outcome, msgID, d.now()
	if err := d.Ledger.Finish(ctx, job.Tenant, e); err != nil {
		// The message went out (or was excluded); the claim stays and a
		// redelivery will close it as interrupted instead of resending.
		d.log().ErrorContext(ctx, "outcome not recorded", "executionId", job.ExecutionID, "campaignId", job.CampaignID,
			"outcome", string(outcome), "messageId", msgID, "error", err.Error())
		return outcome, nil
	}
	return outcome, nil
}

// marketing reports whether the marketing rules (consent, unsubscribes,
// SMS opt-outs) apply: a marketing campaign's real sends, not proofs.
func marketing(job Job, cv *compiled) bool {
	return cv.version.Type == campaign.Marketing && !job.Proof
}

// suppressed checks the suppression list for a normalized address.
func (d *Dispatcher) suppressed(ctx context.Context, job Job, cv *compiled, ch suppression.Channel, addr string, sendToSuppressed bool) (bool, error) {
	if d.Suppressions == nil {
		return false, nil
	}
	e, err := d.Suppressions.GetSuppression(ctx, job.Tenant, ch, addr)
	switch {
	case derrors.Is(err, derrors.NotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("%w: suppression list: %w", ErrRetry, err)
	}
	return suppression.Blocks(e.Reason, marketing(job, cv), sendToSuppressed), nil
}

// pickAddress chooses a recipient's address on a channel: the one the
// call gave, else the userId when it is in the channel's namespace, else
// the stored profile's. It returns the outcome instead when there is none
// (excluded:no_address) or it is not valid (failed:invalid_address).
func pickAddress(r Recipient, fromCall, namespace string, fromProfile func() string, valid func(string) bool) (string, Outcome) {
	to := fromCall
	if to == "" && r.Namespace == namespace {
		to = r.UserID
	}
	if to == "" {
		to = fromProfile()
	}
	switch {
	case to == "":
		return "", ExcludedNoAddress
	case !valid(to):
		return "", FailedInvalidAddr
	}
	return to, ""
}

// sendEmail resolves, checks, renders and sends an email. It returns an
// error only when the recipient must be retried and nothing was sent.
func (d *Dispatcher) sendEmail(ctx context.Context, job Job, cv *compiled, cfg campaign.ChannelConfig, r Recipient, p profile.Profile) (Outcome, string, error) {
	if marketing(job, cv) && !p.ConsentsTo(string(campaign.Email)) {
		return ExcludedNoConsent, "", nil
	}
	to, bad := pickAddress(r, r.Email, "email", p.Email, address.ValidEmail)
	if bad != "" {
		return bad, "", nil
	}
	es := cfg.Email
	if sup, err := d.suppressed(ctx, job, cv, suppression.Email, address.NormalizeEmail(to), es.SendToSuppressed); err != nil || sup {
		return ExcludedSuppressed, "", err
	}
	rendered, err := cv.content.Render(Data(p.Attributes, r.Profile, recipientContext(job, r)), job.Proof)
	if err != nil {
		d.log().WarnContext(ctx, "render failed", "executionId", job.ExecutionID, "campaignId", job.CampaignID, "error", err.Error())
		return FailedRender, "", nil
	}
	cs := es.ConfigurationSet
	if cs == "" {
		cs = d.DefaultConfigurationSet
	}
	e := Email{
		From:    formatFrom(es.FromName, es.FromAddress),
		To:      to,
		BCC:     es.BCC,
		ReplyTo: es.ReplyTo,
		Subject: rendered.Email.Subject, HTML: rendered.Email.HTML, Text: rendered.Email.Text,
		ConfigurationSet: cs,
		Tags:             map[string]string{"campaignId": job.CampaignID, "executionId": job.ExecutionID},
	}
	if cv.version.Type == campaign.Marketing {
		e.Headers = d.listUnsubscribe(job, es, to)
	}
	id, err := d.Mailer.SendEmail(ctx, e)
	switch {
	case derrors.Is(err, derrors.Throttled):
		return "", "", fmt.Errorf("%w: %w", ErrRetry, err)
	case err != nil:
		d.log().WarnContext(ctx, "provider refused message", "executionId", job.ExecutionID, "campaignId", job.CampaignID, "error", err.Error())
		return FailedRejected, "", nil
	}
	return Sent, id, nil
}

// formatFrom builds the From header; a non-ASCII or special-character name
// is RFC 2047-encoded, and line breaks can never reach the header.
// net/mail quotes an ASCII name and encodes any other as a whole word
// (quoting before encoding would put the quotes inside the encoded word,
// where clients show them or fail to decode it).
func formatFrom(name, addr string) string {
	name = address.StripLineBreaks(name)
	if name == "" {
		return addr
	}
	return (&mail.Address{Name: name, Address: addr}).String()
}

func token() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (d *Dispatcher) version(ctx context.Context, t tenant.Tenant, campaignID string, n int) (*compiled, error) {
	key := t.Key() + "#" + campaignID + "#" + strconv.Itoa(n)
	if v, ok := d.versions.Load(key); ok {
		return v.(*compiled), nil
	}
	v, err := d.Campaigns.GetVersion(ctx, t, campaignID, n)
	if err != nil {
		return nil, fmt.Errorf("campaign %s version %d: %w", campaignID, n, err)
	}
	c, err := d.compile(v)
	if err != nil {
		return nil, err
	}
	actual, _ := d.versions.LoadOrStore(key, c)
	return actual.(*compiled), nil
}

// ErrChannel is returned (wrapped) for a version of a channel this
// dispatcher has no sender for.
var ErrChannel = errors.New("channel not supported by this dispatcher")

// compile parses a version's content for sending.
func (d *Dispatcher) compile(v campaign.Version) (*compiled, error) {
	content, err := ParseContent(v.Channel, v.Spec.Content)
	if err != nil {
		return nil, fmt.Errorf("campaign %s version %d: %w", v.CampaignID, v.Number, err)
	}
	return &compiled{version: v, content: content}, nil
}

// config returns the campaign's channel configuration (cached briefly)
// after checking it can send on ch and that Herald has a sender for ch.
func (d *Dispatcher) config(ctx context.Context, t tenant.Tenant, id string, ch campaign.Channel) (campaign.ChannelConfig, error) {
	key := t.Key() + "#" + id
	now := d.now()
	var cfg campaign.ChannelConfig
	if v, ok := d.configs.Load(key); ok && now.Before(v.(cachedConfig).expires) {
		cfg = v.(cachedConfig).cfg
	} else {
		var err error
		if cfg, err = d.Campaigns.GetConfig(ctx, t, id); err != nil {
			return campaign.ChannelConfig{}, fmt.Errorf("channel configuration %s: %w", id, err)
		}
		d.configs.Store(key, cachedConfig{cfg: cfg, expires: now.Add(configTTL)})
	}
	switch {
	case ch == campaign.Email && cfg.Email == nil:
		return cfg, fmt.Errorf("channel configuration %s has no email settings", id)
	case ch == campaign.Email && d.Mailer == nil, ch == campaign.SMS && d.SMS == nil, ch == campaign.Push && d.Pusher == nil:
		return cfg, fmt.Errorf("%s: %w", ch, ErrChannel)
	case ch == campaign.Push && (cfg.Push == nil || len(cfg.Push.Apps) == 0):
		return cfg, fmt.Errorf("channel configuration %s has no push apps", id)
	}
	return cfg, nil
}

// deviceKey names a device in the ledger without storing its token.
func deviceKey(appID, token string) string {
	sum := sha256.Sum256([]byte(appID + "\x00" + token))
	return hex.EncodeToString(sum[:8])
}

func (d *Dispatcher) profiles(ctx context.Context, job Job) (map[profile.Identity]profile.Profile, error) {
	var ids []profile.Identity
	for _, r := range job.Recipients {
		if r.Type == "aep" {
			ids = append(ids, profile.Identity{Namespace: r.Namespace, ID: r.UserID})
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	m, err := d.Profiles.BatchGet(ctx, job.Tenant, ids)
	if err != nil {
		return nil, fmt.Errorf("%w: profiles: %w", ErrRetry, err)
	}
	return m, nil
}

// Audience executions (marketing fan-out).

// noProfile reports an audience member of a marketing send whose identity
// has no stored profile: it is excluded (excluded:no_profile), never sent
// to from the identity alone.
func noProfile(job Job, cv *compiled, r Recipient, p profile.Profile) bool {
	return r.Type == "aep" && cv.version.Type == campaign.Marketing && !job.Proof && p.ID == ""
}

// recipientContext is the recipient's own context, else the job's (an
// audience execution sends one context for every member).
func recipientContext(job Job, r Recipient) map[string]any {
	if r.Context != nil {
		return r.Context
	}
	return job.Context
}
