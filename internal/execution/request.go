// Package execution implements the AJO-compatible execution API: it
// validates trigger calls, makes them idempotent per tenant by requestId,
// records the execution and hands its recipients to delivery through the
// dispatch queue.
package execution

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/heraldhq/herald/internal/address"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/push"
	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/internal/strictjson"
)

// Limits of the unitary execution API.
const (
	MaxRecipients  = 20
	MaxContextSize = 200 << 10 // all recipients' context together, as JSON
	MaxBodySize    = 240 << 10 // the whole request body
	maxIDLen       = 256
)

// UnitaryRequest is the body of POST /im/executions/unitary
// (imExecutionRequestUnitary).
type UnitaryRequest struct {
	RequestID  string      `json:"requestId"`
	CampaignID string      `json:"campaignId"`
	Recipients []Recipient `json:"recipients"`
}

// Recipient is an AEPRecipient or ExternalRecipient.
type Recipient struct {
	Type              string       `json:"type"`
	UserID            string       `json:"userId"`
	Namespace         string       `json:"namespace"`
	MergePolicyName   string       `json:"mergePolicyName,omitempty"`
	MergePolicySchema string       `json:"mergePolicySchema,omitempty"`
	ChannelData       *ChannelData `json:"channelData,omitempty"`
	// Profile and Context are decoded once, in the call's order, into
	// the personalization engine's own objects, which the delivery jobs
	// carry and render from as they are.
	Profile render.Object `json:"profile,omitzero"`
	Context render.Object `json:"context,omitzero"`
}

// ChannelData carries a recipient's addresses for this call.
type ChannelData struct {
	EmailAddress      string    `json:"emailAddress,omitempty"`
	MobilePhoneNumber string    `json:"mobilePhoneNumber,omitempty"`
	PushInfo          *PushInfo `json:"pushInfo,omitempty"`
}

// PushInfo is a device to push to.
type PushInfo struct {
	AppID    string `json:"appID,omitempty"`
	Platform string `json:"platform,omitempty"`
	Token    string `json:"token,omitempty"`
}

// DecodeUnitary decodes a unitary execution body the way every entry
// reads it (the REST route, EventBridge events, Scheduler inputs): member
// names are case-sensitive, unknown members are ignored as AJO ignores
// them, and every wrong value is named by its path. It does not validate.
func DecodeUnitary(body []byte) (UnitaryRequest, error) {
	var req UnitaryRequest
	err := strictjson.DecodeIgnoringUnknown(body, &req)
	return req, err
}

// DecodeAudience is DecodeUnitary for an audience execution body.
func DecodeAudience(body []byte) (AudienceRequest, error) {
	var req AudienceRequest
	err := strictjson.DecodeIgnoringUnknown(body, &req)
	return req, err
}

// bodyHash is the SHA-256 of the request's canonical JSON, the idempotency
// record's BodyHash: what json.Marshal wrote for the request when profile
// and context were maps (members sorted by name at every level, '<', '>'
// and '&' escaped, empty objects left out), so that member order does not
// make a repeat a conflict and records stored by earlier code still match
// their repeats.
func (r UnitaryRequest) bodyHash() string {
	sum := sha256.Sum256(r.canonical())
	return hex.EncodeToString(sum[:])
}

// canonical is the request's canonical JSON: json.Marshal of
// the request with profile and context in their canonical form, written
// by hand (the Trigger function hashes every call; encoding/json walked
// the types by reflection and validated and copied each profile and
// context again). TestBodyHashIsHashRequestsMarshal holds it to
// json.Marshal of the shapes in export_test.go, field for field.
func (r UnitaryRequest) canonical() []byte {
	n := len(r.RequestID) + len(r.CampaignID) + 64
	for _, rc := range r.Recipients {
		n += 128 + len(rc.UserID) + rc.Profile.Size() + rc.Context.Size()
	}
	b := make([]byte, 0, n+n/8)
	str := func(b []byte, s string) []byte { return render.AppendJSONString(b, s, true, false) }
	// member writes an omitempty string member of the object opened at
	// start (a comma before it unless it is the first).
	member := func(start int, name, v string) {
		if v == "" {
			return
		}
		if len(b) > start {
			b = append(b, ',')
		}
		b = append(append(append(b, '"'), name...), '"', ':')
		b = str(b, v)
	}
	b = append(b, `{"requestId":`...)
	b = str(b, r.RequestID)
	b = append(b, `,"campaignId":`...)
	b = str(b, r.CampaignID)
	b = append(b, `,"recipients":`...)
	if r.Recipients == nil {
		return append(b, "null}"...)
	}
	b = append(b, '[')
	for i, rc := range r.Recipients {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"type":`...)
		b = str(b, rc.Type)
		b = append(b, `,"userId":`...)
		b = str(b, rc.UserID)
		b = append(b, `,"namespace":`...)
		b = str(b, rc.Namespace)
		if rc.MergePolicyName != "" {
			b = append(b, `,"mergePolicyName":`...)
			b = str(b, rc.MergePolicyName)
		}
		if rc.MergePolicySchema != "" {
			b = append(b, `,"mergePolicySchema":`...)
			b = str(b, rc.MergePolicySchema)
		}
		if cd := rc.ChannelData; cd != nil {
			b = append(b, `,"channelData":{`...)
			start := len(b)
			member(start, "emailAddress", cd.EmailAddress)
			member(start, "mobilePhoneNumber", cd.MobilePhoneNumber)
			if pi := cd.PushInfo; pi != nil {
				if len(b) > start {
					b = append(b, ',')
				}
				b = append(b, `"pushInfo":{`...)
				push := len(b)
				member(push, "appID", pi.AppID)
				member(push, "platform", pi.Platform)
				member(push, "token", pi.Token)
				b = append(b, '}')
			}
			b = append(b, '}')
		}
		if rc.Profile.Len() > 0 { // omitempty left an empty map out
			b = append(b, `,"profile":`...)
			b = rc.Profile.AppendCanonicalJSON(b)
		}
		if rc.Context.Len() > 0 {
			b = append(b, `,"context":`...)
			b = rc.Context.AppendCanonicalJSON(b)
		}
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// Delivery is the recipient as a delivery job carries it: the one place an
// AJO recipient becomes a delivery.Recipient. Validate has accepted its
// push platform: "" (any of the app's) or a spelling push.ParsePlatform
// reads as SNS's.
func (r Recipient) Delivery() delivery.Recipient {
	dr := delivery.Recipient{Type: r.Type, UserID: r.UserID, Namespace: r.Namespace, Profile: r.Profile, Context: r.Context}
	if cd := r.ChannelData; cd != nil {
		dr.Email, dr.Phone = cd.EmailAddress, cd.MobilePhoneNumber
		if pi := cd.PushInfo; pi != nil {
			platform, _ := push.ParsePlatform(pi.Platform)
			dr.Push = &delivery.PushTarget{AppID: pi.AppID, Platform: platform, Token: pi.Token}
		}
	}
	return dr
}

// Validate checks the request against the contract and Herald's limits.
func (r UnitaryRequest) Validate() error { return r.validate(false) }

// ValidateHighThroughput checks a body of POST
// /im/executions/highthroughput (imExecutionRequestHighThroughput): a
// unitary request whose recipients are all external.
func (r UnitaryRequest) ValidateHighThroughput() error { return r.validate(true) }

func (r UnitaryRequest) validate(highThroughput bool) error {
	var f derrors.Fields
	checkID(&f, "requestId", r.RequestID)
	checkID(&f, "campaignId", r.CampaignID)
	switch n := len(r.Recipients); {
	case r.Recipients == nil:
		f.Add("recipients", "is required")
	case n == 0 || n > MaxRecipients:
		f.Add("recipients", "must hold 1 to %d recipients, not %d", MaxRecipients, n)
	}
	seen := make(map[profile.Identity]int, len(r.Recipients))
	ctxSize := 0
	for i, rc := range r.Recipients {
		// Field names are built only for the errors found: a valid
		// recipient costs no string.
		at := func(field string) string { return "recipients[" + strconv.Itoa(i) + "]" + field }
		switch rc.Type {
		case delivery.TypeAEP:
			if highThroughput {
				f.Add(at(".type"), "must be external: the high-throughput API reads no profile")
			}
		case delivery.TypeExternal:
		case "":
			f.Add(at(".type"), "is required (aep or external)")
		default:
			f.Add(at(".type"), "must be aep or external, not %q", rc.Type)
		}
		if rc.UserID == "" {
			f.Add(at(".userId"), "is required")
		}
		if rc.Namespace == "" {
			f.Add(at(".namespace"), "is required")
		}
		if rc.UserID != "" && rc.Namespace != "" {
			id := profile.Identity{Namespace: rc.Namespace, ID: rc.UserID}
			if profile.ValidNamespace(rc.Namespace) {
				var idf derrors.Fields
				profile.ValidateIdentity(&idf, "userId", id)
				for _, e := range idf {
					f.Add(at("."+e.Field), "%s", e.Message)
				}
			} else {
				f.Add(at(".namespace"), "must be 1-64 of letters, digits, '_' and '-'")
			}
			if j, dup := seen[id]; dup {
				f.Add(at(".userId"), "duplicates recipients[%d].userId", j)
			} else {
				seen[id] = i
			}
		}
		if cd := rc.ChannelData; cd != nil {
			if cd.EmailAddress != "" && !address.ValidEmail(cd.EmailAddress) {
				f.Add(at(".channelData.emailAddress"), "must be an email address")
			}
			// A number is read with the SMS configuration's default region
			// at send time, and one it cannot use fails that recipient
			// alone: only what can never be a number is refused here.
			if cd.MobilePhoneNumber != "" && !address.PhoneShaped(cd.MobilePhoneNumber) {
				f.Add(at(".channelData.mobilePhoneNumber"), "must be a phone number: 1-%d of digits, spaces and + - ( ) . /, such as +14155550100 or 415-555-0100", address.MaxPhoneLen)
			}
			if pi := cd.PushInfo; pi != nil {
				checkPushInfo(&f, at(".channelData.pushInfo"), pi)
			}
		}
		if rc.Context.Has("system") {
			f.Add(at(".context.system"), "is reserved")
		}
		if !rc.Context.IsZero() {
			ctxSize += rc.Context.Size()
		}
	}
	if ctxSize > MaxContextSize {
		f.Add("recipients[].context", "is %d bytes in all; the limit is %d", ctxSize, MaxContextSize)
	}
	return f.Err()
}

func checkPushInfo(f *derrors.Fields, p string, pi *PushInfo) {
	if pi.AppID == "" || len(pi.AppID) > 256 || hasControl(pi.AppID) {
		f.Add(p+".appID", "is required (1-256 bytes, no control characters)")
	}
	if _, ok := push.ParsePlatform(pi.Platform); pi.Platform != "" && !ok {
		f.Add(p+".platform", "must be %s", push.PlatformSpellings)
	}
	if pi.Token == "" || len(pi.Token) > profile.MaxTokenLen || hasControl(pi.Token) || strings.ContainsAny(pi.Token, " \t") {
		f.Add(p+".token", "is required (1-%d bytes, no spaces or control characters)", profile.MaxTokenLen)
	}
}

// hasControl reports a character that has no place in an id or a token
// (address.IsControl: C0, DEL, C1, U+2028, U+2029).
func hasControl(s string) bool { return address.HasControl(s) }

func checkID(f *derrors.Fields, field, v string) {
	switch {
	case v == "":
		f.Add(field, "is required")
	case len(v) > maxIDLen:
		f.Add(field, "must be at most %d bytes", maxIDLen)
	case hasControl(v):
		f.Add(field, "must not contain control characters")
	}
}
