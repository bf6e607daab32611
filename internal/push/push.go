// Package push builds the per-platform payloads of a mobile push
// notification, as SNS publishes them with MessageStructure "json": one
// JSON string per platform key (APNS, APNS_SANDBOX, GCM) beside "default".
package push

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// MaxPayload is the largest platform payload APNs and FCM accept.
const MaxPayload = 4096

// Platforms, as SNS names them: the spelling Herald stores and sends,
// and the one in a platform application's ARN (arn:…:app/APNS/…).
const (
	APNS        = "APNS"
	APNSSandbox = "APNS_SANDBOX"
	GCM         = "GCM"
)

// platformSpellings maps a lower-cased spelling to its SNS platform:
// SNS's own names, AJO's and the Adobe mobile SDK's (apns, apnsSandbox,
// fcm), the legacy GCM and the operating systems.
var platformSpellings = map[string]string{
	"apns":         APNS,
	"ios":          APNS,
	"apns_sandbox": APNSSandbox,
	"apnssandbox":  APNSSandbox,
	"apns-sandbox": APNSSandbox,
	"gcm":          GCM,
	"fcm":          GCM,
	"android":      GCM,
}

// ParsePlatform returns the SNS platform (APNS, APNS_SANDBOX, GCM) that s
// names, in any case: "apns" and "ios" are APNS; "apnsSandbox" and
// "apns_sandbox" are APNS_SANDBOX; "fcm", "gcm" and "android" are GCM.
// ok is false for anything else, which SNS has no platform application
// for here. Every platform a request or a profile names goes through it,
// so what is stored and sent is SNS's spelling.
func ParsePlatform(s string) (platform string, ok bool) {
	if len(s) > len("apns_sandbox") {
		return "", false
	}
	platform, ok = platformSpellings[strings.ToLower(s)]
	return platform, ok
}

// PlatformSpellings names what ParsePlatform accepts, for the messages
// that refuse anything else.
const PlatformSpellings = "APNS (apns, ios), APNS_SANDBOX (apnsSandbox) or GCM (fcm, gcm, android), in any case"

// Message is a rendered notification.
type Message struct {
	Title    string
	Body     string
	ImageURL string
	// DeepLink is carried in the data as "deepLink" (the app opens it).
	DeepLink string
	Sound    string
	Badge    *int
	Data     map[string]string
	// Silent sends a background notification (content-available, no alert).
	Silent bool
	// Category is the APNs category; ChannelID the Android channel.
	Category  string
	ChannelID string
}

// ErrTooLarge is returned (wrapped) when a platform payload is over
// MaxPayload bytes.
var ErrTooLarge = fmt.Errorf("push payload over %d bytes", MaxPayload)

// data returns the custom data with the deep link and image added.
func (m Message) data() map[string]string {
	d := maps.Clone(m.Data)
	if d == nil {
		d = map[string]string{}
	}
	if m.DeepLink != "" {
		d["deepLink"] = m.DeepLink
	}
	if m.ImageURL != "" {
		d["imageUrl"] = m.ImageURL
	}
	return d
}

// APNsPayload returns the APNs payload: aps (alert, sound, badge,
// content-available for silent, mutable-content with an image so a
// service extension can attach it, category) and the custom data at the
// top level.
func APNsPayload(m Message) ([]byte, error) {
	aps := ordered{}
	if m.Silent {
		aps = append(aps, kv{"content-available", 1})
	} else {
		alert := ordered{}
		if m.Title != "" {
			alert = append(alert, kv{"title", m.Title})
		}
		alert = append(alert, kv{"body", m.Body})
		aps = append(aps, kv{"alert", alert})
		if m.Sound != "" {
			aps = append(aps, kv{"sound", m.Sound})
		}
	}
	if m.Badge != nil {
		aps = append(aps, kv{"badge", *m.Badge})
	}
	if m.ImageURL != "" && !m.Silent {
		aps = append(aps, kv{"mutable-content", 1})
	}
	if m.Category != "" {
		aps = append(aps, kv{"category", m.Category})
	}
	root := ordered{{"aps", aps}}
	d := m.data()
	for _, k := range slices.Sorted(maps.Keys(d)) {
		if k != "aps" {
			root = append(root, kv{k, d[k]})
		}
	}
	return marshal(root)
}

// FCMPayload returns the FCM HTTP v1 payload SNS expects under GCM
// ({"fcmV1Message": {"message": …}}): notification (title, body, image)
// unless silent, data (all strings), Android priority and channel.
func FCMPayload(m Message) ([]byte, error) {
	msg := ordered{}
	if !m.Silent {
		n := ordered{}
		if m.Title != "" {
			n = append(n, kv{"title", m.Title})
		}
		n = append(n, kv{"body", m.Body})
		if m.ImageURL != "" {
			n = append(n, kv{"image", m.ImageURL})
		}
		msg = append(msg, kv{"notification", n})
	}
	if d := m.data(); len(d) > 0 {
		do := ordered{}
		for _, k := range slices.Sorted(maps.Keys(d)) {
			do = append(do, kv{k, d[k]})
		}
		msg = append(msg, kv{"data", do})
	}
	android := ordered{{"priority", "high"}}
	if m.Silent {
		android = ordered{{"priority", "normal"}}
	}
	an := ordered{}
	if m.ChannelID != "" {
		an = append(an, kv{"channel_id", m.ChannelID})
	}
	if m.Sound != "" && !m.Silent {
		an = append(an, kv{"sound", m.Sound})
	}
	if len(an) > 0 {
		android = append(android, kv{"notification", an})
	}
	msg = append(msg, kv{"android", android})
	return marshal(ordered{{"fcmV1Message", ordered{{"message", msg}}}})
}

// SNSMessage returns the SNS Message (for MessageStructure "json") for one
// platform, with the body as the default text. It returns ErrTooLarge
// when the platform payload is over MaxPayload.
func SNSMessage(platform string, m Message) (string, int, error) {
	var p []byte
	var err error
	switch platform {
	case APNS, APNSSandbox:
		p, err = APNsPayload(m)
	case GCM:
		p, err = FCMPayload(m)
	default:
		return "", 0, fmt.Errorf("unknown push platform %q", platform)
	}
	if err != nil {
		return "", 0, err
	}
	if len(p) > MaxPayload {
		return "", len(p), fmt.Errorf("%w: %s payload is %d bytes", ErrTooLarge, platform, len(p))
	}
	out, err := marshal(ordered{{"default", m.Body}, {platform, string(p)}})
	return string(out), len(p), err
}

// kv and ordered marshal JSON objects with keys in a fixed order, so
// payloads are stable (golden files) and readable.
type kv struct {
	k string
	v any
}

type ordered []kv

// MarshalJSON implements json.Marshaler.
func (o ordered) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := marshal(e.k)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		v, err := marshal(e.v)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
