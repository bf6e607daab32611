package campaign

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/internal/address"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/internal/tenant"
)

// Limits on authored fields.
const (
	MaxNameLen = 256
	MaxHTMLLen = 500 << 10
	MaxTextLen = 100 << 10
	MaxTags    = 20
)

// configSetPattern is SES's rule for configuration set names.
var configSetPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ConfigInput is the body of POST /channel-configurations. Identity,
// revision and timestamps are Herald's; a body cannot set them.
type ConfigInput struct {
	Name     string         `json:"name"`
	Channel  Channel        `json:"channel"`
	Category Type           `json:"category"`
	Email    *EmailSettings `json:"email"`
}

// CampaignInput is the body of POST /campaigns.
type CampaignInput struct {
	Name            string   `json:"name"`
	Description     string   `json:"description"`
	Tags            []string `json:"tags"`
	Type            Type     `json:"type"`
	Channel         Channel  `json:"channel"`
	ChannelConfigID string   `json:"channelConfigurationId"`
	Content         Content  `json:"content"`
	Audience        Audience `json:"audience"`
	Schedule        Schedule `json:"schedule"`
}

// Service creates, reads and activates campaigns and configurations.
type Service struct {
	Store Store
	// Hooks, when set, follow activations and endings (schedules).
	Hooks Hooks
	Now   func() time.Time
	NewID func() string
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

// CreateConfig validates and stores a new channel configuration.
func (s *Service) CreateConfig(ctx context.Context, t tenant.Tenant, in ConfigInput) (ChannelConfig, error) {
	var f derrors.Fields
	checkName(&f, "name", in.Name)
	checkType(&f, "category", in.Category)
	switch in.Channel {
	case Email:
		if in.Email == nil {
			f.Add("email", "is required for an email configuration")
		} else {
			checkEmailSettings(&f, in.Email)
		}
	case "":
		f.Add("channel", "is required")
	case SMS, Push:
		f.Add("channel", "%q configurations are not supported yet; use \"email\"", in.Channel)
	default:
		f.Add("channel", "must be one of email, sms, push")
	}
	if err := f.Err(); err != nil {
		return ChannelConfig{}, err
	}
	now := s.now()
	c := ChannelConfig{ID: s.newID(), Name: in.Name, Channel: in.Channel, Category: in.Category,
		Email: in.Email, Revision: 1, CreatedAt: now, UpdatedAt: now}
	if err := s.Store.CreateConfig(ctx, t, c); err != nil {
		return ChannelConfig{}, fmt.Errorf("create configuration: %w", err)
	}
	return c, nil
}

// GetConfig returns a configuration of the tenant.
func (s *Service) GetConfig(ctx context.Context, t tenant.Tenant, id string) (ChannelConfig, error) {
	return s.Store.GetConfig(ctx, t, id)
}

// CreateCampaign validates and stores a new draft campaign.
func (s *Service) CreateCampaign(ctx context.Context, t tenant.Tenant, in CampaignInput) (Campaign, error) {
	var f derrors.Fields
	checkName(&f, "name", in.Name)
	if utf8.RuneCountInString(in.Description) > 4096 {
		f.Add("description", "must be at most 4096 characters")
	}
	if len(in.Tags) > MaxTags {
		f.Add("tags", "must have at most %d tags", MaxTags)
	}
	for i, tag := range in.Tags {
		if tag == "" || utf8.RuneCountInString(tag) > 64 {
			f.Add(fmt.Sprintf("tags[%d]", i), "must be 1-64 characters")
		}
	}
	checkType(&f, "type", in.Type)
	switch in.Channel {
	case Email:
	case "":
		f.Add("channel", "is required")
	case SMS, Push:
		f.Add("channel", "%q campaigns are not supported yet; use \"email\"", in.Channel)
	default:
		f.Add("channel", "must be one of email, sms, push")
	}
	if in.Content.Email != nil {
		checkEmailContent(&f, "content.email", in.Content.Email)
	}
	if in.Audience.Namespace == "" {
		in.Audience.Namespace = "email"
	} else if !profile.ValidNamespace(in.Audience.Namespace) {
		f.Add("audience.namespace", "must be 1-64 of letters, digits, '_' and '-'")
	}
	if st, en := in.Schedule.Start, in.Schedule.End; st != nil && en != nil && !en.After(*st) {
		f.Add("schedule.end", "must be after schedule.start")
	}
	if err := f.Err(); err != nil {
		return Campaign{}, err
	}
	now := s.now()
	c := Campaign{
		ID: s.newID(), Name: in.Name, Description: in.Description, Tags: in.Tags,
		Type: in.Type, Channel: in.Channel, Status: StatusDraft, Revision: 1,
		Draft: Spec{ChannelConfigID: in.ChannelConfigID, Content: in.Content,
			Audience: in.Audience, Schedule: in.Schedule},
		CreatedAt: now, UpdatedAt: now,
	}
	if err := s.Store.CreateCampaign(ctx, t, c); err != nil {
		return Campaign{}, fmt.Errorf("create campaign: %w", err)
	}
	return c, nil
}

// GetCampaign returns a campaign of the tenant.
func (s *Service) GetCampaign(ctx context.Context, t tenant.Tenant, id string) (Campaign, error) {
	return s.Store.GetCampaign(ctx, t, id)
}

// Activate freezes the draft as the next version and makes it live (or
// scheduled, when its start is in the future). It refuses with
// derrors.Unprocessable, listing every problem, while the draft cannot be
// sent, and with derrors.Conflict unless the campaign is a draft.
func (s *Service) Activate(ctx context.Context, t tenant.Tenant, id string) (Campaign, error) {
	c, err := s.Store.GetCampaign(ctx, t, id)
	if err != nil {
		return Campaign{}, err
	}
	if c.Status != StatusDraft {
		return Campaign{}, derrors.New(derrors.Conflict, "campaign %s is %s; only a draft can be activated", c.ID, c.Status)
	}
	if err := s.check(ctx, t, c); err != nil {
		return Campaign{}, err
	}
	now := s.now()
	prev := c.Revision
	v := Version{CampaignID: c.ID, Number: c.LiveVersion + 1, Type: c.Type, Channel: c.Channel, Spec: c.Draft, ActivatedAt: now}
	c.LiveVersion = v.Number
	c.Status = StatusLive
	if st := c.Draft.Schedule.Start; st != nil && st.After(now) {
		c.Status = StatusScheduled
	}
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

// check lists everything that stops the draft from being sent.
func (s *Service) check(ctx context.Context, t tenant.Tenant, c Campaign) error {
	var f derrors.Fields
	d := c.Draft
	if d.ChannelConfigID == "" {
		f.Add("channelConfigurationId", "is required to activate")
	} else {
		cfg, err := s.Store.GetConfig(ctx, t, d.ChannelConfigID)
		switch {
		case derrors.Is(err, derrors.NotFound):
			f.Add("channelConfigurationId", "no channel configuration %q", d.ChannelConfigID)
		case err != nil:
			return err
		case cfg.Channel != c.Channel:
			f.Add("channelConfigurationId", "is a %s configuration; the campaign's channel is %s", cfg.Channel, c.Channel)
		case cfg.Category != c.Type:
			f.Add("channelConfigurationId", "is a %s configuration; the campaign is %s", cfg.Category, c.Type)
		}
	}
	if c.Channel == Email {
		e := d.Content.Email
		switch {
		case e == nil:
			f.Add("content.email", "is required for an email campaign")
		default:
			if strings.TrimSpace(e.Subject) == "" {
				f.Add("content.email.subject", "is required")
			}
			if e.HTML == "" && e.Text == "" {
				f.Add("content.email.html", "html or text is required")
			}
			for _, tf := range []struct {
				field, src string
				mode       render.Mode
			}{
				{"content.email.subject", e.Subject, render.Text},
				{"content.email.preheader", e.Preheader, render.Text},
				{"content.email.html", e.HTML, render.HTML},
				{"content.email.text", e.Text, render.Text},
			} {
				if _, err := render.Parse(tf.src, tf.mode); err != nil {
					f.Add(tf.field, "%v", err)
				}
			}
		}
	}
	if err := f.Err(); err != nil {
		e := err.(*derrors.Error)
		e.Kind = derrors.Unprocessable
		e.Detail = "the campaign cannot be activated"
		return e
	}
	return nil
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

func checkEmailSettings(f *derrors.Fields, e *EmailSettings) {
	if strings.ContainsAny(e.FromName, "\r\n") || utf8.RuneCountInString(e.FromName) > MaxNameLen {
		f.Add("email.fromName", "must be at most %d characters with no line breaks", MaxNameLen)
	}
	if !address.ValidEmail(e.FromAddress) {
		f.Add("email.fromAddress", "must be an email address")
	}
	if len(e.ReplyTo) > 5 {
		f.Add("email.replyTo", "must have at most 5 addresses")
	}
	for i, r := range e.ReplyTo {
		if !address.ValidEmail(r) {
			f.Add(fmt.Sprintf("email.replyTo[%d]", i), "must be an email address")
		}
	}
	if cs := e.ConfigurationSet; cs != "" && !configSetPattern.MatchString(cs) {
		f.Add("email.configurationSet", "must be 1-64 of letters, digits, '_' and '-'")
	}
}

func checkEmailContent(f *derrors.Fields, prefix string, e *EmailContent) {
	if strings.ContainsAny(e.Subject, "\r\n") {
		f.Add(prefix+".subject", "must not contain line breaks")
	}
	if len(e.Subject) > 998 {
		f.Add(prefix+".subject", "must be at most 998 bytes")
	}
	if len(e.Preheader) > 1000 {
		f.Add(prefix+".preheader", "must be at most 1000 bytes")
	}
	if len(e.HTML) > MaxHTMLLen {
		f.Add(prefix+".html", "must be at most %d bytes", MaxHTMLLen)
	}
	if len(e.Text) > MaxTextLen {
		f.Add(prefix+".text", "must be at most %d bytes", MaxTextLen)
	}
}
