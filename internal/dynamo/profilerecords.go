package dynamo

import (
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/tenant"
)

// profileRecord is a profile item (sk PROF): the profile's data as
// attributes beside the key. Its tags are the stored format: the names
// are those profile.Profile's JSON tags had when it was stored as it is,
// so existing items read unchanged; toProfileRecord and fromProfileRecord
// are the only bridge to the domain type (see campaignrecords.go).
type profileRecord struct {
	PK         string            `dynamodbav:"pk"`
	SK         string            `dynamodbav:"sk"`
	Namespace  string            `dynamodbav:"namespace"`
	ID         string            `dynamodbav:"id"`
	Attributes map[string]any    `dynamodbav:"attributes"`
	Identities map[string]string `dynamodbav:"identities,omitempty"`
	Consent    map[string]string `dynamodbav:"consent,omitempty"`
	Devices    []deviceRecord    `dynamodbav:"devices,omitempty"`
	TimeZone   string            `dynamodbav:"timeZone,omitempty"`
	Locale     string            `dynamodbav:"locale,omitempty"`
	CreatedAt  time.Time         `dynamodbav:"createdAt"`
	UpdatedAt  time.Time         `dynamodbav:"updatedAt"`
}

// deviceRecord is a push device of a profile item. Herald's endpoint is
// heraldEndpointArn: the endpointArn of items stored before issue 10,
// which a request could set, is never read.
type deviceRecord struct {
	AppID       string `dynamodbav:"appId"`
	Platform    string `dynamodbav:"platform"`
	Token       string `dynamodbav:"token"`
	EndpointARN string `dynamodbav:"heraldEndpointArn,omitempty"`
	Enabled     bool   `dynamodbav:"enabled"`
}

func toProfileRecord(t tenant.Tenant, p profile.Profile) profileRecord {
	return profileRecord{PK: profilePK(t, p.Identity()), SK: skProfile, Namespace: p.Namespace, ID: p.ID,
		Attributes: p.Attributes, Identities: p.Identities, Consent: p.Consent,
		Devices: mapSlice(p.Devices, func(d profile.Device) deviceRecord {
			return deviceRecord{AppID: d.AppID, Platform: d.Platform, Token: d.Token, EndpointARN: d.EndpointARN, Enabled: d.Enabled}
		}),
		TimeZone: p.TimeZone, Locale: p.Locale, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

func fromProfileRecord(r profileRecord) profile.Profile {
	return profile.Profile{Namespace: r.Namespace, ID: r.ID, Attributes: r.Attributes, Identities: r.Identities, Consent: r.Consent,
		Devices: mapSlice(r.Devices, func(d deviceRecord) profile.Device {
			return profile.Device{AppID: d.AppID, Platform: d.Platform, Token: d.Token, EndpointARN: d.EndpointARN, Enabled: d.Enabled}
		}),
		TimeZone: r.TimeZone, Locale: r.Locale, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func profileItem(t tenant.Tenant, p profile.Profile) (map[string]types.AttributeValue, error) {
	item, err := attributevalue.MarshalMap(toProfileRecord(t, p))
	if err != nil {
		return nil, fmt.Errorf("encode profile: %w", err)
	}
	return item, nil
}

func decodeProfile(item map[string]types.AttributeValue) (profile.Profile, error) {
	var r profileRecord
	if err := attributevalue.UnmarshalMap(item, &r); err != nil {
		return profile.Profile{}, fmt.Errorf("decode profile: %w", err)
	}
	return fromProfileRecord(r), nil
}
