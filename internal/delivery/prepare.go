package delivery

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"sync"

	"github.com/heraldhq/herald/internal/address"
	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/logsafe"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/internal/suppression"
)

// prepared is a recipient made ready for its attempt: either an outcome
// reached without the provider (an exclusion, a render error) or the
// address it will be sent to and the call that sends it.
type prepared struct {
	outcome Outcome
	// variant is the content the message was rendered from
	// (Templates.Variant), recorded on the ledger entry.
	variant string
	// treatment is the content experiment's treatment of the recipient
	// (Templates.Treatment, or campaign.Holdout), recorded on the ledger
	// entry.
	treatment string
	// addr identifies the address (normalized email, E.164 number, push
	// device) for the one-message-per-address rule.
	addr string
	// send calls the provider once. It returns the message id, or an
	// outcome decided by the provider's answer without a message (an
	// invalid push token), or the provider's error.
	send func(ctx context.Context, tag string) (id string, o Outcome, err error)
	// capped: the tenant's frequency caps apply to the send (capsApply).
	capped bool
	// tag is the entry's Tag when the caller computed it already ("":
	// attempt computes it).
	tag string
}

// heldOut is a recipient in the holdout of the content experiment:
// excluded before anything else is checked, so the holdout is the share
// of the recipients the experiment says.
var heldOut = prepared{outcome: ExcludedHoldout, treatment: campaign.Holdout}

// label is what the recipient's counts are kept under per variant.
func (p prepared) label() string { return Label(p.treatment, p.variant) }

// marketing reports whether the marketing rules (consent, unsubscribes,
// SMS opt-outs) apply: a marketing campaign's real sends, not proofs.
func marketing(job Job, cv *compiled) bool {
	return cv.version.Type == campaign.Marketing && !job.Proof
}

// noProfile reports an audience member of a marketing send whose identity
// has no stored profile: it is excluded (excluded:no_profile), never sent
// to from the identity alone.
func noProfile(job Job, cv *compiled, r Recipient, p profile.Profile) bool {
	return r.Type == TypeAEP && cv.version.Type == campaign.Marketing && !job.Proof && p.ID == ""
}

// recipientContext is the recipient's own context, else the job's (an
// audience execution sends one context for every member).
func recipientContext(job Job, r Recipient) any {
	if !r.Context.IsZero() {
		return r.Context
	}
	return job.Context
}

// suppressed checks the suppression list for a normalized address: in
// what the job read of it at once (lookAhead), else with a read of its
// own.
func (d *Dispatcher) suppressed(ctx context.Context, job Job, cv *compiled, ch suppression.Channel, addr string, sendToSuppressed bool) (bool, error) {
	if d.Suppressions == nil {
		return false, nil
	}
	if js, ok := ctx.Value(jobSuppressionsKey{}).(*jobSuppressions); ok && js.ch == ch && js.looked[addr] {
		e, on := js.found[addr]
		return on && suppression.Blocks(e.Reason, marketing(job, cv), sendToSuppressed), nil
	}
	e, err := d.Suppressions.GetSuppression(ctx, job.Tenant, ch, addr)
	switch {
	case derrors.Is(err, derrors.NotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("suppression list: %w", err)
	}
	return suppression.Blocks(e.Reason, marketing(job, cv), sendToSuppressed), nil
}

// jobSuppressions is what lookAhead read of the suppression list for a
// job's recipients: the addresses looked up, and those on the list.
type jobSuppressions struct {
	ch     suppression.Channel
	looked map[string]bool
	found  map[string]suppression.Entry
}

type jobSuppressionsKey struct{}

// lookAhead reads the suppression list for every recipient of a job still
// to be taken to an outcome, in one BatchGetItem (per 100), and returns
// the context that hands each recipient's check its answer: one read per
// job instead of one per recipient. The addresses are resolved as
// prepareEmail and prepareSMS resolve them. A failed read is not the
// job's failure: each recipient then reads its own, as it always could.
func (d *Dispatcher) lookAhead(ctx context.Context, job Job, cv *compiled, cfg campaign.ChannelConfig,
	profiles map[profile.Identity]profile.Profile, done map[int]Outcome) context.Context {
	if d.Suppressions == nil || len(job.Recipients)-len(done) < 2 {
		return ctx
	}
	var ch suppression.Channel
	switch cv.version.Channel {
	case campaign.Email:
		ch = suppression.Email
	case campaign.SMS:
		ch = suppression.SMS
	default:
		return ctx // push has no suppression list
	}
	addrs := make([]string, 0, len(job.Recipients))
	for i, r := range job.Recipients {
		if _, ok := done[i]; ok {
			continue
		}
		p := profiles[profile.Identity{Namespace: r.Namespace, ID: r.UserID}]
		var addr string
		var bad Outcome
		if ch == suppression.Email {
			_, addr, bad = emailAddress(r, p)
		} else {
			addr, bad = d.smsAddress(cfg, r, p)
		}
		if bad == "" {
			addrs = append(addrs, addr)
		}
	}
	if len(addrs) < 2 {
		return ctx
	}
	found, err := d.Suppressions.GetSuppressions(ctx, job.Tenant, ch, addrs)
	if err != nil {
		return ctx
	}
	js := &jobSuppressions{ch: ch, looked: make(map[string]bool, len(addrs)), found: found}
	for _, a := range addrs {
		js.looked[a] = true
	}
	return context.WithValue(ctx, jobSuppressionsKey{}, js)
}

// emailAddress is the address an email to r goes to, as written, and its
// normalized form, the one the suppression list and the ledger's
// de-duplication know; or the outcome when there is none.
func emailAddress(r Recipient, p profile.Profile) (to, norm string, bad Outcome) {
	to, bad = pickAddress(r, r.Email, "email", p.Email, validEmail)
	if bad != "" {
		return "", "", bad
	}
	return to, address.NormalizeEmail(to), ""
}

// pickAddress chooses a recipient's address on a channel: the one the
// call gave, else the userId when it is in the channel's namespace, else
// the stored profile's. It returns the outcome instead when there is none
// (excluded:no_address) or normalize cannot make it an address it sends
// to (failed:invalid_address); otherwise the normalized address, the one
// suppression, opt-out and the ledger's de-duplication see.
func pickAddress(r Recipient, fromCall, namespace string, fromProfile func() string, normalize func(string) (string, bool)) (string, Outcome) {
	to := fromCall
	if to == "" && r.Namespace == namespace {
		to = r.UserID
	}
	if to == "" {
		to = fromProfile()
	}
	if to == "" {
		return "", ExcludedNoAddress
	}
	to, ok := normalize(to)
	if !ok {
		return "", FailedInvalidAddr
	}
	return to, ""
}

// validEmail keeps a valid email address as it is: the suppression list's
// lower-cased form is looked up apart (address.NormalizeEmail), and the
// message goes to the address as written.
func validEmail(s string) (string, bool) { return s, address.ValidEmail(s) }

// renderFailed logs a render failure by field and position only: the
// engine's message may quote the data.
func (d *Dispatcher) renderFailed(ctx context.Context, job Job, err error) {
	attrs := []any{"executionId", job.ExecutionID, "campaignId", job.CampaignID, "code", "render_error"}
	var ce *ContentError
	if errors.As(err, &ce) {
		attrs = append(attrs, "field", ce.Field)
	}
	var ee *render.ExecError
	if errors.As(err, &ee) {
		attrs = append(attrs, "line", ee.Line, "col", ee.Col)
	}
	attrs = append(attrs, logsafe.Attr(err))
	d.log().WarnContext(ctx, "render failed", attrs...)
}

// prepareEmail resolves, checks and renders an email.
func (d *Dispatcher) prepareEmail(ctx context.Context, job Job, cv *compiled, cfg campaign.ChannelConfig, r Recipient, p profile.Profile) (prepared, error) {
	if cv.treatmentFor(job, r) == nil {
		return heldOut, nil
	}
	if d.Allowed != nil && !d.Allowed.AllowsSender(cfg.Email.FromAddress) {
		return prepared{outcome: FailedUnauthorizedSender}, nil
	}
	if marketing(job, cv) && !p.ConsentsTo(string(campaign.Email)) {
		return prepared{outcome: ExcludedNoConsent}, nil
	}
	to, norm, bad := emailAddress(r, p)
	if bad != "" {
		return prepared{outcome: bad}, nil
	}
	es := cfg.Email
	if sup, err := d.suppressed(ctx, job, cv, suppression.Email, norm, es.SendToSuppressed); err != nil || sup {
		return prepared{outcome: ExcludedSuppressed}, err
	}
	content := cv.contentFor(job, r, p, cfg)
	rendered, err := content.Render(Data(p.Attributes, r.Profile, recipientContext(job, r)), job.Proof)
	if err != nil {
		d.renderFailed(ctx, job, err)
		return prepared{outcome: FailedRender}, nil
	}
	opens, clicks := es.Tracking(cfg.Category)
	cs, noTrack := chooseConfigurationSet(ConfigurationSets{Tracked: d.DefaultConfigurationSet,
		Clicks: d.ClicksConfigurationSet, Untracked: d.UntrackedConfigurationSet}, es.ConfigurationSet, opens, clicks)
	html := rendered.Email.HTML
	if noTrack {
		html = markNoTrack(html)
	}
	e := Email{
		From:    d.froms.get(es.FromName, es.FromAddress),
		To:      to,
		BCC:     es.BCC,
		ReplyTo: es.ReplyTo,
		Subject: rendered.Email.Subject, HTML: html, Text: rendered.Email.Text,
		ConfigurationSet: cs,
	}
	if cv.version.Type == campaign.Marketing {
		e.Headers = d.listUnsubscribe(job, es, to)
	}
	return prepared{addr: norm, variant: content.Variant(), treatment: content.Treatment(), send: func(ctx context.Context, tag string) (string, Outcome, error) {
		e.Tags = map[string]string{"campaignId": job.CampaignID, "executionId": job.ExecutionID, TagName: tag}
		id, err := d.Mailer.SendEmail(ctx, e)
		return id, "", err
	}}, nil
}

// fromHeaders remembers formatFrom's headers: a configuration's From is
// the same for every recipient, and formatting it allocates.
type fromHeaders struct {
	mu sync.Mutex
	m  map[[2]string]string
}

// maxFromHeaders bounds the cache; past it, it starts again.
const maxFromHeaders = 256

func (c *fromHeaders) get(name, addr string) string {
	k := [2]string{name, addr}
	c.mu.Lock()
	defer c.mu.Unlock()
	if h, ok := c.m[k]; ok {
		return h
	}
	if c.m == nil || len(c.m) >= maxFromHeaders {
		c.m = make(map[[2]string]string)
	}
	h := formatFrom(name, addr)
	c.m[k] = h
	return h
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
