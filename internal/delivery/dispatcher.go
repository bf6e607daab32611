package delivery

import (
	"context"
	"crypto/rand"
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
	"github.com/heraldhq/herald/internal/tenant"
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
	cv, err := d.version(ctx, job.Tenant, job.CampaignID, job.Version)
	if err != nil {
		return err
	}
	cfg, err := d.config(ctx, job.Tenant, cv.version.Spec.ChannelConfigID)
	if err != nil {
		return err
	}
	profiles, err := d.profiles(ctx, job)
	if err != nil {
		return err
	}
	par := d.Parallel
	if par <= 0 {
		par = 8
	}
	sem := make(chan struct{}, par)
	outcomes := make([]Outcome, len(job.Recipients))
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
			continue
		}
		counts[outcomes[i]]++
	}
	attrs := []any{"executionId", job.ExecutionID, "campaignId", job.CampaignID, "version", job.Version,
		"recipients", len(job.Recipients), "retry", retry}
	for o, n := range counts {
		attrs = append(attrs, string(o), n)
	}
	d.log().InfoContext(ctx, "job delivered", attrs...)
	if retry > 0 {
		return fmt.Errorf("%w: %d of %d recipients: %w", ErrRetry, retry, len(job.Recipients), errors.Join(errs...))
	}
	return nil
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

// deliver takes one recipient to its outcome. A non-nil error means the
// recipient must be retried; the ledger then holds no claim for it, or a
// fresh claim of a concurrent duplicate.
func (d *Dispatcher) deliver(ctx context.Context, job Job, cv *compiled, cfg campaign.ChannelConfig, r Recipient, p profile.Profile) (Outcome, error) {
	e := Entry{ExecutionID: job.ExecutionID, UserID: r.UserID, Channel: cv.version.Channel,
		CampaignID: job.CampaignID, Version: job.Version, State: Claimed, Token: token(), ClaimedAt: d.now()}
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
	outcome, msgID, err := d.send(ctx, job, cv, cfg, r, p)
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

// send resolves, renders and sends. It returns an error only when the
// recipient must be retried and nothing was sent.
func (d *Dispatcher) send(ctx context.Context, job Job, cv *compiled, cfg campaign.ChannelConfig, r Recipient, p profile.Profile) (Outcome, string, error) {
	if noProfile(job, cv, r, p) {
		return ExcludedNoProfile, "", nil
	}
	if cv.version.Type == campaign.Marketing && !job.Proof && !p.ConsentsTo(string(cv.version.Channel)) {
		return ExcludedNoConsent, "", nil
	}
	to := r.Email
	if to == "" && r.Namespace == "email" {
		to = r.UserID
	}
	if to == "" {
		to = p.Email()
	}
	if to == "" {
		return ExcludedNoAddress, "", nil
	}
	if !address.ValidEmail(to) {
		return FailedInvalidAddr, "", nil
	}
	rendered, err := cv.content.Render(Data(p.Attributes, r.Profile, recipientContext(job, r)), job.Proof)
	if err != nil {
		d.log().WarnContext(ctx, "render failed", "executionId", job.ExecutionID, "campaignId", job.CampaignID, "error", err.Error())
		return FailedRender, "", nil
	}
	es := cfg.Email
	cs := es.ConfigurationSet
	if cs == "" {
		cs = d.DefaultConfigurationSet
	}
	id, err := d.Mailer.SendEmail(ctx, Email{
		From:    formatFrom(es.FromName, es.FromAddress),
		To:      to,
		ReplyTo: es.ReplyTo,
		Subject: rendered.Email.Subject, HTML: rendered.Email.HTML, Text: rendered.Email.Text,
		ConfigurationSet: cs,
		Tags:             map[string]string{"campaignId": job.CampaignID, "executionId": job.ExecutionID},
	})
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
	c := &compiled{version: v}
	if v.Channel != campaign.Email {
		return nil, fmt.Errorf("campaign %s: channel %s is not supported by this dispatcher", campaignID, v.Channel)
	}
	if c.content, err = ParseContent(v.Channel, v.Spec.Content); err != nil {
		return nil, fmt.Errorf("campaign %s version %d: %w", campaignID, n, err)
	}
	actual, _ := d.versions.LoadOrStore(key, c)
	return actual.(*compiled), nil
}

func (d *Dispatcher) config(ctx context.Context, t tenant.Tenant, id string) (campaign.ChannelConfig, error) {
	key := t.Key() + "#" + id
	now := d.now()
	if v, ok := d.configs.Load(key); ok && now.Before(v.(cachedConfig).expires) {
		return v.(cachedConfig).cfg, nil
	}
	cfg, err := d.Campaigns.GetConfig(ctx, t, id)
	if err != nil {
		return campaign.ChannelConfig{}, fmt.Errorf("channel configuration %s: %w", id, err)
	}
	if cfg.Email == nil {
		return campaign.ChannelConfig{}, fmt.Errorf("channel configuration %s has no email settings", id)
	}
	d.configs.Store(key, cachedConfig{cfg: cfg, expires: now.Add(configTTL)})
	return cfg, nil
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
