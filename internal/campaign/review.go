package campaign

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/push"
	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/internal/sms"
	"github.com/heraldhq/herald/internal/tenant"
)

// Review codes: what a review error or warning is about.
const (
	CodeConfigMissing      = "channel_configuration_missing"
	CodeConfigNotFound     = "channel_configuration_not_found"
	CodeConfigChannel      = "channel_configuration_wrong_channel"
	CodeConfigCategory     = "channel_configuration_wrong_category"
	CodeContentMissing     = "content_missing"
	CodeTemplateSyntax     = "template_syntax"
	CodeTemplateUnbounded  = "template_cost_unbounded"
	CodeUnsubscribeMissing = "unsubscribe_missing"
	CodeUnsubscribeLink    = "unsubscribe_link_missing"
	CodePushTooLarge       = "push_payload_too_large"
	CodeSMSTooLong         = "sms_too_many_segments"
	CodeSMSSegments        = "sms_multiple_segments"
	CodeStartInPast        = "schedule_start_in_past"
	CodeEndBeforeStart     = "schedule_end_before_start"
	CodeEndInPast          = "schedule_end_in_past"
	CodeRateIgnored        = "schedule_delivery_rate_ignored"
	CodeAudienceMissing    = "audience_missing"
	CodeContextUndeclared  = "context_variable_not_in_schema"
	CodeContextUnchecked   = "context_unchecked"
	// CodeVariantVariable: a variable some of the contents (default and
	// locale variants) read and others do not.
	CodeVariantVariable = "variant_variable_mismatch"
	// CodeProfileInHighThroughput: a high-throughput campaign reads no
	// profile, so its content may not either.
	CodeProfileInHighThroughput = "profile_variable_in_high_throughput"
	CodeSenderNotVerified       = "sender_not_verified"
	CodeSenderUnchecked         = "sender_unchecked"
	// CodeSenderNotAllowed: the From address is outside the sender
	// identity the deployment allows (Allowlist).
	CodeSenderNotAllowed = "sender_not_allowed"
	// CodeApplicationNotAllowed: a push app's platform application is not
	// one the deployment allows (Allowlist).
	CodeApplicationNotAllowed = "application_not_allowed"
)

// DefaultMaxSegments caps an SMS when the configuration sets no maximum.
const DefaultMaxSegments = 10

// Report is the result of a review: errors stop activation, warnings
// do not.
type Report struct {
	Errors   []derrors.FieldError `json:"errors"`
	Warnings []derrors.FieldError `json:"warnings"`
}

func (r *Report) errorf(code, field, format string, args ...any) {
	r.Errors = append(r.Errors, derrors.FieldError{Code: code, Field: field, Message: fmt.Sprintf(format, args...)})
}

func (r *Report) warnf(code, field, format string, args ...any) {
	r.Warnings = append(r.Warnings, derrors.FieldError{Code: code, Field: field, Message: fmt.Sprintf(format, args...)})
}

// Review checks the campaign's draft (its pending draft version, or the
// draft of a campaign never activated) as activation would, and changes
// nothing.
func (s *Service) Review(ctx context.Context, t tenant.Tenant, id string) (Report, error) {
	c, err := s.Store.GetCampaign(ctx, t, id)
	if err != nil {
		return Report{}, err
	}
	return s.review(ctx, t, c)
}

// TemplateField is one template of a campaign's content, with its JSON
// path and the engine mode it is parsed in (email HTML escapes values,
// everything else is text), in the order review reports them.
type TemplateField struct {
	Field string
	Src   string
	Mode  render.Mode
}

// Templates lists the templates of channel ch's content (empty ones
// included), as Dispatch parses them, named under prefix ("content", or
// a variant's VariantPath). Variants are not included.
func Templates(prefix string, ch Channel, c Content) []TemplateField {
	var out []TemplateField
	switch {
	case ch == Email && c.Email != nil:
		e := c.Email
		out = []TemplateField{{prefix + ".email.subject", e.Subject, render.Text}, {prefix + ".email.preheader", e.Preheader, render.Text},
			{prefix + ".email.html", e.HTML, render.HTML}, {prefix + ".email.text", e.Text, render.Text}}
	case ch == SMS && c.SMS != nil:
		out = []TemplateField{{prefix + ".sms.body", c.SMS.Body, render.Text}}
	case ch == Push && c.Push != nil:
		p := c.Push
		out = []TemplateField{{prefix + ".push.title", p.Title, render.Text}, {prefix + ".push.body", p.Body, render.Text},
			{prefix + ".push.imageUrl", p.ImageURL, render.Text}, {prefix + ".push.deepLink", p.DeepLink, render.Text}}
		for _, k := range slices.Sorted(maps.Keys(p.Data)) {
			out = append(out, TemplateField{prefix + ".push.data." + k, p.Data[k], render.Text})
		}
	}
	return out
}

// VariantPath is the JSON path of a content variant, under which review
// and rendering name its fields: "content.variants.fr-CA".
func VariantPath(tag string) string { return "content.variants." + tag }

var unsubscribeWord = lazyRegexp(`(?i)unsubscribe|opt[- ]?out|désabonner|desinscri|abmelden`)

func (s *Service) review(ctx context.Context, t tenant.Tenant, c Campaign) (Report, error) {
	r := Report{Errors: []derrors.FieldError{}, Warnings: []derrors.FieldError{}}
	d := c.Draft
	now := s.now()

	// Step 2: the channel configuration.
	var cfg *ChannelConfig
	switch d.ChannelConfigID {
	case "":
		r.errorf(CodeConfigMissing, "channelConfigurationId", "a channel configuration is required to activate")
	default:
		got, err := s.Store.GetConfig(ctx, t, d.ChannelConfigID)
		switch {
		case derrors.Is(err, derrors.NotFound):
			r.errorf(CodeConfigNotFound, "channelConfigurationId", "no channel configuration %q", d.ChannelConfigID)
		case err != nil:
			return Report{}, fmt.Errorf("review: read configuration: %w", err)
		case got.Channel != c.Channel:
			r.errorf(CodeConfigChannel, "channelConfigurationId", "is a %s configuration; the campaign's channel is %s", got.Channel, c.Channel)
		case got.Category != c.Type:
			r.errorf(CodeConfigCategory, "channelConfigurationId", "is a %s configuration; the campaign is %s", got.Category, c.Type)
		default:
			cfg = &got
		}
	}

	// Step 3: the content, and its templates: the default, then every
	// variant, each checked alike and named by its own path.
	parsed := map[string]*render.Template{}
	s.reviewTemplates(&r, c, "content", d.Content, parsed)
	switch c.Channel {
	case Email:
		reviewChannel(&r, c, cfg, "content", d.Content, parsed)
		if cfg != nil && cfg.Email != nil {
			if s.Allowed != nil && !s.Allowed.AllowsSender(cfg.Email.FromAddress) {
				// Not worth asking SES: this deployment may not send as it.
				r.errorf(CodeSenderNotAllowed, "channelConfigurationId", "the configuration's email.fromAddress %s", senderNotAllowed(s.Allowed))
			} else {
				s.reviewSender(ctx, &r, cfg.Email.FromAddress)
			}
		}
	case SMS:
		reviewChannel(&r, c, cfg, "content", d.Content, parsed)
	case Push:
		if cfg != nil && cfg.Push != nil && s.Allowed != nil {
			for i, a := range cfg.Push.Apps {
				if !s.Allowed.AllowsApplication(a.PlatformApplicationARN) {
					r.errorf(CodeApplicationNotAllowed, "channelConfigurationId", "the configuration's push.apps[%d].platformApplicationArn %s", i, applicationNotAllowed(s.Allowed))
				}
			}
		}
		reviewChannel(&r, c, cfg, "content", d.Content, parsed)
	}
	for _, tag := range d.Content.Locales() {
		v := d.Content.Variants[tag].Content()
		s.reviewTemplates(&r, c, VariantPath(tag), v, parsed)
		reviewChannel(&r, c, cfg, VariantPath(tag), v, parsed)
	}
	reviewVariantVariables(&r, "content", d.Content, parsed)
	// Every treatment of an experiment with content of its own, and its
	// variants, as the default content (the control sends the default).
	if x := d.Content.Experiment; x != nil {
		for _, tr := range x.Treatments {
			if tr.Control() {
				continue
			}
			p, content := TreatmentPath(tr.Name), tr.Content(Content{})
			s.reviewTemplates(&r, c, p, content, parsed)
			reviewChannel(&r, c, cfg, p, content, parsed)
			for _, tag := range content.Locales() {
				v := content.Variants[tag].Content()
				s.reviewTemplates(&r, c, p+".variants."+tag, v, parsed)
				reviewChannel(&r, c, cfg, p+".variants."+tag, v, parsed)
			}
			reviewVariantVariables(&r, p, content, parsed)
		}
	}

	// Step 4: the audience.
	if c.Type == Marketing && d.Audience.AudienceID == "" {
		r.errorf(CodeAudienceMissing, "audience.audienceId", "a marketing campaign needs an audience")
	}

	// Step 5: the schedule.
	sc := d.Schedule
	if sc.Start != nil && sc.End != nil && !sc.End.After(*sc.Start) {
		r.errorf(CodeEndBeforeStart, "schedule.end", "must be after schedule.start")
	} else if sc.End != nil && !sc.End.After(now) {
		r.errorf(CodeEndInPast, "schedule.end", "is in the past")
	}
	if sc.Start != nil && sc.Start.Before(now) {
		// A live campaign keeps the start it went live with; a new or
		// moved start must be in the future.
		unchanged := false
		if c.LiveVersion > 0 {
			if v, err := s.Store.GetVersion(ctx, t, c.ID, c.LiveVersion); err == nil && v.Spec.Schedule.Start != nil && v.Spec.Schedule.Start.Equal(*sc.Start) {
				unchanged = true
			}
		}
		if !unchanged {
			r.errorf(CodeStartInPast, "schedule.start", "is in the past; remove it to go live at once")
		}
	}
	if sc.DeliveryRate > 0 && c.Type == Transactional {
		r.warnf(CodeRateIgnored, "schedule.deliveryRate", "applies to marketing audience sends; transactional sends are not paced")
	}

	// The context the content reads, against the context schema; a
	// high-throughput campaign reads nothing else.
	var ctxVars []string
	for _, field := range slices.Sorted(maps.Keys(parsed)) {
		for _, v := range parsed[field].Variables() {
			if rest, ok := strings.CutPrefix(v, "context."); ok {
				ctxVars = append(ctxVars, rest)
			}
			if c.HighThroughput && (v == "profile" || strings.HasPrefix(v, "profile.")) {
				r.errorf(CodeProfileInHighThroughput, field, "uses %s; a high-throughput campaign reads no profile: put it in the call's context", v)
			}
		}
	}
	slices.Sort(ctxVars)
	ctxVars = slices.Compact(ctxVars)
	if len(d.ContextSchema) > 0 {
		if s.Schemas == nil {
			return Report{}, errNoSchemas
		}
		schema, err := s.Schemas.Compile(d.ContextSchema)
		if err == nil {
			for _, v := range ctxVars {
				if !schema.Declares(v) {
					r.errorf(CodeContextUndeclared, "contextSchema", "context.%s is used by the content but not declared in the context schema", v)
				}
			}
		}
	} else if len(ctxVars) > 0 {
		r.warnf(CodeContextUnchecked, "contextSchema", "no context schema: triggers are not checked for context.%s", strings.Join(ctxVars, ", context."))
	}
	return r, nil
}

// reviewTemplates checks one content (the default, or a variant's, at
// prefix) of campaign c: the channel's required fields, template syntax
// and cost. It adds the parsed templates to parsed, by field path.
func (s *Service) reviewTemplates(r *Report, c Campaign, prefix string, content Content, parsed map[string]*render.Template) {
	switch c.Channel {
	case Email:
		e := content.Email
		if e == nil {
			r.errorf(CodeContentMissing, prefix+".email", "email content is required for an email campaign")
			break
		}
		if strings.TrimSpace(e.Subject) == "" {
			r.errorf(CodeContentMissing, prefix+".email.subject", "a subject is required")
		}
		if strings.TrimSpace(e.HTML) == "" && strings.TrimSpace(e.Text) == "" {
			r.errorf(CodeContentMissing, prefix+".email.html", "an HTML or a text body is required")
		}
	case SMS:
		if content.SMS == nil || strings.TrimSpace(content.SMS.Body) == "" {
			r.errorf(CodeContentMissing, prefix+".sms.body", "an SMS body is required")
		}
	case Push:
		p := content.Push
		switch {
		case p == nil:
			r.errorf(CodeContentMissing, prefix+".push", "push content is required for a push campaign")
		case !p.Silent && strings.TrimSpace(p.Title) == "" && strings.TrimSpace(p.Body) == "":
			r.errorf(CodeContentMissing, prefix+".push.body", "a title or a body is required (or mark the notification silent)")
		}
	}
	for _, tf := range Templates(prefix, c.Channel, content) {
		tm, err := render.Parse(tf.Src, tf.Mode)
		if err != nil {
			r.errorf(CodeTemplateSyntax, tf.Field, "%v", err)
			continue
		}
		parsed[tf.Field] = tm
		reviewCost(r, tf.Field, tm)
	}
}

// reviewChannel checks the channel's rules on one content (at prefix),
// whose templates reviewTemplates parsed: a marketing email's unsubscribe
// link, SMS segments, push payload size.
func reviewChannel(r *Report, c Campaign, cfg *ChannelConfig, prefix string, content Content, parsed map[string]*render.Template) {
	empty := map[string]any{"profile": map[string]any{}, "context": map[string]any{}}
	out := func(field string) string {
		tm := parsed[field]
		if tm == nil {
			return ""
		}
		var b strings.Builder
		_ = tm.Execute(&b, empty)
		return b.String()
	}

	// Channel rules.
	switch c.Channel {
	case Email:
		if e := content.Email; e != nil && c.Type == Marketing {
			link := unsubscribeWord().MatchString(e.HTML) || unsubscribeWord().MatchString(e.Text)
			header := cfg != nil && cfg.Email != nil && (cfg.Email.ListUnsubscribeMailto != "" || cfg.Email.ListUnsubscribeURL != "")
			switch {
			case !link && !header:
				r.errorf(CodeUnsubscribeMissing, prefix+".email.html", "a marketing email needs an unsubscribe link in its content or List-Unsubscribe in its channel configuration")
			case !link:
				r.warnf(CodeUnsubscribeLink, prefix+".email.html", "the content has no visible unsubscribe link; only the List-Unsubscribe header offers one")
			}
		}
	case SMS:
		if content.SMS != nil && parsed[prefix+".sms.body"] != nil {
			info := sms.Measure(out(prefix + ".sms.body"))
			maxSeg := DefaultMaxSegments
			if cfg != nil && cfg.SMS != nil && cfg.SMS.MaxSegments > 0 {
				maxSeg = cfg.SMS.MaxSegments
			}
			switch {
			case info.Segments > maxSeg:
				r.errorf(CodeSMSTooLong, prefix+".sms.body", "the body is %d segments (%s, %d units) before personalization; the maximum is %d", info.Segments, info.Encoding, info.Units, maxSeg)
			case info.Segments > 1:
				r.warnf(CodeSMSSegments, prefix+".sms.body", "the body is %d segments (%s, %d units) before personalization; each is billed", info.Segments, info.Encoding, info.Units)
			}
		}
	case Push:
		if p := content.Push; p != nil {
			m := push.Message{Title: out(prefix + ".push.title"), Body: out(prefix + ".push.body"), ImageURL: out(prefix + ".push.imageUrl"),
				DeepLink: out(prefix + ".push.deepLink"), Sound: p.Sound, Badge: p.Badge, Silent: p.Silent, Data: map[string]string{}}
			for k := range p.Data {
				m.Data[k] = out(prefix + ".push.data." + k)
			}
			platforms := []string{push.APNS, push.GCM}
			if cfg != nil && cfg.Push != nil && len(cfg.Push.Apps) > 0 {
				platforms = nil
				for _, a := range cfg.Push.Apps {
					if !slices.Contains(platforms, a.Platform) {
						platforms = append(platforms, a.Platform)
					}
				}
			}
			for _, pl := range platforms {
				if _, size, err := push.SNSMessage(pl, m); err != nil && size > push.MaxPayload {
					r.errorf(CodePushTooLarge, prefix+".push", "the %s payload is %d bytes before personalization; the limit is %d", pl, size, push.MaxPayload)
				}
			}
		}
	}
}

// reviewVariantVariables warns of each variable only some of the
// contents (the default and its variants) read: a translation that
// dropped or added a personalization. Nothing is said of content
// without variants.
func reviewVariantVariables(r *Report, base string, c Content, parsed map[string]*render.Template) {
	if len(c.Variants) == 0 {
		return
	}
	prefixes := []string{base}
	for _, tag := range c.Locales() {
		prefixes = append(prefixes, base+".variants."+tag)
	}
	uses := map[string][]string{} // variable → the prefixes that read it
	for _, p := range prefixes {
		seen := map[string]bool{}
		for field, tm := range parsed {
			if !inContent(field, p) {
				continue
			}
			for _, v := range tm.Variables() {
				if !seen[v] {
					seen[v] = true
					uses[v] = append(uses[v], p)
				}
			}
		}
	}
	for _, v := range slices.Sorted(maps.Keys(uses)) {
		in := uses[v]
		if len(in) == len(prefixes) {
			continue
		}
		slices.Sort(in)
		for _, p := range in {
			r.warnf(CodeVariantVariable, p, "reads %s, which %d of the campaign's %d contents (default and variants) do not read", v, len(prefixes)-len(in), len(prefixes))
		}
	}
}

// inContent reports whether field belongs to the content at prefix:
// "content.email.subject" to "content" (not to a variant or a
// treatment), "content.variants.fr.email.subject" to
// "content.variants.fr".
func inContent(field, prefix string) bool {
	rest, ok := strings.CutPrefix(field, prefix+".")
	if !ok {
		return false
	}
	return !strings.HasPrefix(rest, "variants.") && !strings.HasPrefix(rest, "experiment.")
}

// reviewCost warns of a template whose cost the engine cannot bound from
// the template alone. Rendering stays within the engine's caps whatever the
// template, so this is no error; but the author should know that large
// data makes the recipient's render fail rather than the message arrive.
func reviewCost(r *Report, field string, tm *render.Template) {
	risks := tm.Risks()
	if len(risks) == 0 {
		return
	}
	more := ""
	if len(risks) > 1 {
		more = fmt.Sprintf(" (and %d more)", len(risks)-1)
	}
	r.warnf(CodeTemplateUnbounded, field, "%v%s; its cost grows faster than the data it reads, so a recipient whose data is large fails to render (render_error: over %d bytes of output or %d bytes built) instead of receiving the message",
		risks[0], more, render.DefaultMaxOutput, render.DefaultAllocFactor*render.DefaultMaxOutput)
}

func (s *Service) reviewSender(ctx context.Context, r *Report, from string) {
	if s.Senders == nil || from == "" {
		return
	}
	ok, err := s.Senders.CanSendAs(ctx, from)
	switch {
	case err != nil:
		r.warnf(CodeSenderUnchecked, "channelConfigurationId", "could not check the From address's sender domain: %v", err)
	case !ok:
		r.errorf(CodeSenderNotVerified, "channelConfigurationId", "the configuration's From address %s is not in a verified sender domain", from)
	}
}
