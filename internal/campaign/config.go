package campaign

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/heraldhq/herald/internal/address"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/push"
	"github.com/heraldhq/herald/internal/tenant"
)

// The shapes AWS gives names and numbers, compiled on first use: a
// function that never checks a configuration (Dispatch, Trigger on most
// calls) pays nothing for them at start.
var (
	// configSetPattern is SES's rule for configuration set names.
	configSetPattern = lazyRegexp(`^[A-Za-z0-9_-]{1,64}$`)
	// senderIDPattern: 1-11 letters and digits with at least one letter.
	senderIDPattern = lazyRegexp(`^[A-Za-z0-9]{1,11}$`)
	e164Pattern     = lazyRegexp(`^\+[1-9][0-9]{1,14}$`)
	// platformAppARN is an SNS platform application ARN; the platform is
	// its sixth field's first segment.
	platformAppARN = lazyRegexp(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:app/(` +
		push.APNS + `|` + push.APNSSandbox + `|` + push.GCM + `)/[A-Za-z0-9_.-]{1,256}$`)
	// endpointID is the last part of a platform endpoint's ARN (a UUID at
	// SNS).
	endpointID = lazyRegexp(`^[A-Za-z0-9-]{1,64}$`)
)

// lazyRegexp is a regexp compiled the first time it is used. A counted
// repeat compiles into as many states as its count ({1,256}: 3,500
// allocations), which at package init every function would pay on every
// cold start.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

// ConfigInput is the authored document of a channel configuration: the
// body of POST /channel-configurations and what PATCH merge-patches. The
// settings block of the configuration's channel is the only one allowed.
type ConfigInput struct {
	Name     string         `json:"name"`
	Channel  Channel        `json:"channel"`
	Category Type           `json:"category"`
	Email    *EmailSettings `json:"email,omitempty"`
	SMS      *SMSSettings   `json:"sms,omitempty"`
	Push     *PushSettings  `json:"push,omitempty"`
	// QuietHours: see ChannelConfig.QuietHours.
	QuietHours *QuietHours `json:"quietHours,omitempty"`
}

// ETag is the configuration's entity tag (its revision).
func (c ChannelConfig) ETag() string { return ETag(c.Revision) }

// CreateConfig validates and stores a new channel configuration.
func (s *Service) CreateConfig(ctx context.Context, t tenant.Tenant, in ConfigInput) (ChannelConfig, error) {
	if err := validateConfig(in, s.Allowed); err != nil {
		return ChannelConfig{}, err
	}
	now := s.now()
	c := ChannelConfig{ID: s.newID(), Name: in.Name, Channel: in.Channel, Category: in.Category,
		Email: in.Email, SMS: in.SMS, Push: in.Push, QuietHours: in.QuietHours, Revision: 1, CreatedAt: now, UpdatedAt: now}
	if err := s.Store.CreateConfig(ctx, t, c); err != nil {
		return ChannelConfig{}, fmt.Errorf("create configuration: %w", err)
	}
	return c, nil
}

// GetConfig returns a configuration of the tenant.
func (s *Service) GetConfig(ctx context.Context, t tenant.Tenant, id string) (ChannelConfig, error) {
	return s.Store.GetConfig(ctx, t, id)
}

// ListConfigs returns a page of configurations, newest first (f.Type
// filters the category).
func (s *Service) ListConfigs(ctx context.Context, t tenant.Tenant, f ListFilter) (Page[ChannelConfig], error) {
	if err := checkFilter(&f, false); err != nil {
		return Page[ChannelConfig]{}, err
	}
	return s.Store.ListConfigs(ctx, t, f)
}

// ConfigEdit computes a configuration's new document from its current one
// (PATCH /channel-configurations/{id} builds one from its merge patch). It
// refuses a change by returning an error, a derrors.Validation naming the
// fields. UpdateConfig runs it again on the newer document when a
// concurrent change wins the race, so it must depend on nothing else.
type ConfigEdit func(current ConfigInput) (ConfigInput, error)

// UpdateConfig applies edit to a configuration. Channel and category are
// fixed after creation. Campaigns read their configuration when they
// send, so a change applies to live campaigns at once.
func (s *Service) UpdateConfig(ctx context.Context, t tenant.Tenant, id string, edit ConfigEdit, ifRevision int) (ChannelConfig, error) {
	for attempt := 0; ; attempt++ {
		c, err := s.Store.GetConfig(ctx, t, id)
		if err != nil {
			return ChannelConfig{}, err
		}
		if ifRevision > 0 && c.Revision != ifRevision {
			return ChannelConfig{}, derrors.New(derrors.Precondition, "channel configuration %s is at revision %d (ETag %s); read it again and retry", id, c.Revision, ETag(c.Revision))
		}
		in, err := edit(ConfigInput{Name: c.Name, Channel: c.Channel, Category: c.Category, Email: c.Email, SMS: c.SMS, Push: c.Push, QuietHours: c.QuietHours})
		if err != nil {
			return ChannelConfig{}, err
		}
		var f derrors.Fields
		if in.Channel != c.Channel {
			f.Add("channel", "is fixed after creation (it is %s)", c.Channel)
		}
		if in.Category != c.Category {
			f.Add("category", "is fixed after creation (it is %s)", c.Category)
		}
		if err := f.Err(); err != nil {
			return ChannelConfig{}, err
		}
		if err := validateConfig(in, s.Allowed); err != nil {
			return ChannelConfig{}, err
		}
		prev := c.Revision
		c.Name, c.Email, c.SMS, c.Push, c.QuietHours = in.Name, in.Email, in.SMS, in.Push, in.QuietHours
		c.Revision, c.UpdatedAt = prev+1, s.now()
		err = s.Store.UpdateConfig(ctx, t, c, prev)
		if derrors.Is(err, derrors.Precondition) && ifRevision == 0 && attempt < 3 {
			continue
		}
		if err != nil {
			return ChannelConfig{}, fmt.Errorf("update configuration %s: %w", id, err)
		}
		return c, nil
	}
}

// DeleteConfig deletes a configuration no live or scheduled campaign
// sends through (derrors.Conflict naming one that does).
func (s *Service) DeleteConfig(ctx context.Context, t tenant.Tenant, id string, ifRevision int) error {
	c, err := s.Store.GetConfig(ctx, t, id)
	if err != nil {
		return err
	}
	if ifRevision > 0 && c.Revision != ifRevision {
		return derrors.New(derrors.Precondition, "channel configuration %s is at revision %d (ETag %s); read it again and retry", id, c.Revision, ETag(c.Revision))
	}
	inUse := func(ids []string) (string, error) {
		for _, cid := range ids {
			camp, err := s.Store.GetCampaign(ctx, t, cid)
			if derrors.Is(err, derrors.NotFound) {
				continue
			}
			if err != nil {
				return "", err
			}
			if camp.Status != StatusLive && camp.Status != StatusScheduled {
				continue
			}
			v, err := s.Store.GetVersion(ctx, t, cid, camp.LiveVersion)
			if err != nil {
				return "", err
			}
			if v.Spec.ChannelConfigID == id {
				return cid, nil
			}
		}
		return "", nil
	}
	if err := s.Store.DeleteConfig(ctx, t, id, c.Revision, inUse); err != nil {
		return fmt.Errorf("delete configuration %s: %w", id, err)
	}
	return nil
}

// validateConfig checks a configuration's document; allowed, when set,
// is what the deployment lets it send through.
func validateConfig(in ConfigInput, allowed *Allowlist) error {
	var f derrors.Fields
	checkName(&f, "name", in.Name)
	checkType(&f, "category", in.Category)
	switch {
	case in.Channel == "":
		f.Add("channel", "is required")
	case !validChannel(in.Channel):
		f.Add("channel", "must be one of email, sms, push")
	}
	blocks := []struct {
		ch  Channel
		set bool
	}{{Email, in.Email != nil}, {SMS, in.SMS != nil}, {Push, in.Push != nil}}
	for _, b := range blocks {
		switch {
		case b.ch == in.Channel && !b.set:
			f.Add(string(b.ch), "is required for a%s %s configuration", map[bool]string{true: "n", false: ""}[b.ch == Email], b.ch)
		case b.ch != in.Channel && b.set && validChannel(in.Channel):
			f.Add(string(b.ch), "is not allowed in a%s %s configuration", map[bool]string{true: "n", false: ""}[in.Channel == Email], in.Channel)
		}
	}
	checkLocale := func(block, l string) {
		if l != "" && !profile.ValidLocale(l) {
			f.Add(block+".defaultLocale", "must be a BCP 47 language tag such as fr-CA")
		}
	}
	if in.Email != nil {
		checkLocale("email", in.Email.DefaultLocale)
	}
	if in.SMS != nil {
		checkLocale("sms", in.SMS.DefaultLocale)
	}
	if in.Push != nil {
		checkLocale("push", in.Push.DefaultLocale)
	}
	if in.Email != nil {
		checkEmailSettings(&f, in.Email, in.Category, allowed)
	}
	if in.SMS != nil {
		checkSMSSettings(&f, in.SMS)
	}
	if in.Push != nil {
		checkPushSettings(&f, in.Push, allowed)
	}
	checkQuietHours(&f, "quietHours", in.QuietHours)
	return f.Err()
}

func checkEmailSettings(f *derrors.Fields, e *EmailSettings, cat Type, allowed *Allowlist) {
	if address.HasControl(e.FromName) || utf8.RuneCountInString(e.FromName) > MaxNameLen {
		f.Add("email.fromName", "must be at most %d characters with no control characters or line breaks (C0, C1, U+2028, U+2029)", MaxNameLen)
	}
	switch {
	case !address.ValidEmail(e.FromAddress):
		f.Add("email.fromAddress", "must be an email address")
	case allowed != nil && !allowed.AllowsSender(e.FromAddress):
		f.Add("email.fromAddress", "%s", senderNotAllowed(allowed))
	}
	for _, list := range []struct {
		field string
		addrs []string
	}{{"email.replyTo", e.ReplyTo}, {"email.bcc", e.BCC}} {
		if len(list.addrs) > 5 {
			f.Add(list.field, "must have at most 5 addresses")
		}
		for i, r := range list.addrs {
			if !address.ValidEmail(r) {
				f.Add(fmt.Sprintf("%s[%d]", list.field, i), "must be an email address")
			}
		}
	}
	if cs := e.ConfigurationSet; cs != "" && !configSetPattern().MatchString(cs) {
		f.Add("email.configurationSet", "must be 1-64 of letters, digits, '_' and '-'")
	}
	if m := e.ListUnsubscribeMailto; m != "" && !address.ValidEmail(strings.TrimPrefix(m, "mailto:")) {
		f.Add("email.listUnsubscribeMailto", "must be an email address")
	}
	if u := e.ListUnsubscribeURL; u != "" {
		p, err := url.Parse(u)
		if err != nil || p.Scheme != "https" || p.Host == "" || len(u) > 1024 || address.HasControl(u) {
			f.Add("email.listUnsubscribeUrl", "must be an https URL of at most 1024 bytes")
		}
	}
	if e.SendToSuppressed && cat == Marketing {
		f.Add("email.sendToSuppressed", "applies to transactional configurations only")
	}
}

func checkSMSSettings(f *derrors.Fields, s *SMSSettings) {
	if id := s.SenderID; id != "" && (!senderIDPattern().MatchString(id) || strings.Trim(id, "0123456789") == "") {
		f.Add("sms.senderId", "must be 1-11 letters and digits with at least one letter")
	}
	if n := s.OriginationNumber; n != "" && !e164Pattern().MatchString(n) {
		f.Add("sms.originationNumber", "must be an E.164 number such as +14155550100")
	}
	if st := s.SMSType; st != "" && st != "Transactional" && st != "Promotional" {
		f.Add("sms.smsType", "must be Transactional or Promotional")
	}
	if s.MaxSegments < 0 || s.MaxSegments > 10 {
		f.Add("sms.maxSegments", "must be 1-10 (0: the default, 10)")
	}
	if r := s.DefaultRegion; r != "" && !address.KnownRegion(r) {
		f.Add("sms.defaultRegion", "must be an ISO 3166-1 alpha-2 region with a numbering plan, in upper case, such as US")
	}
}

func checkPushSettings(f *derrors.Fields, p *PushSettings, allowed *Allowlist) {
	if len(p.Apps) == 0 || len(p.Apps) > 20 {
		f.Add("push.apps", "must list 1-20 apps")
	}
	seen := map[string]bool{}
	for i, a := range p.Apps {
		pre := fmt.Sprintf("push.apps[%d]", i)
		if a.AppID == "" || len(a.AppID) > 256 || strings.Contains(a.AppID, " ") || address.HasControl(a.AppID) {
			f.Add(pre+".appId", "must be 1-256 bytes without spaces")
		}
		switch a.Platform {
		case push.APNS, push.APNSSandbox, push.GCM:
		default:
			f.Add(pre+".platform", "must be APNS, APNS_SANDBOX or GCM")
		}
		if seen[a.AppID+"/"+a.Platform] {
			f.Add(pre, "duplicates the app %q on %s", a.AppID, a.Platform)
		}
		seen[a.AppID+"/"+a.Platform] = true
		m := platformAppARN().FindStringSubmatch(a.PlatformApplicationARN)
		switch {
		case m == nil:
			f.Add(pre+".platformApplicationArn", "must be an SNS platform application ARN (arn:aws:sns:<region>:<account>:app/<platform>/<name>)")
		case m[1] != a.Platform:
			f.Add(pre+".platformApplicationArn", "is a %s application; the app's platform is %s", m[1], a.Platform)
		case allowed != nil && !allowed.AllowsApplication(a.PlatformApplicationARN):
			f.Add(pre+".platformApplicationArn", "%s", applicationNotAllowed(allowed))
		}
	}
}

// senderNotAllowed says why a From address is refused.
func senderNotAllowed(allowed *Allowlist) string {
	if allowed.SenderIdentity == "" {
		return "cannot be used: this deployment has no sender identity (the SenderIdentity parameter)"
	}
	if strings.Contains(allowed.SenderIdentity, "@") {
		return fmt.Sprintf("must be %s, the only address this deployment sends as (the SenderIdentity parameter)", allowed.SenderIdentity)
	}
	return fmt.Sprintf("must be an address of %s or of one of its subdomains, the identity this deployment sends as (the SenderIdentity parameter)", allowed.SenderIdentity)
}

// applicationNotAllowed says why a platform application is refused.
func applicationNotAllowed(allowed *Allowlist) string {
	if allowed.PushApplications == "" {
		return "cannot be used: this deployment allows no platform application (the PushApplicationNames parameter)"
	}
	return fmt.Sprintf("is not a platform application this deployment may send through: it allows %s (the PushApplicationNames parameter)", allowed.PushApplications)
}
