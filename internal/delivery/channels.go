package delivery

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"github.com/heraldhq/herald/internal/address"
	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/logsafe"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/push"
	"github.com/heraldhq/herald/internal/suppression"
	"github.com/heraldhq/herald/internal/unsubscribe"
)

// DefaultMaxSegments caps an SMS when the configuration sets no cap.
const DefaultMaxSegments = 10

type invocationKey struct{}

// invocation is what one function invocation shares across the jobs it
// delivers: SNS opt-out answers, so a number is checked once, and the
// slots that bound how many recipients it delivers at once.
type invocation struct {
	mu       sync.Mutex
	optedOut map[string]bool
	slots    chan struct{}
}

// WithInvocation returns ctx carrying what lives as long as one
// invocation: the Dispatch function wraps each invocation's context, so
// SNS opt-out answers are cached, and Parallel bounds the recipients
// delivered at once, per invocation rather than per job. Dispatch adds
// one per job when the caller did not.
func WithInvocation(ctx context.Context) context.Context {
	if _, ok := ctx.Value(invocationKey{}).(*invocation); ok {
		return ctx
	}
	return context.WithValue(ctx, invocationKey{}, &invocation{optedOut: map[string]bool{}})
}

// slots returns the invocation's delivery slots (n of them, made on first
// use), so the jobs of a batch delivered at once share one bound.
func slots(ctx context.Context, n int) chan struct{} {
	inv, _ := ctx.Value(invocationKey{}).(*invocation)
	if inv == nil {
		return make(chan struct{}, n)
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if inv.slots == nil {
		inv.slots = make(chan struct{}, n)
	}
	return inv.slots
}

// optedOut asks the SMS provider once per invocation and number.
func (d *Dispatcher) optedOut(ctx context.Context, phone string) (bool, error) {
	inv, _ := ctx.Value(invocationKey{}).(*invocation)
	if inv != nil {
		inv.mu.Lock()
		v, ok := inv.optedOut[phone]
		inv.mu.Unlock()
		if ok {
			return v, nil
		}
	}
	v, err := d.SMS.OptedOut(ctx, phone)
	if err != nil {
		return false, fmt.Errorf("opt-out check: %w", err)
	}
	if inv != nil {
		inv.mu.Lock()
		inv.optedOut[phone] = v
		inv.mu.Unlock()
	}
	return v, nil
}

// smsAddress is the E.164 number an SMS to r goes to (the configuration's
// defaultRegion reads national numbers), or the outcome when there is
// none.
func (d *Dispatcher) smsAddress(cfg campaign.ChannelConfig, r Recipient, p profile.Profile) (string, Outcome) {
	var region string
	if cfg.SMS != nil {
		region = cfg.SMS.DefaultRegion
	}
	normalize := d.NormalizePhone
	if normalize == nil {
		normalize = address.E164Only
	}
	return pickAddress(r, r.Phone, "phone", p.Phone, func(s string) (string, bool) { return normalize(s, region) })
}

// prepareSMS resolves, checks and renders a text message.
func (d *Dispatcher) prepareSMS(ctx context.Context, job Job, cv *compiled, cfg campaign.ChannelConfig, r Recipient, p profile.Profile) (prepared, error) {
	if cv.treatmentFor(job, r) == nil {
		return heldOut, nil
	}
	mkt := marketing(job, cv)
	if mkt && !p.ConsentsTo(string(campaign.SMS)) {
		return prepared{outcome: ExcludedNoConsent}, nil
	}
	var set campaign.SMSSettings
	if cfg.SMS != nil {
		set = *cfg.SMS
	}
	to, bad := d.smsAddress(cfg, r, p)
	if bad != "" {
		return prepared{outcome: bad}, nil
	}
	if sup, err := d.suppressed(ctx, job, cv, suppression.SMS, to, false); err != nil || sup {
		return prepared{outcome: ExcludedSuppressed}, err
	}
	if mkt {
		out, err := d.optedOut(ctx, to)
		if err != nil {
			return prepared{}, err
		}
		if out {
			return prepared{outcome: ExcludedOptedOut}, nil
		}
	}
	content := cv.contentFor(job, r, p, cfg)
	rendered, err := content.Render(Data(p.Attributes, r.Profile, recipientContext(job, r)), job.Proof)
	if err != nil {
		d.renderFailed(ctx, job, err)
		return prepared{outcome: FailedRender}, nil
	}
	maxSeg := set.MaxSegments
	if maxSeg <= 0 {
		maxSeg = DefaultMaxSegments
	}
	if rendered.SMS.Segments > maxSeg {
		d.log().WarnContext(ctx, "sms too long", "executionId", job.ExecutionID, "campaignId", job.CampaignID,
			"segments", rendered.SMS.Segments, "maxSegments", maxSeg, "encoding", string(rendered.SMS.Encoding))
		return prepared{outcome: FailedTooLong}, nil
	}
	typ := SMSTransactional
	if cv.version.Type == campaign.Marketing {
		typ = SMSPromotional
	}
	m := SMS{To: to, Body: rendered.SMS.Body, Type: typ, SenderID: set.SenderID, OriginationNumber: set.OriginationNumber}
	return prepared{addr: to, variant: content.Variant(), treatment: content.Treatment(), send: func(ctx context.Context, _ string) (string, Outcome, error) {
		id, err := d.SMS.SendSMS(ctx, m)
		return id, "", err
	}}, nil
}

// pushTarget is one device to push to.
type pushTarget struct {
	app   campaign.PushApp
	token string
	// endpoint is the endpoint Herald stored for the device, if it is one
	// of app's platform application; "" makes it from the token.
	endpoint string
}

// pushTargets lists the recipient's devices for the configuration's apps:
// the call's pushInfo, else the profile's enabled devices. pre is set
// when the recipient ends before any device (no address, say). A stored
// endpoint is kept only if it is an endpoint of the configuration's
// platform application for the device's app: anything else (a topic,
// another application's endpoint, an app the configuration moved) is
// ignored and the endpoint made again from the token.
func pushTargets(cfg campaign.ChannelConfig, r Recipient, p profile.Profile) (targets []pushTarget, pre Outcome) {
	match := func(appID, platform string) (campaign.PushApp, bool) {
		for _, a := range cfg.Push.Apps {
			if a.AppID == appID && (platform == "" || platform == a.Platform) {
				return a, true
			}
		}
		return campaign.PushApp{}, false
	}
	stored := func(app campaign.PushApp, token string) string {
		for _, dv := range p.Devices {
			if dv.AppID == app.AppID && dv.Token == token && dv.Enabled && app.Owns(dv.EndpointARN) {
				return dv.EndpointARN
			}
		}
		return ""
	}
	if pi := r.Push; pi != nil {
		app, ok := match(pi.AppID, pi.Platform)
		if !ok || pi.Token == "" {
			return nil, FailedInvalidAddr
		}
		return []pushTarget{{app: app, token: pi.Token, endpoint: stored(app, pi.Token)}}, ""
	}
	for _, dv := range p.Devices {
		if !dv.Enabled || dv.Token == "" {
			continue
		}
		if app, ok := match(dv.AppID, dv.Platform); ok {
			targets = append(targets, pushTarget{app: app, token: dv.Token, endpoint: stored(app, dv.Token)})
		}
	}
	if len(targets) == 0 {
		return nil, ExcludedNoAddress
	}
	return targets, ""
}

// deliverPush sends one notification per device of the recipient, each
// with its own ledger entry, and tallies the recipient once every device
// has its outcome: sent if any device got it, else ambiguous if any
// might have, else the first device's outcome.
func (d *Dispatcher) deliverPush(ctx context.Context, job Job, cv *compiled, cfg campaign.ChannelConfig, key Key, r Recipient, p profile.Profile) ([]Outcome, error) {
	pre := Outcome("")
	var targets []pushTarget
	switch {
	case cv.treatmentFor(job, r) == nil:
		pre = ExcludedHoldout
	case marketing(job, cv) && !p.ConsentsTo(string(campaign.Push)):
		pre = ExcludedNoConsent
	default:
		targets, pre = pushTargets(cfg, r, p)
	}
	var rendered Rendered
	content := cv.content
	if pre == "" {
		var err error
		content = cv.contentFor(job, r, p, cfg)
		if rendered, err = content.Render(Data(p.Attributes, r.Profile, recipientContext(job, r)), job.Proof); err != nil {
			d.renderFailed(ctx, job, err)
			pre = FailedRender
		}
	}
	if pre != "" {
		prep := prepared{outcome: pre}
		if pre == ExcludedHoldout {
			prep = heldOut
		}
		o, err := d.attempt(ctx, job, key, prep)
		if err != nil {
			return nil, err
		}
		if err := d.tallyIn(ctx, job, key, o, prep.label()); err != nil {
			return nil, err
		}
		d.finished(ctx, key)
		return []Outcome{o}, nil
	}
	var outs []Outcome
	var errs []error
	for _, tg := range targets {
		dk := key
		dk.Device = DeviceKey(tg.app.AppID, tg.token)
		prep := d.preparePush(ctx, job, p, tg, *rendered.Push, dk.Device)
		if prep.send != nil {
			prep.variant, prep.treatment, prep.capped = content.Variant(), content.Treatment(), d.capsApply(job, cv)
		}
		o, err := d.attempt(ctx, job, dk, prep)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		outs = append(outs, o)
	}
	if len(errs) > 0 {
		return outs, errors.Join(errs...)
	}
	if err := d.tallyIn(ctx, job, key, aggregate(outs), Label(content.Treatment(), content.Variant())); err != nil {
		return outs, err
	}
	d.finished(ctx, key)
	return outs, nil
}

// aggregate is a recipient's outcome from its devices' outcomes.
func aggregate(outs []Outcome) Outcome {
	for _, kind := range []string{"sent", "ambiguous"} {
		for _, o := range outs {
			if o.Kind() == kind {
				return o
			}
		}
	}
	if len(outs) == 0 {
		return ExcludedNoAddress
	}
	return outs[0]
}

// preparePush builds one device's notification and the call that sends
// it, creating the device's platform endpoint when needed.
func (d *Dispatcher) preparePush(ctx context.Context, job Job, p profile.Profile, tg pushTarget, m push.Message, device string) prepared {
	if d.Allowed != nil && !d.Allowed.AllowsApplication(tg.app.PlatformApplicationARN) {
		return prepared{outcome: FailedUnauthorizedApplication}
	}
	msg, size, err := push.SNSMessage(tg.app.Platform, m)
	switch {
	case errors.Is(err, push.ErrTooLarge):
		d.log().WarnContext(ctx, "push payload too large", "executionId", job.ExecutionID, "campaignId", job.CampaignID,
			"platform", tg.app.Platform, "bytes", size)
		return prepared{outcome: FailedPayloadTooLarge}
	case err != nil:
		return prepared{outcome: FailedRejected}
	}
	invalid := func() (string, Outcome, error) {
		d.setDevice(ctx, job, p, tg, func(dv *profile.Device) { dv.Enabled = false })
		return "", ExcludedInvalidToken, nil
	}
	create := func(ctx context.Context) (string, error) {
		ep, err := d.Pusher.Endpoint(ctx, tg.app.PlatformApplicationARN, tg.token)
		if err != nil {
			return "", err
		}
		if !tg.app.Owns(ep) {
			// Never expected of SNS; but Herald publishes to nothing but
			// the application's endpoints, whoever names them.
			return "", &SendError{Failure: Refused, Code: CodeForeignEndpoint, Err: errors.New("the endpoint made for the token is not one of the application's")}
		}
		d.storeEndpoint(ctx, job, p, tg, ep)
		return ep, nil
	}
	return prepared{addr: device, send: func(ctx context.Context, _ string) (string, Outcome, error) {
		ep, fresh := tg.endpoint, false
		if ep == "" {
			var err error
			if ep, err = create(ctx); err != nil {
				if errors.Is(err, ErrInvalidToken) {
					return invalid()
				}
				return "", "", err
			}
			fresh = true
		}
		id, err := d.Pusher.Push(ctx, ep, msg)
		if errors.Is(err, ErrEndpointGone) && !fresh {
			// The stored endpoint was deleted (by an operator, or SNS):
			// nothing was sent; make it again once.
			if ep, err = create(ctx); err != nil {
				if errors.Is(err, ErrInvalidToken) {
					return invalid()
				}
				return "", "", err
			}
			id, err = d.Pusher.Push(ctx, ep, msg)
		}
		switch {
		case errors.Is(err, ErrInvalidToken):
			return invalid()
		case errors.Is(err, ErrEndpointGone):
			return "", "", &SendError{Failure: Refused, Code: "EndpointGone", Err: err}
		}
		return id, "", err
	}}
}

// storeEndpoint stores the endpoint made for tg on the profile's device
// and, first, records its owner (Endpoints), so the endpoint's events find
// the device: an owner whose device never got the endpoint (the profile
// update failed) is harmless, as the Feedback function acts only on a
// device still holding the event's endpoint, whereas an endpoint stored
// without its owner would never be recorded again. Both happen once per
// endpoint made, never per send. A failure is logged: the send's outcome
// stands either way.
func (d *Dispatcher) storeEndpoint(ctx context.Context, job Job, p profile.Profile, tg pushTarget, ep string) {
	if !d.hasDevice(p, tg) {
		return
	}
	if d.Endpoints != nil {
		o := EndpointOwner{Tenant: job.Tenant, Namespace: p.Namespace, ProfileID: p.ID, Device: DeviceKey(tg.app.AppID, tg.token)}
		if err := d.Endpoints.PutEndpointOwner(ctx, ep, o); err != nil {
			d.log().WarnContext(ctx, "endpoint owner not recorded", "executionId", job.ExecutionID, "campaignId", job.CampaignID,
				"appId", tg.app.AppID, logsafe.Attr(err))
		}
	}
	d.setDevice(ctx, job, p, tg, func(dv *profile.Device) { dv.EndpointARN = ep })
}

// hasDevice reports whether the recipient has a stored profile holding
// tg's device, which Dispatch may update.
func (d *Dispatcher) hasDevice(p profile.Profile, tg pushTarget) bool {
	if d.Devices == nil || p.ID == "" {
		return false
	}
	for _, dv := range p.Devices {
		if dv.AppID == tg.app.AppID && dv.Token == tg.token {
			return true
		}
	}
	return false
}

// setDevice changes the profile's device of tg's app and token, if the
// recipient has a stored profile with it. A failure is logged: the send's
// outcome stands either way.
func (d *Dispatcher) setDevice(ctx context.Context, job Job, p profile.Profile, tg pushTarget, fn func(*profile.Device)) {
	if !d.hasDevice(p, tg) {
		return
	}
	_, err := d.Devices.Update(ctx, job.Tenant, p.Identity(), func(q *profile.Profile) error {
		for i := range q.Devices {
			if q.Devices[i].AppID == tg.app.AppID && q.Devices[i].Token == tg.token {
				fn(&q.Devices[i])
			}
		}
		return nil
	})
	if err != nil {
		d.log().WarnContext(ctx, "device not updated on profile", "executionId", job.ExecutionID, "campaignId", job.CampaignID,
			"appId", tg.app.AppID, logsafe.Attr(err))
	}
}

// listUnsubscribe returns the RFC 2369 / RFC 8058 headers of a marketing
// email: one List-Unsubscribe with the signed HTTPS link (and the mailto
// of the configuration, if any) and, with the HTTPS link, one
// List-Unsubscribe-Post.
func (d *Dispatcher) listUnsubscribe(job Job, es *campaign.EmailSettings, to string) []Header {
	var uris []string
	var tok string
	if d.Unsubscribe != nil {
		tok = d.Unsubscribe.Token(unsubscribe.Claims{Tenant: job.Tenant, Channel: string(suppression.Email),
			Address: address.NormalizeEmail(to), CampaignID: job.CampaignID})
		base := es.ListUnsubscribeURL
		if base == "" && d.PublicURL != "" {
			base = strings.TrimRight(d.PublicURL, "/") + "/unsubscribe"
		}
		if base != "" {
			sep := "?"
			if strings.Contains(base, "?") {
				sep = "&"
			}
			uris = append(uris, "<"+base+sep+"token="+url.QueryEscape(tok)+">")
		}
	}
	https := len(uris) > 0
	if m := es.ListUnsubscribeMailto; m != "" {
		q := url.Values{"subject": {"unsubscribe"}}
		if tok != "" {
			q.Set("body", tok)
		}
		uris = append(uris, "<mailto:"+strings.TrimPrefix(m, "mailto:")+"?"+strings.ReplaceAll(q.Encode(), "+", "%20")+">")
	}
	if len(uris) == 0 {
		return nil
	}
	h := []Header{{Name: "List-Unsubscribe", Value: strings.Join(uris, ", ")}}
	if https {
		h = append(h, Header{Name: "List-Unsubscribe-Post", Value: "List-Unsubscribe=One-Click"})
	}
	return h
}
