// Package campaign models campaigns, their frozen versions and the channel
// configurations they send through, and the rules for creating and
// activating them.
//
// A campaign holds an editable draft Spec. Activation validates the draft,
// freezes it as a numbered Version and makes that version live; executions
// always read a Version, never the draft, so an edit can never change a
// message that is already on its way.
package campaign

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/tenant"
)

// Type is a campaign's (and a configuration's) category.
type Type string

// Campaign types.
const (
	Transactional Type = "transactional"
	Marketing     Type = "marketing"
)

// Channel is how a campaign reaches people.
type Channel string

// Channels.
const (
	Email Channel = "email"
	SMS   Channel = "sms"
	Push  Channel = "push"
)

// Status is where a campaign is in its life.
type Status string

// Statuses. A draft is activated to scheduled (start in the future) or
// live; live and scheduled campaigns end stopped (by hand, final) or
// completed (by their end date); everything but a draft can be archived,
// and archived campaigns expire ArchiveTTL later. Failed marks a campaign
// whose activation could not be completed; it may be edited and activated
// again.
const (
	StatusDraft     Status = "draft"
	StatusScheduled Status = "scheduled"
	StatusLive      Status = "live"
	StatusStopped   Status = "stopped"
	StatusCompleted Status = "completed"
	StatusArchived  Status = "archived"
	StatusFailed    Status = "failed"
)

// EmailSettings is the technical sending setup of an email configuration.
type EmailSettings struct {
	FromName         string   `json:"fromName"`
	FromAddress      string   `json:"fromAddress"`
	ReplyTo          []string `json:"replyTo,omitempty"`
	BCC              []string `json:"bcc,omitempty"`
	ConfigurationSet string   `json:"configurationSet,omitempty"`
	// ListUnsubscribeMailto and ListUnsubscribeURL feed the List-Unsubscribe
	// headers of marketing email (RFC 2369, RFC 8058).
	ListUnsubscribeMailto string `json:"listUnsubscribeMailto,omitempty"`
	ListUnsubscribeURL    string `json:"listUnsubscribeUrl,omitempty"`
	// SendToSuppressed sends transactional email even to addresses
	// suppressed for bounces or complaints.
	SendToSuppressed bool `json:"sendToSuppressed,omitempty"`
	// TrackOpens and TrackClicks turn SES's open pixel and link rewriting
	// on or off. Absent (nil) follows the configuration's category when
	// the message is sent (see Tracking), so a stored configuration that
	// never set them follows its category.
	TrackOpens  *bool `json:"trackOpens,omitempty"`
	TrackClicks *bool `json:"trackClicks,omitempty"`
	// DefaultLocale: see ChannelConfig.DefaultLocale.
	DefaultLocale string `json:"defaultLocale,omitempty"`
}

// Tracking reports whether email sent through settings of category cat
// tracks opens and clicks: the explicit values where given, else on for
// marketing and off for transactional.
func (e EmailSettings) Tracking(cat Type) (opens, clicks bool) {
	def := cat == Marketing
	opens, clicks = def, def
	if e.TrackOpens != nil {
		opens = *e.TrackOpens
	}
	if e.TrackClicks != nil {
		clicks = *e.TrackClicks
	}
	return opens, clicks
}

// SMSSettings is the sending setup of an SMS configuration.
type SMSSettings struct {
	SenderID          string `json:"senderId,omitempty"`
	OriginationNumber string `json:"originationNumber,omitempty"`
	// SMSType overrides the SNS SMS type ("Transactional" or
	// "Promotional"); by default it follows the category.
	SMSType string `json:"smsType,omitempty"`
	// MaxSegments caps a message's length (default 10).
	MaxSegments int `json:"maxSegments,omitempty"`
	// DefaultRegion (ISO 3166-1 alpha-2, "US") is the country of the
	// numbers written without an international prefix ("4155550100",
	// AJO's "111-111-1111"); without it only numbers with '+' and a
	// country code can be sent to. Dispatch normalizes every number to
	// E.164 with it (phonelib.Normalize).
	DefaultRegion string `json:"defaultRegion,omitempty"`
	// DefaultLocale: see ChannelConfig.DefaultLocale.
	DefaultLocale string `json:"defaultLocale,omitempty"`
}

// PushApp is one mobile app a push configuration sends to.
type PushApp struct {
	AppID                  string `json:"appId"`
	Platform               string `json:"platform"`
	PlatformApplicationARN string `json:"platformApplicationArn"`
}

// Owns reports whether endpointARN is a platform endpoint of the app's
// platform application. SNS names the endpoints of the application
// arn:<partition>:sns:<region>:<account>:app/<PLATFORM>/<name> as
// arn:<partition>:sns:<region>:<account>:endpoint/<PLATFORM>/<name>/<id>;
// a topic, or an endpoint of any other application, is not the app's, and
// Dispatch never publishes to it.
func (a PushApp) Owns(endpointARN string) bool {
	if !platformAppARN().MatchString(a.PlatformApplicationARN) {
		return false
	}
	head, app, _ := strings.Cut(a.PlatformApplicationARN, ":app/")
	id, ok := strings.CutPrefix(endpointARN, head+":endpoint/"+app+"/")
	return ok && endpointID().MatchString(id)
}

// PushSettings is the sending setup of a push configuration.
type PushSettings struct {
	Apps []PushApp `json:"apps"`
	// DefaultLocale: see ChannelConfig.DefaultLocale.
	DefaultLocale string `json:"defaultLocale,omitempty"`
}

// ChannelConfig is a named sending setup for one channel and category.
type ChannelConfig struct {
	ID       string         `json:"id"`
	Name     string         `json:"name"`
	Channel  Channel        `json:"channel"`
	Category Type           `json:"category"`
	Email    *EmailSettings `json:"email,omitempty"`
	SMS      *SMSSettings   `json:"sms,omitempty"`
	Push     *PushSettings  `json:"push,omitempty"`
	// QuietHours, when set, is the daily window its campaigns hold their
	// messages back in (see QuietHours).
	QuietHours *QuietHours `json:"quietHours,omitempty"`
	Revision   int         `json:"revision"`
	CreatedAt  time.Time   `json:"createdAt"`
	UpdatedAt  time.Time   `json:"updatedAt"`
}

// DefaultLocale is the BCP 47 tag whose content variant goes to the
// recipients whose call and profile name no locale ("" : the default
// content). It is a setting of the configuration's channel block
// (email.defaultLocale…), as sms.defaultRegion is.
func (c ChannelConfig) DefaultLocale() string {
	switch {
	case c.Email != nil:
		return c.Email.DefaultLocale
	case c.SMS != nil:
		return c.SMS.DefaultLocale
	case c.Push != nil:
		return c.Push.DefaultLocale
	}
	return ""
}

// EmailContent is what an email campaign renders; every field is a template.
type EmailContent struct {
	Subject   string `json:"subject"`
	Preheader string `json:"preheader,omitempty"`
	HTML      string `json:"html,omitempty"`
	Text      string `json:"text,omitempty"`
}

// SMSContent is what an SMS campaign renders.
type SMSContent struct {
	Body string `json:"body"`
}

// PushContent is what a push campaign renders; Title, Body, ImageURL,
// DeepLink and Data values are templates.
type PushContent struct {
	Title    string            `json:"title,omitempty"`
	Body     string            `json:"body,omitempty"`
	ImageURL string            `json:"imageUrl,omitempty"`
	DeepLink string            `json:"deepLink,omitempty"`
	Sound    string            `json:"sound,omitempty"`
	Badge    *int              `json:"badge,omitempty"`
	Data     map[string]string `json:"data,omitempty"`
	Silent   bool              `json:"silent,omitempty"`
}

// Content is a campaign's message content, one field per channel: the
// default content, and optionally Variants of it per locale (AJO's
// multilingual content). A recipient gets the variant of their locale
// (see MatchLocale), else the default.
type Content struct {
	Email *EmailContent `json:"email,omitempty"`
	SMS   *SMSContent   `json:"sms,omitempty"`
	Push  *PushContent  `json:"push,omitempty"`
	// Variants maps a BCP 47 tag ("fr-CA", "fr") to the content of that
	// locale. Tags are unique regardless of case; content without
	// variants (every campaign stored before they existed) has none.
	Variants map[string]Variant `json:"variants,omitempty"`
	// Experiment, when set, splits the recipients among treatments of
	// the content (see Experiment); without it everyone gets the default
	// content (or its locale variant).
	Experiment *Experiment `json:"experiment,omitempty"`
}

// Variant is the content of one locale: the same channel block as the
// default content, every field of it its own (nothing is inherited from
// the default).
type Variant struct {
	Email *EmailContent `json:"email,omitempty"`
	SMS   *SMSContent   `json:"sms,omitempty"`
	Push  *PushContent  `json:"push,omitempty"`
}

// Content returns the variant as content without variants, to be
// parsed, reviewed and rendered as the default content is.
func (v Variant) Content() Content { return Content{Email: v.Email, SMS: v.SMS, Push: v.Push} }

// DefaultVariant is the name of the default content where a variant is
// recorded (the ledger, previews).
const DefaultVariant = "default"

// MaxVariants bounds the locales of one campaign's content.
const MaxVariants = 30

// Locales returns the tags of the content's variants, sorted.
func (c Content) Locales() []string { return slices.Sorted(maps.Keys(c.Variants)) }

// MatchLocale returns the variant tag of tags (as written there) that
// serves locale: the tag equal to it regardless of case, else the same
// test with its last subtag dropped, again and again ("fr-CA" → "fr"). It
// returns "" when none does (the default content serves) or locale is
// empty. An underscore separates subtags as a hyphen does ("fr_CA").
func MatchLocale(tags []string, locale string) string {
	l := strings.TrimSpace(strings.ReplaceAll(locale, "_", "-"))
	for l != "" {
		for _, t := range tags {
			if strings.EqualFold(t, l) {
				return t
			}
		}
		i := strings.LastIndexByte(l, '-')
		if i < 0 {
			break
		}
		l = l[:i]
	}
	return ""
}

// Audience says who a campaign addresses.
type Audience struct {
	// Namespace is the identity namespace of recipients' userIds
	// (e.g. "email", "phone", "crmId").
	Namespace string `json:"namespace"`
	// CreateProfiles lets a transactional trigger create an unknown
	// "aep" recipient's profile instead of rejecting the call.
	CreateProfiles bool `json:"createProfiles,omitempty"`
	// AudienceID is a marketing campaign's audience.
	AudienceID string `json:"audienceId,omitempty"`
}

// Schedule bounds when a campaign may be triggered.
type Schedule struct {
	Start *time.Time `json:"start,omitempty"`
	End   *time.Time `json:"end,omitempty"`
	// DeliveryRate caps marketing sends at 1-2000 messages per second
	// (0: no cap).
	DeliveryRate int `json:"deliveryRate,omitempty"`
}

// Spec is the editable part of a campaign, frozen into a Version on
// activation.
type Spec struct {
	ChannelConfigID string   `json:"channelConfigurationId,omitempty"`
	Content         Content  `json:"content"`
	Audience        Audience `json:"audience"`
	Schedule        Schedule `json:"schedule"`
	// ContextSchema is an optional JSON Schema the trigger's context must
	// satisfy; review checks the content's context variables against it.
	ContextSchema json.RawMessage `json:"contextSchema,omitempty"`
	// FrequencyCapExempt exempts a marketing campaign from the tenant's
	// frequency caps (a priority message): its sends are neither capped
	// nor counted. Transactional campaigns never are.
	FrequencyCapExempt bool `json:"frequencyCapExempt,omitempty"`
}

// Campaign is a campaign's current state.
type Campaign struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	Type        Type     `json:"type"`
	Channel     Channel  `json:"channel"`
	// HighThroughput campaigns are triggered by POST
	// /im/executions/highthroughput only: external recipients, every
	// personalization in the call's context, no profile read or created.
	// Set at creation, transactional email and push only.
	HighThroughput bool   `json:"highThroughput,omitempty"`
	Status         Status `json:"status"`
	Draft          Spec   `json:"draft"`
	LiveVersion    int    `json:"liveVersion,omitempty"`
	// DraftPending reports that Draft holds edits not yet activated. It is
	// always true for a draft campaign; for a live or scheduled one it is
	// set by an edit and cleared by the activation that freezes it.
	DraftPending bool `json:"draftPending,omitempty"`
	// Revision is bumped by every change; it is the campaign's ETag.
	Revision  int       `json:"revision"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	// StoppedAt and ArchivedAt record those transitions; ExpiresAt (the
	// table's TTL) is ArchivedAt + ArchiveTTL.
	StoppedAt  *time.Time `json:"stoppedAt,omitempty"`
	ArchivedAt *time.Time `json:"archivedAt,omitempty"`
	ExpiresAt  *time.Time `json:"expiresAt,omitempty"`
}

// Version is an activated, immutable snapshot of a campaign.
type Version struct {
	CampaignID string  `json:"campaignId"`
	Number     int     `json:"number"`
	Type       Type    `json:"type"`
	Channel    Channel `json:"channel"`
	// HighThroughput is the campaign's (see Campaign.HighThroughput).
	HighThroughput bool      `json:"highThroughput,omitempty"`
	Spec           Spec      `json:"spec"`
	ActivatedAt    time.Time `json:"activatedAt"`
}

// ArchiveTTL is how long an archived campaign (and its versions) is kept.
const ArchiveTTL = 30 * 24 * time.Hour

// ListFilter selects campaigns or configurations for a list; zero fields
// match everything. Lists are newest first.
type ListFilter struct {
	Status     Status
	Type       Type
	Channel    Channel
	Tag        string
	NamePrefix string // case-insensitive
	// Limit is the page size (1-100); Cursor continues a previous page.
	Limit  int
	Cursor string
}

// Page is one page of a list; Next is empty on the last page.
type Page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

// Summary is a campaign as lists show it (no content).
type Summary struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Tags         []string  `json:"tags,omitempty"`
	Type         Type      `json:"type"`
	Channel      Channel   `json:"channel"`
	Status       Status    `json:"status"`
	LiveVersion  int       `json:"liveVersion,omitempty"`
	DraftPending bool      `json:"draftPending,omitempty"`
	Revision     int       `json:"revision"`
	CreatedAt    time.Time `json:"createdAt"`
	UpdatedAt    time.Time `json:"updatedAt"`
}

// Summarize returns c's list entry.
func (c Campaign) Summarize() Summary {
	return Summary{ID: c.ID, Name: c.Name, Tags: c.Tags, Type: c.Type, Channel: c.Channel, Status: c.Status,
		LiveVersion: c.LiveVersion, DraftPending: c.DraftPending, Revision: c.Revision, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

// VersionSummary is a version as the versions list shows it (no content).
type VersionSummary struct {
	Number          int       `json:"number"`
	ChannelConfigID string    `json:"channelConfigurationId"`
	Audience        Audience  `json:"audience"`
	Schedule        Schedule  `json:"schedule"`
	ActivatedAt     time.Time `json:"activatedAt"`
	Live            bool      `json:"live"`
}

// Summarize returns v's list entry.
func (v Version) Summarize() VersionSummary {
	return VersionSummary{Number: v.Number, ChannelConfigID: v.Spec.ChannelConfigID, Audience: v.Spec.Audience,
		Schedule: v.Spec.Schedule, ActivatedAt: v.ActivatedAt}
}

// Store persists campaigns, versions and configurations, per tenant.
// Reads of another tenant's ids return derrors.NotFound.
type Store interface {
	// CreateConfig stores a new configuration; derrors.Conflict if the id exists.
	CreateConfig(ctx context.Context, t tenant.Tenant, c ChannelConfig) error
	// GetConfig returns a configuration or derrors.NotFound.
	GetConfig(ctx context.Context, t tenant.Tenant, id string) (ChannelConfig, error)
	// CreateCampaign stores a new campaign; derrors.Conflict if the id exists.
	CreateCampaign(ctx context.Context, t tenant.Tenant, c Campaign) error
	// GetCampaign returns a campaign or derrors.NotFound.
	GetCampaign(ctx context.Context, t tenant.Tenant, id string) (Campaign, error)
	// Activate writes v and replaces the campaign with c in one
	// transaction, provided the stored campaign's revision is still
	// prevRevision; otherwise it returns derrors.Precondition.
	Activate(ctx context.Context, t tenant.Tenant, c Campaign, v Version, prevRevision int) error
	// GetVersion returns an activated version or derrors.NotFound.
	GetVersion(ctx context.Context, t tenant.Tenant, campaignID string, number int) (Version, error)
	// UpdateCampaign replaces the campaign with c provided the stored
	// revision is still prevRevision; derrors.Precondition otherwise,
	// derrors.NotFound if it does not exist.
	UpdateCampaign(ctx context.Context, t tenant.Tenant, c Campaign, prevRevision int) error

	// ListCampaigns returns a page of the tenant's campaigns matching f,
	// newest first; derrors.Invalid for a cursor it did not issue.
	ListCampaigns(ctx context.Context, t tenant.Tenant, f ListFilter) (Page[Summary], error)
	// DeleteCampaign deletes a draft campaign whose revision is still
	// prevRevision: derrors.Precondition if it changed, derrors.Conflict
	// if it is no longer a draft, derrors.NotFound if it does not exist.
	DeleteCampaign(ctx context.Context, t tenant.Tenant, id string, prevRevision int) error
	// ListVersions returns a page of a campaign's versions, newest first.
	ListVersions(ctx context.Context, t tenant.Tenant, campaignID string, limit int, cursor string) (Page[VersionSummary], error)
	// ExpireVersions sets the expiry (TTL) of every version of a campaign.
	ExpireVersions(ctx context.Context, t tenant.Tenant, campaignID string, at time.Time) error

	// ListConfigs returns a page of configurations (Channel and Type,
	// as category, filter them), newest first.
	ListConfigs(ctx context.Context, t tenant.Tenant, f ListFilter) (Page[ChannelConfig], error)
	// UpdateConfig replaces a configuration provided its revision is still
	// prevRevision (derrors.Precondition otherwise, derrors.NotFound if it
	// does not exist).
	UpdateConfig(ctx context.Context, t tenant.Tenant, c ChannelConfig, prevRevision int) error
	// DeleteConfig deletes a configuration provided its revision is still
	// prevRevision and inUse, asked with the ids of every campaign that
	// was activated with it, reports none as still using it; the store
	// guarantees no activation with it slips in between (derrors.Conflict
	// naming the campaign otherwise). Activate records the use.
	DeleteConfig(ctx context.Context, t tenant.Tenant, id string, prevRevision int, inUse func(campaignIDs []string) (string, error)) error
}

// Hooks let the schedule machinery follow a campaign's life: activation
// with a start or end date creates schedules, stopping or archiving
// deletes them. A Service without Hooks schedules nothing.
type Hooks interface {
	// Activated runs after version v of c became live or scheduled.
	Activated(ctx context.Context, t tenant.Tenant, c Campaign, v Version) error
	// Ended runs after c was stopped, archived or completed.
	Ended(ctx context.Context, t tenant.Tenant, c Campaign) error
}
