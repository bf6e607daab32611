package delivery

import (
	"bytes"
	"strconv"

	"github.com/heraldhq/herald/internal/render"
)

// appendJob appends j's queue message body: what an encoding/json Encoder
// with SetEscapeHTML(false) writes for it, without its newline and with
// U+2028 and U+2029 written as themselves (see EncodeJob). It is written
// by hand because the Trigger function sizes and encodes every job it
// queues: encoding/json walks the types by reflection and validates and
// copies again each profile and context an Object has already encoded
// (TestAppendJobIsEncodingJSONs holds the two equal, field by field).
func appendJob(b []byte, j Job) ([]byte, error) {
	b = append(b, `{"tenant":{"org":`...)
	b = appendString(b, j.Tenant.Org)
	b = append(b, `,"sandbox":`...)
	b = appendString(b, j.Tenant.Sandbox)
	b = append(b, `},"executionId":`...)
	b = appendString(b, j.ExecutionID)
	b = append(b, `,"campaignId":`...)
	b = appendString(b, j.CampaignID)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, int64(j.Version), 10)
	if j.Proof {
		b = append(b, `,"proof":true`...)
	}
	b = append(b, `,"recipients":`...)
	if j.Recipients == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, r := range j.Recipients {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendRecipient(b, r)
		}
		b = append(b, ']')
	}
	if !j.Context.IsZero() {
		b = append(b, `,"context":`...)
		b = appendObject(b, j.Context)
	}
	if j.Channel != "" {
		b = append(b, `,"channel":`...)
		b = appendString(b, string(j.Channel))
	}
	if j.Ledger != 0 {
		b = append(b, `,"ledger":`...)
		b = strconv.AppendInt(b, int64(j.Ledger), 10)
	}
	if j.Reconcile {
		b = append(b, `,"reconcile":true`...)
	}
	if j.Shards != 0 {
		b = append(b, `,"shards":`...)
		b = strconv.AppendInt(b, int64(j.Shards), 10)
	}
	if !j.DeferUntil.IsZero() {
		t, err := j.DeferUntil.MarshalJSON() // refuses a year outside 0-9999, as json.Marshal does
		if err != nil {
			return nil, err
		}
		b = append(b, `,"deferUntil":`...)
		b = append(b, t...)
	}
	return append(b, '}'), nil
}

func appendRecipient(b []byte, r Recipient) []byte {
	b = append(b, `{"type":`...)
	b = appendString(b, r.Type)
	b = append(b, `,"userId":`...)
	b = appendString(b, r.UserID)
	b = append(b, `,"namespace":`...)
	b = appendString(b, r.Namespace)
	if r.Email != "" {
		b = append(b, `,"email":`...)
		b = appendString(b, r.Email)
	}
	if r.Phone != "" {
		b = append(b, `,"phone":`...)
		b = appendString(b, r.Phone)
	}
	if r.Push != nil {
		b = append(b, `,"push":{"appId":`...)
		b = appendString(b, r.Push.AppID)
		if r.Push.Platform != "" {
			b = append(b, `,"platform":`...)
			b = appendString(b, r.Push.Platform)
		}
		b = append(b, `,"token":`...)
		b = appendString(b, r.Push.Token)
		b = append(b, '}')
	}
	if !r.Profile.IsZero() {
		b = append(b, `,"profile":`...)
		b = appendObject(b, r.Profile)
	}
	if !r.Context.IsZero() {
		b = append(b, `,"context":`...)
		b = appendObject(b, r.Context)
	}
	if r.Locale != "" {
		b = append(b, `,"locale":`...)
		b = appendString(b, r.Locale)
	}
	if r.Treatment != "" {
		b = append(b, `,"treatment":`...)
		b = appendString(b, r.Treatment)
	}
	return append(b, '}')
}

// appendObject appends an Object's encoding (compact, valid: the engine
// wrote it) with its line separators unescaped.
func appendObject(b []byte, o render.Object) []byte {
	raw, _ := o.MarshalJSON() // a non-zero Object's never fails
	if !bytes.Contains(raw, []byte(`\u202`)) {
		return append(b, raw...)
	}
	return append(b, unescapeSeparators(raw)...)
}

// appendString appends s as a JSON string as an Encoder with
// SetEscapeHTML(false) writes it, but for U+2028 and U+2029, written as
// themselves.
func appendString(b []byte, s string) []byte { return render.AppendJSONString(b, s, false, true) }
