// Package preview shows a campaign's message before it goes out: a
// rendered preview for sample data, proof sends to a few test addresses,
// and the ready-to-use execution API request that triggers it.
//
// Preview renders through delivery's Templates and Data, the very code
// Dispatch renders with, and proofs are sent by the Dispatcher itself
// (ledger, render, provider), so what is shown is what is sent.
package preview

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/internal/address"
	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/contextschema"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/push"
	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/internal/tenant"
)

// MaxProofRecipients bounds one proof send.
const MaxProofRecipients = 10

// Campaigns reads campaigns and their versions.
type Campaigns interface {
	GetCampaign(ctx context.Context, t tenant.Tenant, id string) (campaign.Campaign, error)
	GetVersion(ctx context.Context, t tenant.Tenant, campaignID string, number int) (campaign.Version, error)
	// GetConfig returns a channel configuration or derrors.NotFound.
	GetConfig(ctx context.Context, t tenant.Tenant, id string) (campaign.ChannelConfig, error)
}

// Profiles reads stored profiles.
type Profiles interface {
	// Get returns a profile or derrors.NotFound.
	Get(ctx context.Context, t tenant.Tenant, id profile.Identity) (profile.Profile, error)
}

// Sender sends proofs; *delivery.Dispatcher is one.
type Sender interface {
	DispatchProof(ctx context.Context, job delivery.Job, v campaign.Version) ([]delivery.Outcome, error)
}

var _ Sender = (*delivery.Dispatcher)(nil)

// Service previews, proofs and samples campaigns.
type Service struct {
	Campaigns Campaigns
	Profiles  Profiles
	// Sender sends proofs; without one, proofs are refused.
	Sender Sender
	// Executions records each proof send as an execution (kind "proof"),
	// so GET /executions/{proofId} reports it; nil records nothing.
	Executions Executions
	NewID      func() string
	Now        func() time.Time
	// Caps answers whether a previewed profile would be capped now
	// (Result.FrequencyCap); nil answers nothing.
	Caps Caps
}

// Executions records executions that have no idempotency record.
type Executions interface {
	// PutExecution stores ex; derrors.Conflict if its id is taken.
	PutExecution(ctx context.Context, t tenant.Tenant, ex execution.Execution) error
}

// Request is the body of POST /campaigns/{id}/preview.
type Request struct {
	// Version picks what to render: 0 (default) the campaign's draft —
	// its pending edits, or the draft of a campaign never activated, else
	// the live version — or a version number.
	Version int `json:"version,omitempty"`
	// Profile and Context are decoded as a trigger's recipient's are, in
	// the body's member order, which {{#each}} over them follows.
	Profile render.Object `json:"profile,omitzero"`
	Context render.Object `json:"context,omitzero"`
	// UserID (in Namespace, by default the campaign audience's) loads the
	// stored profile; Profile is merged over it, as in a trigger.
	UserID    string `json:"userId,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	// Locale (BCP 47) picks the content variant to render; without it the
	// variant is the one Dispatch would choose (delivery.RecipientLocale):
	// Profile's "locale", the stored profile's, the configuration's
	// default.
	Locale string `json:"locale,omitempty"`
	// Treatment picks the content experiment's treatment to render;
	// without it, UserID's assigned treatment (the holdout renders the
	// default content, with a warning), else the default content.
	Treatment string `json:"treatment,omitempty"`
}

// Result is a rendered preview.
type Result struct {
	CampaignID string           `json:"campaignId"`
	Version    int              `json:"version,omitempty"`
	Draft      bool             `json:"draft"`
	Channel    campaign.Channel `json:"channel"`
	Email      *Email           `json:"email,omitempty"`
	SMS        *SMS             `json:"sms,omitempty"`
	Push       *Push            `json:"push,omitempty"`
	// Locale is the locale the variant was chosen by, and Variant the
	// content rendered: a variant's tag or "default". Both are absent
	// for content without variants.
	Locale  string `json:"locale,omitempty"`
	Variant string `json:"variant,omitempty"`
	// Treatment is the content experiment's treatment rendered (or
	// "holdout": the recipient would get nothing); absent for content
	// without experiment, or when the default content was rendered.
	Treatment string `json:"treatment,omitempty"`
	// QuietHours, when the channel configuration has some, says whether
	// the recipient (the stored profile's zone) would be held back now.
	QuietHours *QuietHours `json:"quietHours,omitempty"`
	// Variables are the data paths the content reads.
	Variables []string `json:"variables"`
	// Warnings report the context failing the campaign's context schema
	// (a trigger with it would be refused).
	Warnings []derrors.FieldError `json:"warnings"`
	// FrequencyCap says whether the tenant's frequency caps would let a
	// message to the request's userId go out now; absent without one.
	FrequencyCap *FrequencyCap `json:"frequencyCap,omitempty"`
}

// Email is a rendered email.
type Email struct {
	Subject string `json:"subject"`
	HTML    string `json:"html,omitempty"`
	Text    string `json:"text,omitempty"`
}

// SMS is a rendered SMS with how it would be sent.
type SMS struct {
	Body     string `json:"body"`
	Encoding string `json:"encoding"`
	Units    int    `json:"units"`
	Segments int    `json:"segments"`
}

// Push is a rendered notification and its platform payloads.
type Push struct {
	Title    string            `json:"title,omitempty"`
	Body     string            `json:"body,omitempty"`
	ImageURL string            `json:"imageUrl,omitempty"`
	DeepLink string            `json:"deepLink,omitempty"`
	Sound    string            `json:"sound,omitempty"`
	Badge    *int              `json:"badge,omitempty"`
	Data     map[string]string `json:"data,omitempty"`
	Silent   bool              `json:"silent,omitempty"`
	// Payloads are the APNs and FCM payloads with their sizes (the limit
	// is 4096 bytes).
	Payloads map[string]Payload `json:"payloads"`
}

// Payload is one platform's push payload.
type Payload struct {
	Size    int             `json:"size"`
	Payload json.RawMessage `json:"payload,omitempty"`
	Error   string          `json:"error,omitempty"`
}

// pick returns the version to render: number n, or for 0 the draft (as
// an unnumbered version) or, with no pending edits, the live version.
func (s *Service) pick(ctx context.Context, t tenant.Tenant, id string, n int) (campaign.Campaign, campaign.Version, error) {
	c, err := s.Campaigns.GetCampaign(ctx, t, id)
	if err != nil {
		return c, campaign.Version{}, err
	}
	if n < 0 {
		return c, campaign.Version{}, derrors.Validation(derrors.FieldError{Field: "version", Message: "must be a version number, or 0 for the draft"})
	}
	if n == 0 && (c.DraftPending || c.LiveVersion == 0) {
		return c, campaign.Version{CampaignID: c.ID, Type: c.Type, Channel: c.Channel, HighThroughput: c.HighThroughput, Spec: c.Draft}, nil
	}
	if n == 0 {
		n = c.LiveVersion
	}
	v, err := s.Campaigns.GetVersion(ctx, t, id, n)
	return c, v, err
}

// Preview renders the campaign for the request's profile and context.
// Content that does not parse, or fails to render, is
// derrors.Unprocessable naming the field and the position.
func (s *Service) Preview(ctx context.Context, t tenant.Tenant, id string, in Request) (Result, error) {
	c, v, err := s.pick(ctx, t, id, in.Version)
	if err != nil {
		return Result{}, err
	}
	if err := checkLocale(in.Locale); err != nil {
		return Result{}, err
	}
	tm, err := delivery.ParseContent(v.Channel, v.Spec.Content)
	if err != nil {
		return Result{}, contentError(err)
	}
	var stored map[string]any
	var storedProfile profile.Profile
	ns := in.Namespace
	if ns == "" {
		ns = v.Spec.Audience.Namespace
	}
	tm, treatment, warn, err := treatmentOf(tm, c.ID, in.Treatment, ns, in.UserID)
	if err != nil {
		return Result{}, err
	}
	if in.UserID != "" {
		p, err := s.Profiles.Get(ctx, t, profile.Identity{Namespace: ns, ID: in.UserID})
		if err != nil {
			if derrors.Is(err, derrors.NotFound) {
				return Result{}, derrors.New(derrors.NotFound, "no profile %s in namespace %s", in.UserID, ns)
			}
			return Result{}, err
		}
		stored, storedProfile = p.Attributes, p
	}
	fc, err := s.frequencyCap(ctx, t, v, profile.Identity{Namespace: ns, ID: in.UserID})
	if err != nil {
		return Result{}, err
	}
	// The configuration (its default locale, its quiet hours): one read.
	cfg, err := s.config(ctx, t, v)
	if err != nil {
		return Result{}, err
	}
	locale := ""
	if len(tm.Locales()) > 0 {
		locale = delivery.RecipientLocale(delivery.Recipient{Profile: in.Profile, Locale: in.Locale}, storedProfile, cfg)
		tm = tm.For(locale)
	}
	rendered, err := tm.Render(delivery.Data(stored, in.Profile, in.Context), false)
	if err != nil {
		return Result{}, contentError(err)
	}
	out := Result{CampaignID: c.ID, Version: v.Number, Draft: v.Number == 0, Channel: v.Channel, Locale: locale, Variant: tm.Variant(),
		Treatment: treatment, Variables: orEmpty(tm.Variables()), Warnings: []derrors.FieldError{}, FrequencyCap: fc}
	if warn != nil {
		out.Warnings = append(out.Warnings, *warn)
	}
	switch {
	case rendered.Email != nil:
		e := rendered.Email
		out.Email = &Email{Subject: e.Subject, HTML: e.HTML, Text: e.Text}
	case rendered.SMS != nil:
		m := rendered.SMS
		out.SMS = &SMS{Body: m.Body, Encoding: string(m.Encoding), Units: m.Units, Segments: m.Segments}
	case rendered.Push != nil:
		m := rendered.Push
		p := &Push{Title: m.Title, Body: m.Body, ImageURL: m.ImageURL, DeepLink: m.DeepLink, Sound: m.Sound, Badge: m.Badge,
			Data: m.Data, Silent: m.Silent, Payloads: map[string]Payload{}}
		for _, pl := range []struct {
			name  string
			build func(push.Message) ([]byte, error)
		}{{push.APNS, push.APNsPayload}, {push.GCM, push.FCMPayload}} {
			b, err := pl.build(*m)
			pp := Payload{Size: len(b), Payload: b}
			if err != nil {
				pp = Payload{Error: err.Error()}
			} else if len(b) > push.MaxPayload {
				pp.Error = fmt.Sprintf("over the %d-byte limit: Dispatch would record failed:payload_too_large", push.MaxPayload)
			}
			p.Payloads[pl.name] = pp
		}
		out.Push = p
	}
	out.QuietHours = s.quietHours(cfg, v, storedProfile.TimeZone)
	if len(v.Spec.ContextSchema) > 0 {
		if sch, err := contextschema.Compile(v.Spec.ContextSchema); err == nil {
			ctxVal := any(in.Context.Map())
			if in.Context.IsZero() {
				ctxVal = map[string]any{}
			}
			if err := sch.Validate(ctxVal); err != nil {
				out.Warnings = append(out.Warnings, derrors.FieldError{Code: "context_schema", Field: "context", Message: err.Error()})
			}
		}
	}
	return out, nil
}

// checkLocale refuses a locale that is not a BCP 47 tag.
func checkLocale(l string) error {
	if l != "" && !profile.ValidLocale(l) {
		return derrors.Validation(derrors.FieldError{Field: "locale", Message: "must be a BCP 47 language tag such as fr-CA"})
	}
	return nil
}

// config returns the configuration of v, whose default locale chooses a
// variant; none (no id, or one that does not exist) has no default.
func (s *Service) config(ctx context.Context, t tenant.Tenant, v campaign.Version) (campaign.ChannelConfig, error) {
	if v.Spec.ChannelConfigID == "" {
		return campaign.ChannelConfig{}, nil
	}
	cfg, err := s.Campaigns.GetConfig(ctx, t, v.Spec.ChannelConfigID)
	if derrors.Is(err, derrors.NotFound) {
		return campaign.ChannelConfig{}, nil
	}
	return cfg, err
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// contentError maps a parse or render failure to a 422 naming the field
// and, from the engine, the line and column.
func contentError(err error) error {
	var ce *delivery.ContentError
	if errors.As(err, &ce) {
		return &derrors.Error{Kind: derrors.Unprocessable, Detail: "the content cannot be rendered",
			Fields: []derrors.FieldError{{Code: code(ce.Err), Field: ce.Field, Message: ce.Err.Error()}}}
	}
	if errors.Is(err, delivery.ErrChannel) {
		return derrors.New(derrors.Unprocessable, "%v", err)
	}
	return err
}

// CodeHoldout warns that the previewed recipient is in the holdout of
// the content experiment.
const CodeHoldout = "experiment_holdout"

// treatmentOf returns the content a preview renders of tm and the
// treatment it is: the treatment named (derrors.Invalid on field
// "treatment" if there is none so named), else userID's assignment in
// campaign campaignID (the default content and a warning for the
// holdout), else the default content.
func treatmentOf(tm *delivery.Templates, campaignID, name, namespace, userID string) (*delivery.Templates, string, *derrors.FieldError, error) {
	x := tm.Experiment()
	switch {
	case x == nil && name != "":
		return nil, "", nil, derrors.Validation(derrors.FieldError{Field: "treatment", Message: "the content has no experiment"})
	case x == nil:
		return tm, "", nil, nil
	case name != "":
		tt := tm.TreatmentNamed(name)
		if tt == nil {
			return nil, "", nil, derrors.Validation(derrors.FieldError{Field: "treatment", Message: fmt.Sprintf("the experiment has no treatment %q", name)})
		}
		return tt, name, nil, nil
	case userID != "":
		name = x.Assign(campaignID, namespace, userID)
		if tt := tm.TreatmentNamed(name); tt != nil {
			return tt, name, nil, nil
		}
		return tm, name, &derrors.FieldError{Code: CodeHoldout, Field: "userId",
			Message: "this recipient is in the experiment's holdout: a send gives them nothing (excluded:holdout); the default content is shown"}, nil
	}
	return tm, "", nil, nil
}

func code(err error) string {
	var se *render.SyntaxError
	if errors.As(err, &se) {
		return campaign.CodeTemplateSyntax
	}
	var ee *render.ExecError
	if errors.As(err, &ee) {
		return "render_error"
	}
	return campaign.CodeContentMissing
}

// ProofRequest is the body of POST /campaigns/{id}/proofs.
type ProofRequest struct {
	// Recipients are 1-10 addresses for the campaign's channel: email
	// addresses, or E.164 phone numbers for SMS.
	Recipients []string      `json:"recipients"`
	Profile    render.Object `json:"profile,omitzero"`
	Context    render.Object `json:"context,omitzero"`
	// Version picks what to send, as in Request.
	Version int `json:"version,omitempty"`
	// Locale (BCP 47) picks the content variant to send; without it,
	// Profile's "locale", then the configuration's default, as Dispatch.
	Locale string `json:"locale,omitempty"`
	// Treatment picks the content experiment's treatment to send; without
	// it a proof sends the default content (a proof is never held out).
	Treatment string `json:"treatment,omitempty"`
}

// ProofResult says how each proof went.
type ProofResult struct {
	// ProofID is the ledger's execution id of this proof send.
	ProofID    string `json:"proofId"`
	CampaignID string `json:"campaignId"`
	Version    int    `json:"version,omitempty"`
	Draft      bool   `json:"draft"`
	// Locale and Variant say which content was sent, as in Result;
	// absent for content without variants.
	Locale  string `json:"locale,omitempty"`
	Variant string `json:"variant,omitempty"`
	// Treatment is the treatment sent, as in Result.
	Treatment string         `json:"treatment,omitempty"`
	Results   []ProofOutcome `json:"results"`
}

// ProofOutcome is one recipient's outcome.
type ProofOutcome struct {
	Recipient string           `json:"recipient"`
	Outcome   delivery.Outcome `json:"outcome"`
}

var e164 = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`) })

// Proofs really sends the campaign (subject or title prefixed "[Proof] ")
// to up to ten addresses, through the Dispatcher, and records them in the
// ledger as proofs under a proof id of their own.
func (s *Service) Proofs(ctx context.Context, t tenant.Tenant, id string, in ProofRequest) (ProofResult, error) {
	var f derrors.Fields
	switch n := len(in.Recipients); {
	case n == 0:
		f.Add("recipients", "is required (1-%d addresses)", MaxProofRecipients)
	case n > MaxProofRecipients:
		f.Add("recipients", "must have at most %d addresses", MaxProofRecipients)
	}
	if err := f.Err(); err != nil {
		return ProofResult{}, err
	}
	c, v, err := s.pick(ctx, t, id, in.Version)
	if err != nil {
		return ProofResult{}, err
	}
	if s.Sender == nil {
		return ProofResult{}, derrors.New(derrors.Unprocessable, "proofs cannot be sent from here")
	}
	if err := checkLocale(in.Locale); err != nil {
		return ProofResult{}, err
	}
	tm, err := delivery.ParseContent(v.Channel, v.Spec.Content)
	if err != nil {
		return ProofResult{}, contentError(err)
	}
	if v.Spec.ChannelConfigID == "" {
		return ProofResult{}, derrors.Validation(derrors.FieldError{Field: "channelConfigurationId", Message: "the campaign needs a channel configuration to send proofs"})
	}
	tm, treatment, _, err := treatmentOf(tm, c.ID, in.Treatment, "", "")
	if err != nil {
		return ProofResult{}, err
	}
	recipients := make([]delivery.Recipient, len(in.Recipients))
	for i, a := range in.Recipients {
		field := fmt.Sprintf("recipients[%d]", i)
		if slices.Contains(in.Recipients[:i], a) {
			f.Add(field, "duplicates another recipient")
			continue
		}
		r := delivery.Recipient{Type: delivery.TypeExternal, UserID: a, Profile: in.Profile, Context: in.Context, Locale: in.Locale,
			Treatment: treatment}
		switch v.Channel {
		case campaign.Email:
			if !address.ValidEmail(a) {
				f.Add(field, "must be an email address")
			}
			r.Namespace, r.Email = "email", a
		case campaign.SMS:
			if !e164().MatchString(a) {
				f.Add(field, "must be an E.164 phone number such as +14155550100")
			}
			r.Namespace = "phone"
		default:
			return ProofResult{}, derrors.New(derrors.Unprocessable, "proofs of %s campaigns are not supported; use preview", v.Channel)
		}
		recipients[i] = r
	}
	if err := f.Err(); err != nil {
		return ProofResult{}, err
	}
	newID := uuid.NewString
	if s.NewID != nil {
		newID = s.NewID
	}
	job := delivery.Job{Tenant: t, ExecutionID: "proof-" + newID(), CampaignID: c.ID, Version: v.Number, Proof: true,
		Channel: v.Channel, Ledger: delivery.LedgerV2, Recipients: recipients}
	if s.Executions != nil {
		now := time.Now().UTC()
		if s.Now != nil {
			now = s.Now().UTC()
		}
		ex := execution.Execution{ID: job.ExecutionID, Kind: "proof", CampaignID: c.ID, Version: v.Number, RecipientCount: len(recipients), CreatedAt: now}
		if err := s.Executions.PutExecution(ctx, t, ex); err != nil {
			return ProofResult{}, fmt.Errorf("record proof execution: %w", err)
		}
	}
	outcomes, err := s.Sender.DispatchProof(ctx, job, v)
	if err != nil && outcomes == nil {
		if errors.Is(err, delivery.ErrChannel) {
			return ProofResult{}, derrors.New(derrors.Unprocessable, "proofs of %s campaigns cannot be sent yet", v.Channel)
		}
		if derrors.Is(err, derrors.NotFound) {
			return ProofResult{}, derrors.New(derrors.Unprocessable, "the campaign's channel configuration %q does not exist", v.Spec.ChannelConfigID)
		}
		return ProofResult{}, fmt.Errorf("send proofs: %w", err)
	}
	out := ProofResult{ProofID: job.ExecutionID, CampaignID: c.ID, Version: v.Number, Draft: v.Number == 0, Treatment: treatment}
	if len(tm.Locales()) > 0 {
		// The configuration was read by the send; a failure to read it
		// again only leaves its default locale out of what is said.
		cfg, _ := s.config(ctx, t, v)
		out.Locale = delivery.RecipientLocale(recipients[0], profile.Profile{}, cfg)
		out.Variant = tm.For(out.Locale).Variant()
	}
	for i, o := range outcomes {
		if o == "" {
			o = "failed:retry_later"
		}
		out.Results = append(out.Results, ProofOutcome{Recipient: in.Recipients[i], Outcome: o})
	}
	return out, nil
}

// Caller says how the caller reached the API, for the request sample.
type Caller struct {
	BaseURL      string
	KeyID        string
	Org, Sandbox string
}

// Sample is a ready-to-use execution API request for a live campaign.
type Sample struct {
	CampaignID string            `json:"campaignId"`
	Version    int               `json:"version"`
	Method     string            `json:"method"`
	URL        string            `json:"url"`
	Headers    map[string]string `json:"headers"`
	Body       map[string]any    `json:"body"`
	Curl       string            `json:"curl"`
	// Variables are the profile and context paths the content uses.
	Variables SampleVariables `json:"variables"`
	// Warnings say where the sample, as it is, would fail the context
	// schema or fail to render; none is expected.
	Warnings []derrors.FieldError `json:"warnings,omitempty"`
}

// SampleVariables splits the content's variables by where they come from.
type SampleVariables struct {
	Profile []string `json:"profile"`
	Context []string `json:"context"`
}

// SecretPlaceholder stands for the caller's secret, which Herald never
// stores and never shows.
const SecretPlaceholder = "$HERALD_SECRET"

// RequestSample returns the execution API request that triggers the live
// campaign, listing every profile and context variable its content uses;
// derrors.Conflict before the campaign is live (or scheduled). Each
// variable gets a placeholder of the type the content needs, so that the
// sample renders as pasted: the JSON type the context schema declares
// when there is one (its const, enum, example or default first), else the
// kind its use asks for (render.Template.Kinds) — 42.5 for formatNumber and
// numeric comparisons, an ISO-8601 date for formatDate, a one-element
// array for #each, an object for a path read below it, true for a path
// only tested, and "<name>" otherwise.
func (s *Service) RequestSample(ctx context.Context, t tenant.Tenant, id string, caller Caller) (Sample, error) {
	c, err := s.Campaigns.GetCampaign(ctx, t, id)
	if err != nil {
		return Sample{}, err
	}
	if (c.Status != campaign.StatusLive && c.Status != campaign.StatusScheduled) || c.LiveVersion == 0 {
		return Sample{}, derrors.New(derrors.Conflict, "campaign %s is %s; the request sample is available once it is live", c.ID, c.Status)
	}
	v, err := s.Campaigns.GetVersion(ctx, t, id, c.LiveVersion)
	if err != nil {
		return Sample{}, err
	}
	tm, err := delivery.ParseContent(v.Channel, v.Spec.Content)
	if err != nil {
		return Sample{}, contentError(err)
	}
	vars := SampleVariables{Profile: []string{}, Context: []string{}}
	for _, p := range allVariables(tm) {
		switch {
		case strings.HasPrefix(p, "profile."):
			vars.Profile = append(vars.Profile, p)
		case strings.HasPrefix(p, "context."):
			vars.Context = append(vars.Context, p)
		}
	}
	var schema *contextschema.Schema
	if len(v.Spec.ContextSchema) > 0 {
		schema, _ = contextschema.Compile(v.Spec.ContextSchema) // a stored schema compiled when it was saved
	}
	kinds := allKinds(tm)
	prof, ctxv := sampleObject("profile", kinds, nil), sampleObject("context", kinds, schema)
	out := Sample{CampaignID: c.ID, Version: v.Number, Method: "POST", Variables: vars, Warnings: sampleWarnings(tm, schema, prof, ctxv),
		Headers: map[string]string{"Authorization": "Bearer " + SecretPlaceholder, "x-api-key": caller.KeyID,
			"x-gw-ims-org-id": caller.Org, "x-sandbox-name": caller.Sandbox, "Content-Type": "application/json"}}
	if v.Type == campaign.Marketing {
		out.URL = caller.BaseURL + "/im/executions/audience"
		out.Body = map[string]any{"requestId": "<unique request id>", "campaignId": c.ID, "context": ctxv}
	} else {
		out.URL = caller.BaseURL + "/im/executions/unitary"
		rcpt := map[string]any{"type": delivery.TypeAEP, "namespace": v.Spec.Audience.Namespace, "userId": "<" + v.Spec.Audience.Namespace + " id>"}
		if len(prof) > 0 {
			rcpt["profile"] = prof
		}
		rcpt["context"] = ctxv
		out.Body = map[string]any{"requestId": "<unique request id>", "campaignId": c.ID, "recipients": []any{rcpt}}
	}
	var raw bytes.Buffer
	enc := json.NewEncoder(&raw)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(out.Body)
	body := bytes.TrimSpace(raw.Bytes())
	var b strings.Builder
	fmt.Fprintf(&b, "curl -X POST %s \\\n  -H \"Authorization: Bearer %s\"", shellQuote(out.URL), SecretPlaceholder)
	for _, h := range []string{"x-api-key", "x-gw-ims-org-id", "x-sandbox-name", "Content-Type"} {
		fmt.Fprintf(&b, " \\\n  -H %s", shellQuote(h+": "+out.Headers[h]))
	}
	fmt.Fprintf(&b, " \\\n  -d %s", shellQuote(string(body)))
	out.Curl = b.String()
	return out, nil
}

// sampleWarnings checks the sample as a trigger would use it: against the
// context schema, and rendered with its profile and context (no stored
// profile). Neither should ever fail; a warning says where one did.
func sampleWarnings(tm *delivery.Templates, schema *contextschema.Schema, prof, ctxv map[string]any) []derrors.FieldError {
	var out []derrors.FieldError
	if schema != nil {
		if err := schema.Validate(ctxv); err != nil {
			out = append(out, derrors.FieldError{Code: "context_schema", Field: "context", Message: "the sample fails the context schema; edit it before sending: " + err.Error()})
		}
	}
	if _, err := tm.Render(delivery.Data(nil, object(prof), ctxv), false); err != nil {
		field := "content"
		var ce *delivery.ContentError
		if errors.As(err, &ce) {
			field, err = ce.Field, ce.Err
		}
		out = append(out, derrors.FieldError{Code: code(err), Field: field, Message: "the sample does not render; edit it before sending: " + err.Error()})
	}
	return out
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// object is m, built here as a map (a request sample's values), as the
// engine's object (nil: none).
func object(m map[string]any) render.Object {
	o, err := render.ObjectOf(m)
	if err != nil {
		// m was decoded from JSON, so it encodes again.
		return render.Object{}
	}
	return o
}

// allVariables lists the variables of the content and of every variant
// of it, sorted and de-duplicated: a request sample fits every locale.
func allVariables(tm *delivery.Templates) []string {
	var all []string
	for _, c := range tm.Contents() {
		all = append(all, c.Variables()...)
	}
	slices.Sort(all)
	return slices.Compact(all)
}

// allKinds is Kinds over the content and every variant of it, the most
// demanding kind of each path.
func allKinds(tm *delivery.Templates) map[string]render.Kind {
	out := map[string]render.Kind{}
	for _, c := range tm.Contents() {
		for p, k := range c.Kinds() {
			out[p] = max(out[p], k)
		}
	}
	return out
}
