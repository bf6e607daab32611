package campaign

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/internal/address"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/tenant"
)

// Limits on authored fields.
const (
	MaxNameLen        = 256
	MaxDescriptionLen = 4096
	MaxHTMLLen        = 500 << 10
	MaxTextLen        = 100 << 10
	MaxSMSLen         = 1600
	MaxTags           = 20
	MaxTagLen         = 64
	MaxSchemaLen      = 64 << 10
	MaxDeliveryRate   = 2000
)

// CampaignInput is the authored document of a campaign: the body of
// POST /campaigns and what PATCH /campaigns/{id} merge-patches. Identity,
// status, revision and timestamps are Herald's; a body cannot set them.
type CampaignInput struct {
	Name            string          `json:"name"`
	Description     string          `json:"description,omitempty"`
	Tags            []string        `json:"tags,omitempty"`
	Type            Type            `json:"type"`
	Channel         Channel         `json:"channel"`
	HighThroughput  bool            `json:"highThroughput,omitempty"`
	ChannelConfigID string          `json:"channelConfigurationId,omitempty"`
	Content         Content         `json:"content"`
	Audience        Audience        `json:"audience"`
	Schedule        Schedule        `json:"schedule"`
	ContextSchema   json.RawMessage `json:"contextSchema,omitempty"`
	// FrequencyCapExempt: see Spec.FrequencyCapExempt.
	FrequencyCapExempt bool `json:"frequencyCapExempt,omitempty"`
}

func (in CampaignInput) spec() Spec {
	return Spec{ChannelConfigID: in.ChannelConfigID, Content: in.Content, Audience: in.Audience,
		Schedule: in.Schedule, ContextSchema: in.ContextSchema, FrequencyCapExempt: in.FrequencyCapExempt}
}

// input is the authored document of c, with its draft spec.
func (c Campaign) input() CampaignInput {
	d := c.Draft
	return CampaignInput{Name: c.Name, Description: c.Description, Tags: c.Tags, Type: c.Type, Channel: c.Channel, HighThroughput: c.HighThroughput,
		ChannelConfigID: d.ChannelConfigID, Content: d.Content, Audience: d.Audience, Schedule: d.Schedule,
		ContextSchema: d.ContextSchema, FrequencyCapExempt: d.FrequencyCapExempt}
}

// Detail is a campaign as the API shows it: its properties, the live
// version (if it was ever activated) and the pending draft (if any).
type Detail struct {
	ID             string     `json:"id"`
	Name           string     `json:"name"`
	Description    string     `json:"description,omitempty"`
	Tags           []string   `json:"tags,omitempty"`
	Type           Type       `json:"type"`
	Channel        Channel    `json:"channel"`
	HighThroughput bool       `json:"highThroughput,omitempty"`
	Status         Status     `json:"status"`
	LiveVersion    int        `json:"liveVersion,omitempty"`
	Live           *Version   `json:"live,omitempty"`
	Draft          *Spec      `json:"draft,omitempty"`
	DraftPending   bool       `json:"draftPending"`
	Revision       int        `json:"revision"`
	CreatedAt      time.Time  `json:"createdAt"`
	UpdatedAt      time.Time  `json:"updatedAt"`
	StoppedAt      *time.Time `json:"stoppedAt,omitempty"`
	ArchivedAt     *time.Time `json:"archivedAt,omitempty"`
	ExpiresAt      *time.Time `json:"expiresAt,omitempty"`
}

// ETag is the detail's entity tag (its revision).
func (d Detail) ETag() string { return ETag(d.Revision) }

// ETag formats a revision as a strong entity tag.
func ETag(revision int) string { return fmt.Sprintf(`"%d"`, revision) }

// Service authors campaigns and configurations and takes campaigns through
// their lifecycle. Every change is guarded by the revision it was made
// from: a caller passing ifRevision > 0 (its If-Match) gets
// derrors.Precondition when the stored revision differs; with 0 the change
// applies to the latest state, retried when a concurrent change wins.
type Service struct {
	Store Store
	// Hooks, when set, follow activations and endings (schedules).
	Hooks Hooks
	// Senders, when set, lets review check that an email configuration's
	// From address is in a verified sender domain.
	Senders Senders
	// Allowed is the sender identity and the platform applications the
	// deployment lets configurations use, checked when a configuration
	// is created or changed and when a campaign is reviewed. The functions
	// always set it; nil checks nothing (tests of other rules).
	Allowed *Allowlist
	// Schemas compiles context schemas, to validate and review them
	// (contextschema.Compiler); a campaign with a schema is refused
	// without it.
	Schemas Schemas
	Now     func() time.Time
	NewID   func() string
}

// Senders tells which From addresses the account may send email as.
type Senders interface {
	// CanSendAs reports whether address, its domain or a parent domain is
	// a verified sending identity.
	CanSendAs(ctx context.Context, address string) (bool, error)
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) newID() string {
	if s.NewID != nil {
		return s.NewID()
	}
	return uuid.NewString()
}

// CreateCampaign validates and stores a new draft campaign.
func (s *Service) CreateCampaign(ctx context.Context, t tenant.Tenant, in CampaignInput) (Campaign, error) {
	if in.Audience.Namespace == "" {
		in.Audience.Namespace = defaultNamespace(in.Channel)
	}
	if err := validateCampaign(in, s.Schemas); err != nil {
		return Campaign{}, err
	}
	now := s.now()
	c := Campaign{
		ID: s.newID(), Name: in.Name, Description: in.Description, Tags: in.Tags,
		Type: in.Type, Channel: in.Channel, HighThroughput: in.HighThroughput, Status: StatusDraft, Revision: 1, DraftPending: true,
		Draft: in.spec(), CreatedAt: now, UpdatedAt: now,
	}
	if err := s.Store.CreateCampaign(ctx, t, c); err != nil {
		return Campaign{}, fmt.Errorf("create campaign: %w", err)
	}
	return c, nil
}

func defaultNamespace(ch Channel) string {
	if ch == SMS {
		return "phone"
	}
	return "email"
}

// GetCampaign returns a campaign of the tenant.
func (s *Service) GetCampaign(ctx context.Context, t tenant.Tenant, id string) (Campaign, error) {
	return s.Store.GetCampaign(ctx, t, id)
}

// Detail returns the campaign with its live version and pending draft.
func (s *Service) Detail(ctx context.Context, t tenant.Tenant, id string) (Detail, error) {
	c, err := s.Store.GetCampaign(ctx, t, id)
	if err != nil {
		return Detail{}, err
	}
	return s.DetailOf(ctx, t, c)
}

// DetailOf builds the detail of c, reading its live version.
func (s *Service) DetailOf(ctx context.Context, t tenant.Tenant, c Campaign) (Detail, error) {
	d := Detail{ID: c.ID, Name: c.Name, Description: c.Description, Tags: c.Tags, Type: c.Type, Channel: c.Channel, HighThroughput: c.HighThroughput,
		Status: c.Status, LiveVersion: c.LiveVersion, DraftPending: c.DraftPending, Revision: c.Revision,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, StoppedAt: c.StoppedAt, ArchivedAt: c.ArchivedAt, ExpiresAt: c.ExpiresAt}
	if c.DraftPending || c.LiveVersion == 0 {
		draft := c.Draft
		d.Draft = &draft
	}
	if c.LiveVersion > 0 {
		v, err := s.Store.GetVersion(ctx, t, c.ID, c.LiveVersion)
		if err != nil {
			return Detail{}, fmt.Errorf("campaign %s live version %d: %w", c.ID, c.LiveVersion, err)
		}
		d.Live = &v
	}
	return d, nil
}

// ListCampaigns returns a page of the tenant's campaigns, newest first.
func (s *Service) ListCampaigns(ctx context.Context, t tenant.Tenant, f ListFilter) (Page[Summary], error) {
	if err := checkFilter(&f, true); err != nil {
		return Page[Summary]{}, err
	}
	return s.Store.ListCampaigns(ctx, t, f)
}

func checkFilter(f *ListFilter, campaigns bool) error {
	var fe derrors.Fields
	switch {
	case f.Limit == 0:
		f.Limit = 25
	case f.Limit < 1 || f.Limit > 100:
		fe.Add("limit", "must be 1-100")
	}
	if f.Status != "" && !slices.Contains([]Status{StatusDraft, StatusScheduled, StatusLive, StatusStopped,
		StatusCompleted, StatusArchived, StatusFailed}, f.Status) {
		fe.Add("status", "must be one of draft, scheduled, live, stopped, completed, archived, failed")
	}
	if f.Type != "" && f.Type != Transactional && f.Type != Marketing {
		fe.Add(map[bool]string{true: "type", false: "category"}[campaigns], "must be transactional or marketing")
	}
	if f.Channel != "" && !validChannel(f.Channel) {
		fe.Add("channel", "must be one of email, sms, push")
	}
	f.NamePrefix = strings.ToLower(f.NamePrefix)
	return fe.Err()
}

func validChannel(ch Channel) bool { return ch == Email || ch == SMS || ch == Push }

// editable reports whether a campaign in status st accepts edits.
func editable(st Status) bool {
	switch st {
	case StatusDraft, StatusFailed, StatusLive, StatusScheduled:
		return true
	}
	return false
}

// update runs a read-modify-write of campaign id: change edits the
// campaign read (returning an error to give up); the write is guarded by
// the revision read. With ifRevision > 0 a different stored revision is
// derrors.Precondition; with 0 a lost race is retried on the new state.
func (s *Service) update(ctx context.Context, t tenant.Tenant, id string, ifRevision int, change func(*Campaign) error) (Campaign, error) {
	for attempt := 0; ; attempt++ {
		c, err := s.Store.GetCampaign(ctx, t, id)
		if err != nil {
			return Campaign{}, err
		}
		if ifRevision > 0 && c.Revision != ifRevision {
			return Campaign{}, stale(c)
		}
		prev := c.Revision
		if err := change(&c); err != nil {
			return Campaign{}, err
		}
		c.Revision = prev + 1
		c.UpdatedAt = s.now()
		err = s.Store.UpdateCampaign(ctx, t, c, prev)
		if derrors.Is(err, derrors.Precondition) && ifRevision == 0 && attempt < 3 {
			continue
		}
		if err != nil {
			return Campaign{}, fmt.Errorf("update campaign %s: %w", id, err)
		}
		return c, nil
	}
}

func stale(c Campaign) error {
	return derrors.New(derrors.Precondition, "campaign %s is at revision %d (ETag %s); read it again and retry", c.ID, c.Revision, ETag(c.Revision))
}

// CampaignEdit computes a campaign's new authored document from its
// current one (PATCH /campaigns/{id} builds one from its merge patch). It
// refuses a change by returning an error, a derrors.Validation naming the
// fields. UpdateCampaign runs it again on the newer document when a
// concurrent change wins the race, so it must depend on nothing else.
type CampaignEdit func(current CampaignInput) (CampaignInput, error)

// UpdateCampaign applies edit to the campaign's authored document. On a
// draft it edits the draft; on a live or scheduled campaign, name,
// description and tags change at once and everything else goes to the
// pending draft version, live only once activated. The type is fixed
// after creation, the channel once activated.
func (s *Service) UpdateCampaign(ctx context.Context, t tenant.Tenant, id string, edit CampaignEdit, ifRevision int) (Campaign, error) {
	return s.update(ctx, t, id, ifRevision, func(c *Campaign) error {
		if !editable(c.Status) {
			return derrors.New(derrors.Conflict, "campaign %s is %s; it can no longer be edited (duplicate it to reuse it)", c.ID, c.Status)
		}
		in, err := edit(c.input())
		if err != nil {
			return err
		}
		var f derrors.Fields
		if in.Type != c.Type {
			f.Add("type", "is fixed after creation (it is %s)", c.Type)
		}
		if in.HighThroughput != c.HighThroughput {
			f.Add("highThroughput", "is fixed after creation (it is %t)", c.HighThroughput)
		}
		if in.Channel != c.Channel && c.LiveVersion > 0 {
			f.Add("channel", "is fixed once the campaign has been activated (it is %s)", c.Channel)
		}
		if err := f.Err(); err != nil {
			return err
		}
		if err := validateCampaign(in, s.Schemas); err != nil {
			return err
		}
		c.Name, c.Description, c.Tags, c.Channel = in.Name, in.Description, in.Tags, in.Channel
		spec := in.spec()
		if !sameSpec(spec, c.Draft) {
			c.Draft = spec
			c.DraftPending = true
		}
		return nil
	})
}

func sameSpec(a, b Spec) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// DeleteCampaign deletes a draft; any other status is derrors.Conflict.
func (s *Service) DeleteCampaign(ctx context.Context, t tenant.Tenant, id string, ifRevision int) error {
	c, err := s.Store.GetCampaign(ctx, t, id)
	if err != nil {
		return err
	}
	if ifRevision > 0 && c.Revision != ifRevision {
		return stale(c)
	}
	if c.Status != StatusDraft {
		return derrors.New(derrors.Conflict, "campaign %s is %s; only a draft can be deleted (archive it instead)", c.ID, c.Status)
	}
	if err := s.Store.DeleteCampaign(ctx, t, id, c.Revision); err != nil {
		return fmt.Errorf("delete campaign %s: %w", id, err)
	}
	return nil
}

// Activate activates the campaign's draft; see ActivateRevision.
func (s *Service) Activate(ctx context.Context, t tenant.Tenant, id string) (Campaign, error) {
	return s.ActivateRevision(ctx, t, id, 0)
}

// ActivateRevision reviews the draft, freezes it as the next numbered
// version and makes that version the live one, atomically: live, or
// scheduled while its start is in the future. It refuses with
// derrors.Unprocessable (listing every review error) while the draft
// cannot be sent, and with derrors.Conflict when there is nothing to
// activate (a live campaign without pending edits) or the campaign has
// ended.
func (s *Service) ActivateRevision(ctx context.Context, t tenant.Tenant, id string, ifRevision int) (Campaign, error) {
	c, err := s.Store.GetCampaign(ctx, t, id)
	if err != nil {
		return Campaign{}, err
	}
	if ifRevision > 0 && c.Revision != ifRevision {
		return Campaign{}, stale(c)
	}
	switch c.Status {
	case StatusDraft, StatusFailed:
	case StatusLive, StatusScheduled:
		if !c.DraftPending {
			return Campaign{}, derrors.New(derrors.Conflict, "campaign %s is %s with no pending draft version; edit it first", c.ID, c.Status)
		}
	default:
		return Campaign{}, derrors.New(derrors.Conflict, "campaign %s is %s; it cannot be activated (duplicate it to reuse it)", c.ID, c.Status)
	}
	r, err := s.review(ctx, t, c)
	if err != nil {
		return Campaign{}, err
	}
	if len(r.Errors) > 0 {
		return Campaign{}, &derrors.Error{Kind: derrors.Unprocessable, Detail: "the campaign cannot be activated: review found errors",
			Fields: r.Errors, Warnings: r.Warnings}
	}
	now := s.now()
	prev := c.Revision
	v := Version{CampaignID: c.ID, Number: c.LiveVersion + 1, Type: c.Type, Channel: c.Channel, HighThroughput: c.HighThroughput, Spec: c.Draft, ActivatedAt: now}
	c.LiveVersion = v.Number
	c.Status = StatusLive
	if st := c.Draft.Schedule.Start; st != nil && st.After(now) {
		c.Status = StatusScheduled
	}
	c.DraftPending = false
	c.Revision++
	c.UpdatedAt = now
	if err := s.Store.Activate(ctx, t, c, v, prev); err != nil {
		return Campaign{}, fmt.Errorf("activate campaign %s: %w", c.ID, err)
	}
	if s.Hooks != nil {
		if err := s.Hooks.Activated(ctx, t, c, v); err != nil {
			return Campaign{}, fmt.Errorf("campaign %s activated, but its schedules failed: %w", c.ID, err)
		}
	}
	return c, nil
}

// Stop ends a live or scheduled campaign for good: it can no longer be
// triggered, edited or activated (duplicate it to reuse it).
func (s *Service) Stop(ctx context.Context, t tenant.Tenant, id string, ifRevision int) (Campaign, error) {
	c, err := s.update(ctx, t, id, ifRevision, func(c *Campaign) error {
		if c.Status != StatusLive && c.Status != StatusScheduled {
			return derrors.New(derrors.Conflict, "campaign %s is %s; only a live or scheduled campaign can be stopped", c.ID, c.Status)
		}
		now := s.now()
		c.Status, c.StoppedAt = StatusStopped, &now
		return nil
	})
	if err == nil && s.Hooks != nil {
		if err := s.Hooks.Ended(ctx, t, c); err != nil {
			return c, fmt.Errorf("campaign %s stopped, but deleting its schedules failed: %w", c.ID, err)
		}
	}
	return c, err
}

// Archive archives a campaign in any status but draft (delete a draft
// instead). An archived campaign and its versions expire ArchiveTTL later.
func (s *Service) Archive(ctx context.Context, t tenant.Tenant, id string, ifRevision int) (Campaign, error) {
	var was Status
	c, err := s.update(ctx, t, id, ifRevision, func(c *Campaign) error {
		switch c.Status {
		case StatusDraft:
			return derrors.New(derrors.Conflict, "campaign %s is draft; delete a draft instead of archiving it", c.ID)
		case StatusArchived:
			return derrors.New(derrors.Conflict, "campaign %s is archived already", c.ID)
		}
		now := s.now()
		exp := now.Add(ArchiveTTL)
		was = c.Status
		c.Status, c.ArchivedAt, c.ExpiresAt = StatusArchived, &now, &exp
		return nil
	})
	if err != nil {
		return c, err
	}
	if err := s.Store.ExpireVersions(ctx, t, id, *c.ExpiresAt); err != nil {
		return c, fmt.Errorf("campaign %s archived, but expiring its versions failed: %w", c.ID, err)
	}
	if (was == StatusLive || was == StatusScheduled) && s.Hooks != nil {
		if err := s.Hooks.Ended(ctx, t, c); err != nil {
			return c, fmt.Errorf("campaign %s archived, but deleting its schedules failed: %w", c.ID, err)
		}
	}
	return c, nil
}

// DuplicateInput is the optional body of POST /campaigns/{id}/duplicate.
type DuplicateInput struct {
	Name string `json:"name,omitempty"`
}

// Duplicate creates a new draft from a campaign in any status: from its
// pending draft if it has one, else from its live version.
func (s *Service) Duplicate(ctx context.Context, t tenant.Tenant, id string, in DuplicateInput) (Campaign, error) {
	src, err := s.Store.GetCampaign(ctx, t, id)
	if err != nil {
		return Campaign{}, err
	}
	spec := src.Draft
	if !src.DraftPending && src.LiveVersion > 0 {
		v, err := s.Store.GetVersion(ctx, t, id, src.LiveVersion)
		if err != nil {
			return Campaign{}, fmt.Errorf("campaign %s live version: %w", id, err)
		}
		spec = v.Spec
	}
	name := in.Name
	if name == "" {
		name = src.Name
		if utf8.RuneCountInString(name) <= MaxNameLen-7 {
			name += " (copy)"
		}
	}
	doc := src.input()
	doc.Name = name
	doc.ChannelConfigID, doc.Content, doc.Audience, doc.Schedule, doc.ContextSchema, doc.FrequencyCapExempt =
		spec.ChannelConfigID, spec.Content, spec.Audience, spec.Schedule, spec.ContextSchema, spec.FrequencyCapExempt
	return s.CreateCampaign(ctx, t, doc)
}

// ListVersions returns a page of the campaign's versions, newest first.
func (s *Service) ListVersions(ctx context.Context, t tenant.Tenant, id string, limit int, cursor string) (Page[VersionSummary], error) {
	c, err := s.Store.GetCampaign(ctx, t, id)
	if err != nil {
		return Page[VersionSummary]{}, err
	}
	if limit == 0 {
		limit = 25
	}
	if limit < 1 || limit > 100 {
		return Page[VersionSummary]{}, derrors.Validation(derrors.FieldError{Field: "limit", Message: "must be 1-100"})
	}
	p, err := s.Store.ListVersions(ctx, t, id, limit, cursor)
	if err != nil {
		return Page[VersionSummary]{}, err
	}
	for i := range p.Items {
		p.Items[i].Live = p.Items[i].Number == c.LiveVersion && (c.Status == StatusLive || c.Status == StatusScheduled)
	}
	return p, nil
}

// GetVersion returns one version of the campaign.
func (s *Service) GetVersion(ctx context.Context, t tenant.Tenant, id string, n int) (Version, error) {
	return s.Store.GetVersion(ctx, t, id, n)
}

// MarkLive turns a scheduled campaign live when its start comes (the
// start schedule calls it). It is idempotent: a campaign already live is
// left as it is; one in any other status is not touched (derrors.Conflict).
func (s *Service) MarkLive(ctx context.Context, t tenant.Tenant, id string) (Campaign, error) {
	return s.transition(ctx, t, id, StatusLive, func(c Campaign) (bool, error) {
		switch c.Status {
		case StatusLive:
			return false, nil
		case StatusScheduled:
			return true, nil
		}
		return false, derrors.New(derrors.Conflict, "campaign %s is %s; only a scheduled campaign can go live", c.ID, c.Status)
	})
}

// MarkCompleted ends a live or scheduled campaign when its end comes (the
// end schedule calls it). Idempotent for a completed campaign; a stopped
// or archived one stays as it is.
func (s *Service) MarkCompleted(ctx context.Context, t tenant.Tenant, id string) (Campaign, error) {
	c, err := s.transition(ctx, t, id, StatusCompleted, func(c Campaign) (bool, error) {
		switch c.Status {
		case StatusLive, StatusScheduled:
			return true, nil
		case StatusCompleted, StatusStopped, StatusArchived:
			return false, nil
		}
		return false, derrors.New(derrors.Conflict, "campaign %s is %s; it cannot complete", c.ID, c.Status)
	})
	if err == nil && c.Status == StatusCompleted && s.Hooks != nil {
		if err := s.Hooks.Ended(ctx, t, c); err != nil {
			return c, fmt.Errorf("campaign %s completed, but deleting its schedules failed: %w", c.ID, err)
		}
	}
	return c, err
}

// transition moves campaign id to status `to` when allow says so,
// retrying on a concurrent change.
func (s *Service) transition(ctx context.Context, t tenant.Tenant, id string, to Status, allow func(Campaign) (bool, error)) (Campaign, error) {
	for attempt := 0; ; attempt++ {
		c, err := s.Store.GetCampaign(ctx, t, id)
		if err != nil {
			return Campaign{}, err
		}
		change, err := allow(c)
		if err != nil || !change {
			return c, err
		}
		prev := c.Revision
		c.Status, c.Revision, c.UpdatedAt = to, c.Revision+1, s.now()
		err = s.Store.UpdateCampaign(ctx, t, c, prev)
		if derrors.Is(err, derrors.Precondition) && attempt < 3 {
			continue
		}
		if err != nil {
			return Campaign{}, fmt.Errorf("campaign %s to %s: %w", id, to, err)
		}
		return c, nil
	}
}

// validateCampaign checks an authored document's shape and limits (the
// rules a draft must always meet); whether it can be sent is review's.
func validateCampaign(in CampaignInput, schemas Schemas) error {
	var f derrors.Fields
	checkName(&f, "name", in.Name)
	if utf8.RuneCountInString(in.Description) > MaxDescriptionLen {
		f.Add("description", "must be at most %d characters", MaxDescriptionLen)
	}
	if len(in.Tags) > MaxTags {
		f.Add("tags", "must have at most %d tags", MaxTags)
	}
	for i, tag := range in.Tags {
		switch {
		case strings.TrimSpace(tag) == "" || utf8.RuneCountInString(tag) > MaxTagLen:
			f.Add(fmt.Sprintf("tags[%d]", i), "must be 1-%d characters", MaxTagLen)
		case slices.Contains(in.Tags[:i], tag):
			f.Add(fmt.Sprintf("tags[%d]", i), "duplicates another tag")
		}
	}
	checkType(&f, "type", in.Type)
	switch {
	case in.Channel == "":
		f.Add("channel", "is required")
	case !validChannel(in.Channel):
		f.Add("channel", "must be one of email, sms, push")
	}
	checkContent(&f, in.Channel, in.Content)
	a := in.Audience
	if !profile.ValidNamespace(a.Namespace) {
		f.Add("audience.namespace", "must be 1-64 of letters, digits, '_' and '-'")
	}
	if a.CreateProfiles && in.Type == Marketing {
		f.Add("audience.createProfiles", "applies to transactional campaigns only")
	}
	if in.HighThroughput {
		switch {
		case in.Type != Transactional:
			f.Add("highThroughput", "applies to transactional campaigns only")
		case in.Channel != Email && in.Channel != Push:
			f.Add("highThroughput", "applies to email and push campaigns only")
		}
		if a.CreateProfiles {
			f.Add("audience.createProfiles", "does not apply to a high-throughput campaign: it never reads or creates profiles")
		}
	}
	if a.AudienceID != "" && in.Type == Transactional {
		f.Add("audience.audienceId", "applies to marketing campaigns only (transactional recipients come in the call)")
	}
	if len(a.AudienceID) > 128 {
		f.Add("audience.audienceId", "must be at most 128 characters")
	}
	if r := in.Schedule.DeliveryRate; r != 0 && (r < 1 || r > MaxDeliveryRate) {
		f.Add("schedule.deliveryRate", "must be 1-%d messages per second", MaxDeliveryRate)
	}
	if len(in.ChannelConfigID) > 128 {
		f.Add("channelConfigurationId", "must be at most 128 characters")
	}
	if len(in.ContextSchema) > 0 {
		if len(in.ContextSchema) > MaxSchemaLen {
			f.Add("contextSchema", "must be at most %d bytes", MaxSchemaLen)
		} else if schemas == nil {
			return errNoSchemas
		} else if _, err := schemas.Compile(in.ContextSchema); err != nil {
			f.Add("contextSchema", "is not a valid JSON Schema: %v", err)
		}
	}
	return f.Err()
}

func checkContent(f *derrors.Fields, ch Channel, c Content) {
	checkVariants(f, "content", ch, c)
	if c.Experiment != nil {
		checkExperiment(f, ch, c.Experiment)
	}
}

// checkVariants checks one content (the default, or a treatment's, at
// prefix) and its locale variants.
func checkVariants(f *derrors.Fields, prefix string, ch Channel, c Content) {
	checkBlocks(f, prefix, ch, c)
	if len(c.Variants) > MaxVariants {
		f.Add(prefix+".variants", "must have at most %d locales", MaxVariants)
	}
	tags := c.Locales()
	for i, tag := range tags {
		p := prefix + ".variants." + tag
		switch {
		case !profile.ValidLocale(tag):
			f.Add(p, "must be named by a BCP 47 language tag such as fr-CA")
		case slices.ContainsFunc(tags[:i], func(o string) bool { return strings.EqualFold(o, tag) }):
			f.Add(p, "names the same locale as another variant (tags match regardless of case)")
		}
		checkBlocks(f, p, ch, c.Variants[tag].Content())
	}
}

// checkBlocks checks the channel blocks of content (the default, or one
// variant's) whose fields are named under prefix.
func checkBlocks(f *derrors.Fields, prefix string, ch Channel, c Content) {
	for _, x := range []struct {
		ch  Channel
		set bool
	}{{Email, c.Email != nil}, {SMS, c.SMS != nil}, {Push, c.Push != nil}} {
		if x.set && x.ch != ch && validChannel(ch) {
			f.Add(prefix+"."+string(x.ch), "a campaign of channel %s has %s content only", ch, ch)
		}
	}
	if e := c.Email; e != nil {
		p := prefix + ".email"
		if address.HasControl(e.Subject) {
			f.Add(p+".subject", "must not contain line breaks or control characters (C0, C1, U+2028, U+2029)")
		}
		if len(e.Subject) > 998 {
			f.Add(p+".subject", "must be at most 998 bytes")
		}
		if len(e.Preheader) > 1000 {
			f.Add(p+".preheader", "must be at most 1000 bytes")
		}
		if len(e.HTML) > MaxHTMLLen {
			f.Add(p+".html", "must be at most %d bytes (500 KB)", MaxHTMLLen)
		}
		if len(e.Text) > MaxTextLen {
			f.Add(p+".text", "must be at most %d bytes", MaxTextLen)
		}
	}
	if s := c.SMS; s != nil && utf8.RuneCountInString(s.Body) > MaxSMSLen {
		f.Add(prefix+".sms.body", "must be at most %d characters", MaxSMSLen)
	}
	if p := c.Push; p != nil {
		pre := prefix + ".push"
		for _, x := range []struct {
			field, v string
			max      int
		}{{"title", p.Title, 1024}, {"body", p.Body, 4096}, {"imageUrl", p.ImageURL, 2048}, {"deepLink", p.DeepLink, 2048}, {"sound", p.Sound, 256}} {
			if len(x.v) > x.max {
				f.Add(pre+"."+x.field, "must be at most %d bytes", x.max)
			}
		}
		if address.HasControl(p.Title) {
			f.Add(pre+".title", "must not contain line breaks or control characters (C0, C1, U+2028, U+2029)")
		}
		if p.Badge != nil && *p.Badge < 0 {
			f.Add(pre+".badge", "must be 0 or more")
		}
		if len(p.Data) > 50 {
			f.Add(pre+".data", "must have at most 50 keys")
		}
		for k := range p.Data {
			if k == "" || len(k) > 128 {
				f.Add(pre+".data", "keys must be 1-128 bytes")
				break
			}
		}
	}
}

func checkName(f *derrors.Fields, field, name string) {
	switch n := utf8.RuneCountInString(strings.TrimSpace(name)); {
	case n == 0:
		f.Add(field, "is required")
	case utf8.RuneCountInString(name) > MaxNameLen:
		f.Add(field, "must be at most %d characters", MaxNameLen)
	}
}

func checkType(f *derrors.Fields, field string, t Type) {
	switch t {
	case Transactional, Marketing:
	case "":
		f.Add(field, "is required")
	default:
		f.Add(field, "must be transactional or marketing")
	}
}
