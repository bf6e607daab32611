// Package webhook sends a tenant's delivery feedback to its own HTTPS
// endpoint, in Adobe Journey Optimizer's message.feedback shape: one
// webhook per tenant (org + sandbox), managed through the API (Service),
// fed by the Feedback function (Publisher, which only enqueues) and
// delivered by the Webhook function from an SQS queue (Deliverer), signed,
// deduplicated by event ID and retried with backoff for 24 hours.
//
// The endpoint is the tenant's choice, so every address it resolves to is
// checked (Guard): private, loopback, link-local, metadata and other
// non-public addresses are refused when the webhook is stored and again
// for the very address each delivery connects to, so a DNS answer that
// changes after the check reaches nothing it should not. Redirects are
// never followed.
package webhook

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/tenant"
)

// Channels a webhook can subscribe to: campaign channels.
var channels = []string{string(campaign.Email), string(campaign.SMS), string(campaign.Push)}

// Limits of a webhook's fields.
const (
	MaxName        = 128
	MaxHeaders     = 20
	MinSecret      = 16
	MaxSecret      = 256
	maxHeaderValue = 1024
	maxURL         = 2048
)

// Signature headers Herald sets on every delivery; a configuration's
// custom headers may not name them (nor Host, Content-Type and
// Content-Length).
const (
	HeaderEventID   = "X-Herald-Event-Id"
	HeaderTimestamp = "X-Herald-Timestamp"
	HeaderSignature = "X-Herald-Signature"
)

var reservedHeaders = []string{"Host", "Content-Type", "Content-Length", "User-Agent", "Transfer-Encoding", "Connection"}

// Input is the body of POST /feedback-webhook and what PATCH merge-patches
// (its current value never holds the secret: a patch without "secret"
// keeps it).
type Input struct {
	Name     string            `json:"name"`
	URL      string            `json:"url"`
	Channels []string          `json:"channels"`
	Headers  map[string]string `json:"headers,omitempty"`
	Secret   string            `json:"secret,omitempty"`
}

// Config is a tenant's stored webhook. Secret keys the signatures and is
// never returned by the API after its creation.
type Config struct {
	Name      string
	URL       string
	Channels  []string
	Headers   map[string]string
	Secret    string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Subscribed reports whether the webhook receives events of channel ch.
func (c Config) Subscribed(ch string) bool { return slices.Contains(c.Channels, ch) }

// View is a webhook as the API shows it: the secret is write-only, so only
// SecretSet says there is one; Secret is set in the response of a create
// that generated it, the one time it is shown.
type View struct {
	Name      string            `json:"name"`
	URL       string            `json:"url"`
	Channels  []string          `json:"channels"`
	Headers   map[string]string `json:"headers"`
	SecretSet bool              `json:"secretSet"`
	Secret    string            `json:"secret,omitempty"`
	CreatedAt time.Time         `json:"createdAt"`
	UpdatedAt time.Time         `json:"updatedAt"`
}

func view(c Config) View {
	h := c.Headers
	if h == nil {
		h = map[string]string{}
	}
	return View{Name: c.Name, URL: c.URL, Channels: c.Channels, Headers: h, SecretSet: c.Secret != "", CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

// Store persists webhooks and their delivery records, per tenant.
type Store interface {
	// CreateWebhook stores the tenant's webhook; derrors.Conflict if it
	// has one.
	CreateWebhook(ctx context.Context, t tenant.Tenant, c Config) error
	// GetWebhook returns the tenant's webhook or derrors.NotFound.
	GetWebhook(ctx context.Context, t tenant.Tenant) (Config, error)
	// ReplaceWebhook replaces the tenant's webhook; derrors.NotFound if
	// it has none.
	ReplaceWebhook(ctx context.Context, t tenant.Tenant, c Config) error
	// DeleteWebhook deletes the tenant's webhook; derrors.NotFound if it
	// has none. Delivery records stay until they expire.
	DeleteWebhook(ctx context.Context, t tenant.Tenant) error
	DeliveryStore
}

// validate checks in, naming every wrong field; the secret is optional
// (a create generates one, a patch keeps the stored one).
func validate(ctx context.Context, g *Guard, in Input) error {
	var f derrors.Fields
	if n := utf8.RuneCountInString(in.Name); n < 1 || n > MaxName || strings.TrimSpace(in.Name) == "" || !utf8.ValidString(in.Name) {
		f.Add("name", "must be 1 to %d characters", MaxName)
	}
	if len(in.Channels) == 0 {
		f.Add("channels", "must name at least one of email, sms, push")
	}
	seen := map[string]bool{}
	for i, ch := range in.Channels {
		switch {
		case !slices.Contains(channels, ch):
			f.Add(field("channels", i), "must be email, sms or push")
		case seen[ch]:
			f.Add(field("channels", i), "is listed twice")
		}
		seen[ch] = true
	}
	if len(in.Headers) > MaxHeaders {
		f.Add("headers", "may hold at most %d headers", MaxHeaders)
	}
	for _, name := range sortedKeys(in.Headers) {
		fn := "headers." + name
		switch {
		case !validToken(name):
			f.Add(fn, "must be an HTTP header name (letters, digits and !#$%%&'*+-.^_`|~)")
		case reserved(name):
			f.Add(fn, "is set by Herald and cannot be overridden")
		}
		if v := in.Headers[name]; strings.ContainsAny(v, "\r\n\x00") || len(v) > maxHeaderValue || !utf8.ValidString(v) {
			f.Add(fn, "must be a header value of at most %d bytes without CR, LF or NUL", maxHeaderValue)
		}
	}
	if in.Secret != "" && (len(in.Secret) < MinSecret || len(in.Secret) > MaxSecret) {
		f.Add("secret", "must be %d to %d characters", MinSecret, MaxSecret)
	}
	if msg := g.CheckURL(ctx, in.URL); msg != "" {
		f.Add("url", "%s", msg)
	}
	return f.Err()
}

func field(name string, i int) string { return name + "[" + strconv.Itoa(i) + "]" }

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// validToken reports whether s is an RFC 9110 token.
func validToken(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func reserved(name string) bool {
	c := http.CanonicalHeaderKey(name)
	return slices.Contains(reservedHeaders, c) || strings.HasPrefix(c, "X-Herald-")
}
