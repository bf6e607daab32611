package dynamo

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/tenant"
)

// recordMapping pins how a domain type is stored: each of its fields
// under a stored name (the tag of a field of its record), or not at all
// (""). The stored names are the format existing tables hold
// (testdata/*.json): changing one is a migration, not a refactoring.
type recordMapping struct {
	domain, record reflect.Type
	// tag is the record's tag key: dynamodbav for attributes, json for
	// the fields of a gzipped document.
	tag    string
	fields map[string]string
	// recordOnly are the record's stored names that hold no domain field
	// (keys, list attributes, copies for conditions, usage).
	recordOnly []string
}

var recordMappings = []recordMapping{
	{domain: reflect.TypeFor[campaign.ChannelConfig](), record: reflect.TypeFor[configRecord](), tag: "dynamodbav",
		fields: map[string]string{"ID": "id", "Name": "name", "Channel": "channel", "Category": "category", "Email": "email", "SMS": "sms",
			"Push": "push", "QuietHours": "quietHours", "Revision": "revision", "CreatedAt": "createdAt", "UpdatedAt": "updatedAt"},
		recordOnly: []string{"pk", "sk", "gsi1pk", "gsi1sk", "nameKey", "usedBy", "useSeq"}},
	{domain: reflect.TypeFor[campaign.QuietHours](), record: reflect.TypeFor[quietHoursRecord](), tag: "dynamodbav",
		fields: map[string]string{"Start": "start", "End": "end", "TimeZone": "timeZone", "Action": "action", "Transactional": "transactional"}},
	{domain: reflect.TypeFor[campaign.EmailSettings](), record: reflect.TypeFor[emailSettingsRecord](), tag: "dynamodbav",
		fields: map[string]string{"FromName": "fromName", "FromAddress": "fromAddress", "ReplyTo": "replyTo", "BCC": "bcc",
			"ConfigurationSet": "configurationSet", "ListUnsubscribeMailto": "listUnsubscribeMailto",
			"ListUnsubscribeURL": "listUnsubscribeUrl", "SendToSuppressed": "sendToSuppressed",
			"TrackOpens": "trackOpens", "TrackClicks": "trackClicks", "DefaultLocale": "defaultLocale"}},
	{domain: reflect.TypeFor[campaign.SMSSettings](), record: reflect.TypeFor[smsSettingsRecord](), tag: "dynamodbav",
		fields: map[string]string{"SenderID": "senderId", "OriginationNumber": "originationNumber", "SMSType": "smsType", "MaxSegments": "maxSegments",
			"DefaultRegion": "defaultRegion", "DefaultLocale": "defaultLocale"}},
	{domain: reflect.TypeFor[campaign.PushSettings](), record: reflect.TypeFor[pushSettingsRecord](), tag: "dynamodbav",
		fields: map[string]string{"Apps": "apps", "DefaultLocale": "defaultLocale"}},
	{domain: reflect.TypeFor[campaign.PushApp](), record: reflect.TypeFor[pushAppRecord](), tag: "dynamodbav",
		fields: map[string]string{"AppID": "appId", "Platform": "platform", "PlatformApplicationARN": "platformApplicationArn"}},

	{domain: reflect.TypeFor[campaign.Campaign](), record: reflect.TypeFor[campaignDoc](), tag: "json",
		fields: map[string]string{"ID": "id", "Name": "name", "Description": "description", "Tags": "tags", "Type": "type", "Channel": "channel",
			"HighThroughput": "highThroughput", "Status": "status", "Draft": "draft", "LiveVersion": "liveVersion", "DraftPending": "draftPending", "Revision": "revision",
			"CreatedAt": "createdAt", "UpdatedAt": "updatedAt", "StoppedAt": "stoppedAt", "ArchivedAt": "archivedAt", "ExpiresAt": "expiresAt"}},
	// A campaign's list entry is read from the attributes beside its
	// document, which the list index projects.
	{domain: reflect.TypeFor[campaign.Summary](), record: reflect.TypeFor[campaignRecord](), tag: "dynamodbav",
		fields: map[string]string{"ID": "id", "Name": "name", "Tags": "tags", "Type": "type", "Channel": "channel", "Status": "status",
			"LiveVersion": "liveVersion", "DraftPending": "draftPending", "Revision": "revision", "CreatedAt": "createdAt", "UpdatedAt": "updatedAt"},
		recordOnly: []string{"pk", "sk", "gsi1pk", "gsi1sk", "nameKey", "expiresAt", "doc"}},
	{domain: reflect.TypeFor[campaign.Spec](), record: reflect.TypeFor[specDoc](), tag: "json",
		fields: map[string]string{"ChannelConfigID": "channelConfigurationId", "Content": "content", "Audience": "audience",
			"Schedule": "schedule", "ContextSchema": "contextSchema", "FrequencyCapExempt": "frequencyCapExempt"}},
	{domain: reflect.TypeFor[campaign.Content](), record: reflect.TypeFor[contentDoc](), tag: "json",
		fields: map[string]string{"Email": "email", "SMS": "sms", "Push": "push", "Variants": "variants", "Experiment": "experiment"}},
	{domain: reflect.TypeFor[campaign.Variant](), record: reflect.TypeFor[contentDoc](), tag: "json",
		fields: map[string]string{"Email": "email", "SMS": "sms", "Push": "push"}, recordOnly: []string{"variants", "experiment"}},
	{domain: reflect.TypeFor[campaign.Experiment](), record: reflect.TypeFor[experimentDoc](), tag: "json",
		fields: map[string]string{"Treatments": "treatments"}},
	{domain: reflect.TypeFor[campaign.Treatment](), record: reflect.TypeFor[treatmentDoc](), tag: "json",
		fields: map[string]string{"Name": "name", "Percent": "percent", "Email": "email", "SMS": "sms", "Push": "push", "Variants": "variants"}},
	{domain: reflect.TypeFor[campaign.EmailContent](), record: reflect.TypeFor[emailContentDoc](), tag: "json",
		fields: map[string]string{"Subject": "subject", "Preheader": "preheader", "HTML": "html", "Text": "text"}},
	{domain: reflect.TypeFor[campaign.SMSContent](), record: reflect.TypeFor[smsContentDoc](), tag: "json",
		fields: map[string]string{"Body": "body"}},
	{domain: reflect.TypeFor[campaign.PushContent](), record: reflect.TypeFor[pushContentDoc](), tag: "json",
		fields: map[string]string{"Title": "title", "Body": "body", "ImageURL": "imageUrl", "DeepLink": "deepLink", "Sound": "sound",
			"Badge": "badge", "Data": "data", "Silent": "silent"}},
	{domain: reflect.TypeFor[campaign.Audience](), record: reflect.TypeFor[audienceRecord](), tag: "json",
		fields: map[string]string{"Namespace": "namespace", "CreateProfiles": "createProfiles", "AudienceID": "audienceId"}},
	{domain: reflect.TypeFor[campaign.Audience](), record: reflect.TypeFor[audienceRecord](), tag: "dynamodbav",
		fields: map[string]string{"Namespace": "namespace", "CreateProfiles": "createProfiles", "AudienceID": "audienceId"}},
	{domain: reflect.TypeFor[campaign.Schedule](), record: reflect.TypeFor[scheduleRecord](), tag: "json",
		fields: map[string]string{"Start": "start", "End": "end", "DeliveryRate": "deliveryRate"}},
	{domain: reflect.TypeFor[campaign.Schedule](), record: reflect.TypeFor[scheduleRecord](), tag: "dynamodbav",
		fields: map[string]string{"Start": "start", "End": "end", "DeliveryRate": "deliveryRate"}},
	{domain: reflect.TypeFor[campaign.Version](), record: reflect.TypeFor[versionDoc](), tag: "json",
		fields: map[string]string{"CampaignID": "campaignId", "Number": "number", "Type": "type", "Channel": "channel", "Spec": "spec",
			"HighThroughput": "highThroughput", "ActivatedAt": "activatedAt"}},
	{domain: reflect.TypeFor[campaign.VersionSummary](), record: reflect.TypeFor[versionSummaryRecord](), tag: "dynamodbav",
		fields: map[string]string{"Number": "number", "ChannelConfigID": "channelConfigurationId", "Audience": "audience",
			"Schedule": "schedule", "ActivatedAt": "activatedAt", "Live": "live"}},

	{domain: reflect.TypeFor[profile.Profile](), record: reflect.TypeFor[profileRecord](), tag: "dynamodbav",
		fields: map[string]string{"Namespace": "namespace", "ID": "id", "Attributes": "attributes", "Identities": "identities",
			"Consent": "consent", "Devices": "devices", "TimeZone": "timeZone", "Locale": "locale", "CreatedAt": "createdAt", "UpdatedAt": "updatedAt"},
		recordOnly: []string{"pk", "sk"}},
	{domain: reflect.TypeFor[profile.Device](), record: reflect.TypeFor[deviceRecord](), tag: "dynamodbav",
		fields: map[string]string{"AppID": "appId", "Platform": "platform", "Token": "token", "EndpointARN": "heraldEndpointArn", "Enabled": "enabled"}},
}

// storedNames returns the names a record stores its fields under.
func storedNames(t reflect.Type, tagKey string) []string {
	var out []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get(tagKey), ",")
		if name == "" || name == "-" {
			continue
		}
		out = append(out, name)
	}
	return out
}

func TestEveryFieldOfAStoredDomainTypeIsMappedOrListedAsNotStored(t *testing.T) {
	for _, m := range recordMappings {
		t.Run(m.domain.String()+" "+m.tag, func(t *testing.T) {
			var fields []string
			for f := range m.domain.Fields() {
				fields = append(fields, f.Name)
			}
			for _, f := range fields {
				if _, ok := m.fields[f]; !ok {
					t.Errorf("%s.%s is neither stored nor listed as not stored: give %s a field for it (a stored name no item "+
						"holds yet), convert it both ways, and pin it in recordMappings", m.domain, f, m.record)
				}
			}
			for f := range m.fields {
				if !slices.Contains(fields, f) {
					t.Errorf("recordMappings lists %s.%s, which is no field of it", m.domain, f)
				}
			}
			// The record stores exactly the pinned names.
			var want []string
			for _, name := range m.fields {
				if name != "" {
					want = append(want, name)
				}
			}
			want = append(want, m.recordOnly...)
			slices.Sort(want)
			got := storedNames(m.record, m.tag)
			slices.Sort(got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("names %s stores (%s tags) (-pinned +record):\n%s", m.record, m.tag, diff)
			}
		})
	}
}

// Every struct type of the campaign and profile packages a stored type
// holds has a mapping: a new nested type cannot slip into a record
// through a field typed with it.
func TestEveryDomainTypeAStoredTypeHoldsIsMapped(t *testing.T) {
	mapped := map[reflect.Type]bool{}
	for _, m := range recordMappings {
		mapped[m.domain] = true
	}
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(ty reflect.Type) {
		switch ty.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array:
			walk(ty.Elem())
			return
		case reflect.Map:
			walk(ty.Key())
			walk(ty.Elem())
			return
		case reflect.Struct:
		default:
			return
		}
		if seen[ty] || !strings.HasPrefix(ty.PkgPath(), "github.com/heraldhq/herald/internal/") {
			return
		}
		seen[ty] = true
		if !mapped[ty] {
			t.Errorf("%s is stored (it is a field's type) but has no record mapping", ty)
		}
		for f := range ty.Fields() {
			walk(f.Type)
		}
	}
	for _, ty := range []reflect.Type{reflect.TypeFor[campaign.ChannelConfig](), reflect.TypeFor[campaign.Campaign](),
		reflect.TypeFor[campaign.Summary](), reflect.TypeFor[campaign.Version](), reflect.TypeFor[campaign.VersionSummary](),
		reflect.TypeFor[profile.Profile]()} {
		walk(ty)
	}
}

// filler sets every field of a value, each to a value of its own, so a
// field a conversion drops (or swaps with another) shows in a diff.
type filler struct {
	t *testing.T
	n int
}

var fillBase = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func (f *filler) fill(v reflect.Value, path string) {
	f.t.Helper()
	f.n++
	switch {
	case v.Type() == reflect.TypeFor[time.Time]():
		v.Set(reflect.ValueOf(fillBase.Add(time.Duration(f.n)*time.Second + time.Duration(f.n))))
		return
	case v.Type() == reflect.TypeFor[json.RawMessage]():
		v.Set(reflect.ValueOf(json.RawMessage(fmt.Sprintf(`{"n":%d}`, f.n))))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("%s-%d", path, f.n))
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(f.n))
	case reflect.Float64:
		v.SetFloat(float64(f.n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		f.fill(v.Elem(), path)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		f.fill(v.Index(0), path+"[0]")
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		k := reflect.New(v.Type().Key()).Elem()
		f.fill(k, path+".key")
		e := reflect.New(v.Type().Elem()).Elem()
		f.fill(e, path+".value")
		v.SetMapIndex(k, e)
	case reflect.Interface:
		v.Set(reflect.ValueOf(fmt.Sprintf("%s-%d", path, f.n)))
	case reflect.Struct:
		for i := range v.NumField() {
			f.fill(v.Field(i), path+"."+v.Type().Field(i).Name)
		}
	default:
		f.t.Fatalf("%s: cannot fill a %s; teach the filler", path, v.Type())
	}
}

func filled[T any](t *testing.T) T {
	t.Helper()
	var v T
	(&filler{t: t}).fill(reflect.ValueOf(&v).Elem(), reflect.TypeFor[T]().Name())
	return v
}

// A value with every field set survives its record, through the same
// encodings the store uses (attribute values, gzipped JSON).
func TestAValueWithEveryFieldSetSurvivesItsRecord(t *testing.T) {
	tn := tenant.Tenant{Org: "ACME@AdobeOrg", Sandbox: "prod"}

	t.Run("channel configuration", func(t *testing.T) {
		want := filled[campaign.ChannelConfig](t)
		item, err := configItem(tn, want)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeConfig(item)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})

	t.Run("campaign and its list entry", func(t *testing.T) {
		want := filled[campaign.Campaign](t)
		item, err := toCampaignItem(tn, want)
		if err != nil {
			t.Fatal(err)
		}
		got, err := fromCampaignItem(item)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("campaign (-want +got):\n%s", diff)
		}
		var r campaignRecord
		if err := attributevalue.UnmarshalMap(item, &r); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want.Summarize(), summaryFromRecord(r)); diff != "" {
			t.Errorf("summary (-want +got):\n%s", diff)
		}
	})

	t.Run("version", func(t *testing.T) {
		want := filled[campaign.Version](t)
		r, err := toVersionRecord(tn, want.CampaignID, want)
		if err != nil {
			t.Fatal(err)
		}
		item, err := attributevalue.MarshalMap(r)
		if err != nil {
			t.Fatal(err)
		}
		var back versionRecord
		if err := attributevalue.UnmarshalMap(item, &back); err != nil {
			t.Fatal(err)
		}
		got, err := fromVersionRecord(back)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("version (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want.Summarize(), fromVersionSummaryRecord(back.Summary)); diff != "" {
			t.Errorf("summary (-want +got):\n%s", diff)
		}
	})

	t.Run("version summary", func(t *testing.T) {
		want := filled[campaign.VersionSummary](t)
		av, err := attributevalue.Marshal(toVersionSummaryRecord(want))
		if err != nil {
			t.Fatal(err)
		}
		var back versionSummaryRecord
		if err := attributevalue.Unmarshal(av, &back); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, fromVersionSummaryRecord(back)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})

	t.Run("profile", func(t *testing.T) {
		want := filled[profile.Profile](t)
		item, err := profileItem(tn, want)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeProfile(item)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

// The records, not the domain types, decide what is stored: the store
// encodes only records, and no record holds a domain type, so no tag or
// method of one (MarshalJSON, MarshalDynamoDBAttributeValue) is consulted.
func TestRecordsHoldNoDomainType(t *testing.T) {
	records := []reflect.Type{reflect.TypeFor[configRecord](), reflect.TypeFor[campaignRecord](), reflect.TypeFor[campaignDoc](),
		reflect.TypeFor[versionRecord](), reflect.TypeFor[versionDoc](), reflect.TypeFor[profileRecord]()}
	for _, m := range recordMappings {
		records = append(records, m.record)
	}
	own := reflect.TypeFor[configRecord]().PkgPath()
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type, string)
	walk = func(ty reflect.Type, path string) {
		if seen[ty] {
			return
		}
		seen[ty] = true
		switch pkg := ty.PkgPath(); pkg {
		case "", own, "time", "encoding/json":
		default:
			t.Errorf("%s is a %s: a record holds its own types only", path, ty)
			return
		}
		switch ty.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array:
			walk(ty.Elem(), path+"[]")
		case reflect.Map:
			walk(ty.Key(), path+" key")
			walk(ty.Elem(), path+"[k]")
		case reflect.Struct:
			if ty.PkgPath() != own {
				return
			}
			for f := range ty.Fields() {
				walk(f.Type, path+"."+f.Name)
			}
		}
	}
	for _, r := range records {
		walk(r, r.Name())
	}
}
