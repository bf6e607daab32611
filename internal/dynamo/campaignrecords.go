package dynamo

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/tenant"
)

// Storage records of channel configurations, campaigns and versions.
//
// The tags of these types are the stored format: DynamoDB attribute names
// (dynamodbav) and the keys of the gzipped JSON documents (json). They
// were the JSON tags of the campaign package's API types, which were
// stored as they are; the records keep those names so existing tables
// read unchanged (testdata holds items as they were written), and the
// to…/from… functions below are the only bridge, so a change to an API
// type changes what the API shows, never what is stored. A field added to
// a domain type must be added here too, or listed as not stored:
// records_test.go fails until it is.

// --- channel configurations: attributes beside the key ---

// configRecord is a channel configuration item: its settings as
// attributes, the key and list attributes, and the usage record
// activations keep (usedBy, useSeq), which configuration writes never set.
type configRecord struct {
	PK        string               `dynamodbav:"pk"`
	SK        string               `dynamodbav:"sk"`
	G1PK      string               `dynamodbav:"gsi1pk"`
	G1SK      string               `dynamodbav:"gsi1sk"`
	NameKey   string               `dynamodbav:"nameKey"`
	ID        string               `dynamodbav:"id"`
	Name      string               `dynamodbav:"name"`
	Channel   string               `dynamodbav:"channel"`
	Category  string               `dynamodbav:"category"`
	Email     *emailSettingsRecord `dynamodbav:"email,omitempty"`
	SMS       *smsSettingsRecord   `dynamodbav:"sms,omitempty"`
	Push      *pushSettingsRecord  `dynamodbav:"push,omitempty"`
	Quiet     *quietHoursRecord    `dynamodbav:"quietHours,omitempty"`
	Revision  int                  `dynamodbav:"revision"`
	CreatedAt time.Time            `dynamodbav:"createdAt"`
	UpdatedAt time.Time            `dynamodbav:"updatedAt"`
	UsedBy    []string             `dynamodbav:"usedBy,stringset,omitempty"`
	UseSeq    int                  `dynamodbav:"useSeq,omitempty"`
}

type emailSettingsRecord struct {
	FromName              string   `dynamodbav:"fromName"`
	FromAddress           string   `dynamodbav:"fromAddress"`
	ReplyTo               []string `dynamodbav:"replyTo,omitempty"`
	BCC                   []string `dynamodbav:"bcc,omitempty"`
	ConfigurationSet      string   `dynamodbav:"configurationSet,omitempty"`
	ListUnsubscribeMailto string   `dynamodbav:"listUnsubscribeMailto,omitempty"`
	ListUnsubscribeURL    string   `dynamodbav:"listUnsubscribeUrl,omitempty"`
	SendToSuppressed      bool     `dynamodbav:"sendToSuppressed,omitempty"`
	// TrackOpens and TrackClicks are absent when the configuration
	// follows its category's default.
	TrackOpens    *bool  `dynamodbav:"trackOpens,omitempty"`
	TrackClicks   *bool  `dynamodbav:"trackClicks,omitempty"`
	DefaultLocale string `dynamodbav:"defaultLocale,omitempty"`
}

type smsSettingsRecord struct {
	SenderID          string `dynamodbav:"senderId,omitempty"`
	OriginationNumber string `dynamodbav:"originationNumber,omitempty"`
	SMSType           string `dynamodbav:"smsType,omitempty"`
	MaxSegments       int    `dynamodbav:"maxSegments,omitempty"`
	DefaultRegion     string `dynamodbav:"defaultRegion,omitempty"`
	DefaultLocale     string `dynamodbav:"defaultLocale,omitempty"`
}

type pushSettingsRecord struct {
	Apps          []pushAppRecord `dynamodbav:"apps"`
	DefaultLocale string          `dynamodbav:"defaultLocale,omitempty"`
}

type quietHoursRecord struct {
	Start         string `dynamodbav:"start"`
	End           string `dynamodbav:"end"`
	TimeZone      string `dynamodbav:"timeZone,omitempty"`
	Action        string `dynamodbav:"action,omitempty"`
	Transactional bool   `dynamodbav:"transactional,omitempty"`
}

type pushAppRecord struct {
	AppID                  string `dynamodbav:"appId"`
	Platform               string `dynamodbav:"platform"`
	PlatformApplicationARN string `dynamodbav:"platformApplicationArn"`
}

func toConfigRecord(t tenant.Tenant, c campaign.ChannelConfig) configRecord {
	r := configRecord{PK: tenantPK(t, skConfig, c.ID), SK: skConfig, G1PK: listPK(t, "CHCFGS"), G1SK: listSK(c.CreatedAt, c.ID),
		NameKey: strings.ToLower(c.Name), ID: c.ID, Name: c.Name, Channel: string(c.Channel), Category: string(c.Category),
		Revision: c.Revision, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	if e := c.Email; e != nil {
		r.Email = &emailSettingsRecord{FromName: e.FromName, FromAddress: e.FromAddress, ReplyTo: e.ReplyTo, BCC: e.BCC,
			ConfigurationSet: e.ConfigurationSet, ListUnsubscribeMailto: e.ListUnsubscribeMailto,
			ListUnsubscribeURL: e.ListUnsubscribeURL, SendToSuppressed: e.SendToSuppressed,
			TrackOpens: e.TrackOpens, TrackClicks: e.TrackClicks, DefaultLocale: e.DefaultLocale}
	}
	if s := c.SMS; s != nil {
		r.SMS = &smsSettingsRecord{SenderID: s.SenderID, OriginationNumber: s.OriginationNumber, SMSType: s.SMSType, MaxSegments: s.MaxSegments,
			DefaultRegion: s.DefaultRegion, DefaultLocale: s.DefaultLocale}
	}
	if p := c.Push; p != nil {
		r.Push = &pushSettingsRecord{Apps: mapSlice(p.Apps, func(a campaign.PushApp) pushAppRecord {
			return pushAppRecord{AppID: a.AppID, Platform: a.Platform, PlatformApplicationARN: a.PlatformApplicationARN}
		}), DefaultLocale: p.DefaultLocale}
	}
	if q := c.QuietHours; q != nil {
		r.Quiet = &quietHoursRecord{Start: q.Start, End: q.End, TimeZone: q.TimeZone, Action: q.Action, Transactional: q.Transactional}
	}
	return r
}

func fromConfigRecord(r configRecord) campaign.ChannelConfig {
	c := campaign.ChannelConfig{ID: r.ID, Name: r.Name, Channel: campaign.Channel(r.Channel), Category: campaign.Type(r.Category),
		Revision: r.Revision, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if e := r.Email; e != nil {
		c.Email = &campaign.EmailSettings{FromName: e.FromName, FromAddress: e.FromAddress, ReplyTo: e.ReplyTo, BCC: e.BCC,
			ConfigurationSet: e.ConfigurationSet, ListUnsubscribeMailto: e.ListUnsubscribeMailto,
			ListUnsubscribeURL: e.ListUnsubscribeURL, SendToSuppressed: e.SendToSuppressed,
			TrackOpens: e.TrackOpens, TrackClicks: e.TrackClicks, DefaultLocale: e.DefaultLocale}
	}
	if s := r.SMS; s != nil {
		c.SMS = &campaign.SMSSettings{SenderID: s.SenderID, OriginationNumber: s.OriginationNumber, SMSType: s.SMSType, MaxSegments: s.MaxSegments,
			DefaultRegion: s.DefaultRegion, DefaultLocale: s.DefaultLocale}
	}
	if p := r.Push; p != nil {
		c.Push = &campaign.PushSettings{Apps: mapSlice(p.Apps, func(a pushAppRecord) campaign.PushApp {
			return campaign.PushApp{AppID: a.AppID, Platform: a.Platform, PlatformApplicationARN: a.PlatformApplicationARN}
		}), DefaultLocale: p.DefaultLocale}
	}
	if q := r.Quiet; q != nil {
		c.QuietHours = &campaign.QuietHours{Start: q.Start, End: q.End, TimeZone: q.TimeZone, Action: q.Action, Transactional: q.Transactional}
	}
	return c
}

func decodeConfig(item map[string]types.AttributeValue) (campaign.ChannelConfig, error) {
	var r configRecord
	if err := attributevalue.UnmarshalMap(item, &r); err != nil {
		return campaign.ChannelConfig{}, fmt.Errorf("decode channel configuration: %w", err)
	}
	return fromConfigRecord(r), nil
}

// --- campaigns: list attributes beside a gzipped JSON document ---

// campaignRecord is a campaign item: the attributes lists, filters and
// conditions need, and the whole campaign as a gzipped campaignDoc.
type campaignRecord struct {
	PK           string   `dynamodbav:"pk"`
	SK           string   `dynamodbav:"sk"`
	G1PK         string   `dynamodbav:"gsi1pk"`
	G1SK         string   `dynamodbav:"gsi1sk"`
	ID           string   `dynamodbav:"id"`
	Name         string   `dynamodbav:"name"`
	NameKey      string   `dynamodbav:"nameKey"`
	Tags         []string `dynamodbav:"tags,omitempty"`
	Type         string   `dynamodbav:"type"`
	Channel      string   `dynamodbav:"channel"`
	Status       string   `dynamodbav:"status"`
	LiveVersion  int      `dynamodbav:"liveVersion"`
	DraftPending bool     `dynamodbav:"draftPending"`
	Revision     int      `dynamodbav:"revision"`
	CreatedAt    string   `dynamodbav:"createdAt"`
	UpdatedAt    string   `dynamodbav:"updatedAt"`
	ExpiresAt    int64    `dynamodbav:"expiresAt,omitempty"`
	Doc          []byte   `dynamodbav:"doc,omitempty"`
}

// campaignDoc is the document of a campaign item (gzipped JSON).
type campaignDoc struct {
	ID             string     `json:"id"`
	Name           string     `json:"name"`
	Description    string     `json:"description,omitempty"`
	Tags           []string   `json:"tags,omitempty"`
	Type           string     `json:"type"`
	Channel        string     `json:"channel"`
	HighThroughput bool       `json:"highThroughput,omitempty"`
	Status         string     `json:"status"`
	Draft          specDoc    `json:"draft"`
	LiveVersion    int        `json:"liveVersion,omitempty"`
	DraftPending   bool       `json:"draftPending,omitempty"`
	Revision       int        `json:"revision"`
	CreatedAt      time.Time  `json:"createdAt"`
	UpdatedAt      time.Time  `json:"updatedAt"`
	StoppedAt      *time.Time `json:"stoppedAt,omitempty"`
	ArchivedAt     *time.Time `json:"archivedAt,omitempty"`
	ExpiresAt      *time.Time `json:"expiresAt,omitempty"`
}

// specDoc is a campaign's draft or a version's spec, in their documents.
type specDoc struct {
	ChannelConfigID string          `json:"channelConfigurationId,omitempty"`
	Content         contentDoc      `json:"content"`
	Audience        audienceRecord  `json:"audience"`
	Schedule        scheduleRecord  `json:"schedule"`
	ContextSchema   json.RawMessage `json:"contextSchema,omitempty"`
	// FrequencyCapExempt is absent (false) in documents stored before it.
	FrequencyCapExempt bool `json:"frequencyCapExempt,omitempty"`
}

type contentDoc struct {
	Email *emailContentDoc `json:"email,omitempty"`
	SMS   *smsContentDoc   `json:"sms,omitempty"`
	Push  *pushContentDoc  `json:"push,omitempty"`
	// Variants are the content per locale; documents stored before they
	// existed have none.
	Variants map[string]contentDoc `json:"variants,omitempty"`
	// Experiment is the content's experiment (the default content's
	// only); documents stored before experiments have none.
	Experiment *experimentDoc `json:"experiment,omitempty"`
}

type experimentDoc struct {
	Treatments []treatmentDoc `json:"treatments"`
}

// treatmentDoc is a treatment: its name and share beside its content
// (no channel block and no variants for the control).
type treatmentDoc struct {
	Name     string                `json:"name"`
	Percent  float64               `json:"percent"`
	Email    *emailContentDoc      `json:"email,omitempty"`
	SMS      *smsContentDoc        `json:"sms,omitempty"`
	Push     *pushContentDoc       `json:"push,omitempty"`
	Variants map[string]contentDoc `json:"variants,omitempty"`
}

type emailContentDoc struct {
	Subject   string `json:"subject"`
	Preheader string `json:"preheader,omitempty"`
	HTML      string `json:"html,omitempty"`
	Text      string `json:"text,omitempty"`
}

type smsContentDoc struct {
	Body string `json:"body"`
}

type pushContentDoc struct {
	Title    string            `json:"title,omitempty"`
	Body     string            `json:"body,omitempty"`
	ImageURL string            `json:"imageUrl,omitempty"`
	DeepLink string            `json:"deepLink,omitempty"`
	Sound    string            `json:"sound,omitempty"`
	Badge    *int              `json:"badge,omitempty"`
	Data     map[string]string `json:"data,omitempty"`
	Silent   bool              `json:"silent,omitempty"`
}

// audienceRecord is an audience in a spec's document and in a version's
// summary attribute, under the same names in both.
type audienceRecord struct {
	Namespace      string `json:"namespace" dynamodbav:"namespace"`
	CreateProfiles bool   `json:"createProfiles,omitempty" dynamodbav:"createProfiles,omitempty"`
	AudienceID     string `json:"audienceId,omitempty" dynamodbav:"audienceId,omitempty"`
}

// scheduleRecord is a schedule in a spec's document and in a version's
// summary attribute, under the same names in both.
type scheduleRecord struct {
	Start        *time.Time `json:"start,omitempty" dynamodbav:"start,omitempty"`
	End          *time.Time `json:"end,omitempty" dynamodbav:"end,omitempty"`
	DeliveryRate int        `json:"deliveryRate,omitempty" dynamodbav:"deliveryRate,omitempty"`
}

func toCampaignRecord(t tenant.Tenant, c campaign.Campaign) (campaignRecord, error) {
	doc, err := packDoc(toCampaignDoc(c), "campaign "+c.ID)
	if err != nil {
		return campaignRecord{}, err
	}
	r := campaignRecord{PK: tenantPK(t, skCampaign, c.ID), SK: skCampaign, G1PK: listPK(t, "CAMPS"), G1SK: listSK(c.CreatedAt, c.ID),
		ID: c.ID, Name: c.Name, NameKey: strings.ToLower(c.Name), Tags: c.Tags, Type: string(c.Type), Channel: string(c.Channel),
		Status: string(c.Status), LiveVersion: c.LiveVersion, DraftPending: c.DraftPending, Revision: c.Revision,
		CreatedAt: c.CreatedAt.UTC().Format(time.RFC3339Nano), UpdatedAt: c.UpdatedAt.UTC().Format(time.RFC3339Nano), Doc: doc}
	if c.ExpiresAt != nil {
		r.ExpiresAt = c.ExpiresAt.Unix()
	}
	return r, nil
}

// fromCampaignRecord reads the campaign from the record's document; the
// attributes beside it are copies for lists and conditions.
func fromCampaignRecord(r campaignRecord) (campaign.Campaign, error) {
	var d campaignDoc
	if err := unpackDoc(r.Doc, &d, "campaign"); err != nil {
		return campaign.Campaign{}, err
	}
	return fromCampaignDoc(d), nil
}

// summaryFromRecord is a campaign's list entry, from the attributes the
// list index projects (never the document).
func summaryFromRecord(r campaignRecord) campaign.Summary {
	created, _ := time.Parse(time.RFC3339Nano, r.CreatedAt)
	updated, _ := time.Parse(time.RFC3339Nano, r.UpdatedAt)
	return campaign.Summary{ID: r.ID, Name: r.Name, Tags: r.Tags, Type: campaign.Type(r.Type), Channel: campaign.Channel(r.Channel),
		Status: campaign.Status(r.Status), LiveVersion: r.LiveVersion, DraftPending: r.DraftPending, Revision: r.Revision,
		CreatedAt: created, UpdatedAt: updated}
}

func toCampaignDoc(c campaign.Campaign) campaignDoc {
	return campaignDoc{ID: c.ID, Name: c.Name, Description: c.Description, Tags: c.Tags, Type: string(c.Type), Channel: string(c.Channel),
		HighThroughput: c.HighThroughput, Status: string(c.Status), Draft: toSpecDoc(c.Draft), LiveVersion: c.LiveVersion, DraftPending: c.DraftPending, Revision: c.Revision,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, StoppedAt: c.StoppedAt, ArchivedAt: c.ArchivedAt, ExpiresAt: c.ExpiresAt}
}

func fromCampaignDoc(d campaignDoc) campaign.Campaign {
	return campaign.Campaign{ID: d.ID, Name: d.Name, Description: d.Description, Tags: d.Tags, Type: campaign.Type(d.Type),
		Channel: campaign.Channel(d.Channel), HighThroughput: d.HighThroughput, Status: campaign.Status(d.Status), Draft: fromSpecDoc(d.Draft), LiveVersion: d.LiveVersion,
		DraftPending: d.DraftPending, Revision: d.Revision, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
		StoppedAt: d.StoppedAt, ArchivedAt: d.ArchivedAt, ExpiresAt: d.ExpiresAt}
}

func toSpecDoc(s campaign.Spec) specDoc {
	d := specDoc{ChannelConfigID: s.ChannelConfigID, Audience: toAudienceRecord(s.Audience), Schedule: toScheduleRecord(s.Schedule),
		ContextSchema: s.ContextSchema, FrequencyCapExempt: s.FrequencyCapExempt}
	d.Content = toVariantsDoc(s.Content)
	if x := s.Content.Experiment; x != nil {
		d.Content.Experiment = &experimentDoc{Treatments: mapSlice(x.Treatments, func(t campaign.Treatment) treatmentDoc {
			c := toVariantsDoc(t.Content(campaign.Content{}))
			return treatmentDoc{Name: t.Name, Percent: t.Percent, Email: c.Email, SMS: c.SMS, Push: c.Push, Variants: c.Variants}
		})}
	}
	return d
}

// toVariantsDoc is the channel blocks of c and its variants (not its
// experiment).
func toVariantsDoc(c campaign.Content) contentDoc {
	d := toContentDoc(c)
	for tag, v := range c.Variants {
		if d.Variants == nil {
			d.Variants = make(map[string]contentDoc, len(c.Variants))
		}
		d.Variants[tag] = toContentDoc(v.Content())
	}
	return d
}

// fromVariantsDoc is the channel blocks of d and its variants.
func fromVariantsDoc(d contentDoc) campaign.Content {
	c := fromContentDoc(d)
	for tag, v := range d.Variants {
		if c.Variants == nil {
			c.Variants = make(map[string]campaign.Variant, len(d.Variants))
		}
		vc := fromContentDoc(v)
		c.Variants[tag] = campaign.Variant{Email: vc.Email, SMS: vc.SMS, Push: vc.Push}
	}
	return c
}

// toContentDoc is the channel blocks of c (not its variants).
func toContentDoc(c campaign.Content) contentDoc {
	var d contentDoc
	if e := c.Email; e != nil {
		d.Email = &emailContentDoc{Subject: e.Subject, Preheader: e.Preheader, HTML: e.HTML, Text: e.Text}
	}
	if m := c.SMS; m != nil {
		d.SMS = &smsContentDoc{Body: m.Body}
	}
	if p := c.Push; p != nil {
		d.Push = &pushContentDoc{Title: p.Title, Body: p.Body, ImageURL: p.ImageURL, DeepLink: p.DeepLink, Sound: p.Sound,
			Badge: p.Badge, Data: p.Data, Silent: p.Silent}
	}
	return d
}

// fromContentDoc is the channel blocks of d (not its variants).
func fromContentDoc(d contentDoc) campaign.Content {
	var c campaign.Content
	if e := d.Email; e != nil {
		c.Email = &campaign.EmailContent{Subject: e.Subject, Preheader: e.Preheader, HTML: e.HTML, Text: e.Text}
	}
	if m := d.SMS; m != nil {
		c.SMS = &campaign.SMSContent{Body: m.Body}
	}
	if p := d.Push; p != nil {
		c.Push = &campaign.PushContent{Title: p.Title, Body: p.Body, ImageURL: p.ImageURL, DeepLink: p.DeepLink, Sound: p.Sound,
			Badge: p.Badge, Data: p.Data, Silent: p.Silent}
	}
	return c
}

func fromSpecDoc(d specDoc) campaign.Spec {
	s := campaign.Spec{ChannelConfigID: d.ChannelConfigID, Audience: fromAudienceRecord(d.Audience), Schedule: fromScheduleRecord(d.Schedule),
		ContextSchema: d.ContextSchema, FrequencyCapExempt: d.FrequencyCapExempt}
	s.Content = fromVariantsDoc(d.Content)
	if x := d.Content.Experiment; x != nil {
		s.Content.Experiment = &campaign.Experiment{Treatments: mapSlice(x.Treatments, func(t treatmentDoc) campaign.Treatment {
			c := fromVariantsDoc(contentDoc{Email: t.Email, SMS: t.SMS, Push: t.Push, Variants: t.Variants})
			return campaign.Treatment{Name: t.Name, Percent: t.Percent, Email: c.Email, SMS: c.SMS, Push: c.Push, Variants: c.Variants}
		})}
	}
	return s
}

func toAudienceRecord(a campaign.Audience) audienceRecord {
	return audienceRecord{Namespace: a.Namespace, CreateProfiles: a.CreateProfiles, AudienceID: a.AudienceID}
}

func fromAudienceRecord(r audienceRecord) campaign.Audience {
	return campaign.Audience{Namespace: r.Namespace, CreateProfiles: r.CreateProfiles, AudienceID: r.AudienceID}
}

func toScheduleRecord(s campaign.Schedule) scheduleRecord {
	return scheduleRecord{Start: s.Start, End: s.End, DeliveryRate: s.DeliveryRate}
}

func fromScheduleRecord(r scheduleRecord) campaign.Schedule {
	return campaign.Schedule{Start: r.Start, End: r.End, DeliveryRate: r.DeliveryRate}
}

// --- versions: a summary attribute beside a gzipped JSON document ---

// versionRecord is a version item: its list summary, the TTL an archive
// sets, and the whole version as a gzipped versionDoc.
type versionRecord struct {
	PK        string               `dynamodbav:"pk"`
	SK        string               `dynamodbav:"sk"`
	Number    int                  `dynamodbav:"number"`
	Summary   versionSummaryRecord `dynamodbav:"summary"`
	ExpiresAt int64                `dynamodbav:"expiresAt,omitempty"`
	Doc       []byte               `dynamodbav:"doc"`
}

// versionSummaryRecord is the summary attribute ListVersions projects.
// Live is stored (always false): whether a version is live is the
// campaign's to say, when the list is read.
type versionSummaryRecord struct {
	Number          int            `dynamodbav:"number"`
	ChannelConfigID string         `dynamodbav:"channelConfigurationId"`
	Audience        audienceRecord `dynamodbav:"audience"`
	Schedule        scheduleRecord `dynamodbav:"schedule"`
	ActivatedAt     time.Time      `dynamodbav:"activatedAt"`
	Live            bool           `dynamodbav:"live"`
}

// versionDoc is the document of a version item (gzipped JSON).
type versionDoc struct {
	CampaignID string `json:"campaignId"`
	Number     int    `json:"number"`
	Type       string `json:"type"`
	Channel    string `json:"channel"`
	// HighThroughput is left out when false, as before it existed.
	HighThroughput bool      `json:"highThroughput,omitempty"`
	Spec           specDoc   `json:"spec"`
	ActivatedAt    time.Time `json:"activatedAt"`
}

// toVersionRecord is the record of version v of campaign campaignID.
func toVersionRecord(t tenant.Tenant, campaignID string, v campaign.Version) (versionRecord, error) {
	doc, err := packDoc(toVersionDoc(v), fmt.Sprintf("campaign %s version %d", campaignID, v.Number))
	if err != nil {
		return versionRecord{}, err
	}
	return versionRecord{PK: tenantPK(t, skCampaign, campaignID), SK: versionSK(v.Number), Number: v.Number,
		Summary: toVersionSummaryRecord(v.Summarize()), Doc: doc}, nil
}

// fromVersionRecord reads the version from the record's document.
func fromVersionRecord(r versionRecord) (campaign.Version, error) {
	var d versionDoc
	if err := unpackDoc(r.Doc, &d, "version"); err != nil {
		return campaign.Version{}, err
	}
	return fromVersionDoc(d), nil
}

func toVersionDoc(v campaign.Version) versionDoc {
	return versionDoc{CampaignID: v.CampaignID, Number: v.Number, Type: string(v.Type), Channel: string(v.Channel),
		HighThroughput: v.HighThroughput, Spec: toSpecDoc(v.Spec), ActivatedAt: v.ActivatedAt}
}

func fromVersionDoc(d versionDoc) campaign.Version {
	return campaign.Version{CampaignID: d.CampaignID, Number: d.Number, Type: campaign.Type(d.Type), Channel: campaign.Channel(d.Channel),
		HighThroughput: d.HighThroughput, Spec: fromSpecDoc(d.Spec), ActivatedAt: d.ActivatedAt}
}

func toVersionSummaryRecord(s campaign.VersionSummary) versionSummaryRecord {
	return versionSummaryRecord{Number: s.Number, ChannelConfigID: s.ChannelConfigID, Audience: toAudienceRecord(s.Audience),
		Schedule: toScheduleRecord(s.Schedule), ActivatedAt: s.ActivatedAt, Live: s.Live}
}

func fromVersionSummaryRecord(r versionSummaryRecord) campaign.VersionSummary {
	return campaign.VersionSummary{Number: r.Number, ChannelConfigID: r.ChannelConfigID, Audience: fromAudienceRecord(r.Audience),
		Schedule: fromScheduleRecord(r.Schedule), ActivatedAt: r.ActivatedAt, Live: r.Live}
}

// mapSlice converts each element of s, keeping nil nil.
func mapSlice[S, T any](s []S, f func(S) T) []T {
	if s == nil {
		return nil
	}
	out := make([]T, len(s))
	for i, x := range s {
		out[i] = f(x)
	}
	return out
}
