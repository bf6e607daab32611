// Package delivery sends an execution's messages: for each recipient of a
// Job it resolves the profile and address, applies consent and the
// suppression list, renders the campaign version's content, sends through
// the channel's provider (SES email, SNS SMS, SNS mobile push) and records
// exactly one outcome in the delivery ledger (per device, for push).
//
// The rules, in order, each ending the recipient with the outcome named:
//
//   - marketing (not proofs) without consent for the channel: excluded:no_consent
//   - no address (email, E.164 number, enabled device of the campaign's
//     app): excluded:no_address; a malformed one: failed:invalid_address
//   - a suppressed address (see suppression.Blocks): excluded:suppressed
//   - marketing SMS to a number opted out at SNS: excluded:opted_out
//   - content that fails to render: failed:render_error; an SMS over the
//     configuration's segment cap: failed:too_long; a push payload over
//     4 KB: failed:payload_too_large
//   - a push token the platform refuses: excluded:invalid_token (the
//     device is disabled on the profile)
//   - the provider refuses: failed:rejected; else sent.
//
// No exclusion or failure before the send calls the provider.
//
// Never sending twice rests on the ledger: before a send, the dispatcher
// claims the (execution, recipient, channel) entry with a conditional
// write. A redelivered job finds the entry and skips it; a concurrent
// duplicate finds a fresh claim and is retried later; a claim left behind
// by a crash (the send may or may not have happened) is closed as
// failed:interrupted rather than risk a second message.
package delivery

import (
	"context"
	"errors"
	"time"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/suppression"
	"github.com/heraldhq/herald/internal/tenant"
)

// Job is one queue message: some recipients of one execution.
type Job struct {
	Tenant      tenant.Tenant `json:"tenant"`
	ExecutionID string        `json:"executionId"`
	CampaignID  string        `json:"campaignId"`
	Version     int           `json:"version"`
	// Proof marks a proof send: the message is prefixed with ProofPrefix
	// and its ledger entries are proofs, not deliveries.
	Proof      bool        `json:"proof,omitempty"`
	Recipients []Recipient `json:"recipients"`
	// Context is an audience execution's context, shared by every
	// recipient that carries none of its own.
	Context map[string]any `json:"context,omitempty"`
}

// Recipient is one person to send to, with what the trigger call said
// about them.
type Recipient struct {
	// Type is "aep" (look up the stored profile) or "external" (no lookup).
	Type      string `json:"type"`
	UserID    string `json:"userId"`
	Namespace string `json:"namespace"`
	// Email is channelData.emailAddress from the call, if any.
	Email string `json:"email,omitempty"`
	// Phone is channelData.mobilePhoneNumber from the call (E.164).
	Phone string `json:"phone,omitempty"`
	// Push is channelData.pushInfo from the call: the one device to push
	// to instead of the profile's registered devices.
	Push *PushTarget `json:"push,omitempty"`
	// Profile holds attributes that override the stored ones for
	// rendering this message only.
	Profile map[string]any `json:"profile,omitempty"`
	// Context is the call's real-time data for this recipient.
	Context map[string]any `json:"context,omitempty"`
}

// PushTarget is a device named in the call.
type PushTarget struct {
	AppID    string `json:"appId"`
	Platform string `json:"platform,omitempty"`
	Token    string `json:"token"`
}

// Outcome is how a recipient's delivery ended: "sent", "excluded:<reason>"
// or "failed:<reason>".
type Outcome string

// Outcomes.
const (
	Sent              Outcome = "sent"
	ExcludedNoAddress Outcome = "excluded:no_address"
	ExcludedNoConsent Outcome = "excluded:no_consent"
	// ExcludedSuppressed: the address is on the tenant's suppression list
	// for a reason that applies to the campaign.
	ExcludedSuppressed Outcome = "excluded:suppressed"
	// ExcludedOptedOut: the number opted out of SMS at SNS (marketing).
	ExcludedOptedOut Outcome = "excluded:opted_out"
	// ExcludedInvalidToken: the push platform refused the device's token
	// (or its endpoint is disabled); the device is disabled on the profile.
	ExcludedInvalidToken  Outcome = "excluded:invalid_token"
	FailedRender          Outcome = "failed:render_error"
	FailedInvalidAddr     Outcome = "failed:invalid_address"
	FailedRejected        Outcome = "failed:rejected"
	FailedInterrupted     Outcome = "failed:interrupted"
	FailedTooLong         Outcome = "failed:too_long"
	FailedPayloadTooLarge Outcome = "failed:payload_too_large"
)

// Outcomes of audience executions.
const (
	// ExcludedNoProfile: an audience member whose identity has no profile.
	ExcludedNoProfile Outcome = "excluded:no_profile"
	// ExcludedRateWindow: a member whose slot on the delivery-rate
	// timeline fell past the execution's 12-hour window.
	ExcludedRateWindow Outcome = "excluded:rate_window_exceeded"
)

// State is a ledger entry's state.
type State string

// Ledger entry states.
const (
	Claimed State = "claimed" // a send is (or was) under way
	Done    State = "done"    // the outcome is final
)

// Entry is the ledger's record for one (execution, recipient, channel).
type Entry struct {
	ExecutionID string
	UserID      string
	Channel     campaign.Channel
	// Device identifies one push device of the recipient (a digest of
	// its app and token); empty for email, SMS and a push recipient
	// excluded before its devices were looked at.
	Device     string
	CampaignID string
	Version    int
	// Proof marks the entry of a proof send (Version 0: an unactivated
	// draft), not a delivery.
	Proof      bool
	State      State
	Outcome    Outcome
	MessageID  string
	Token      string
	ClaimedAt  time.Time
	FinishedAt time.Time
}

// Ledger records one entry per (execution, recipient, channel).
type Ledger interface {
	// Claim creates e in state Claimed unless an entry for its key exists.
	// It returns claimed=true when it created it; otherwise the existing
	// entry.
	Claim(ctx context.Context, t tenant.Tenant, e Entry) (existing Entry, claimed bool, err error)
	// Finish records e's outcome, provided the entry is still claimed with
	// e.Token; it returns derrors.Conflict otherwise.
	Finish(ctx context.Context, t tenant.Tenant, e Entry) error
	// Release deletes a claim held with e.Token, after a failure that
	// certainly sent nothing, so a retry may claim it again.
	Release(ctx context.Context, t tenant.Tenant, e Entry) error
}

// Header is an extra email header.
type Header struct {
	Name  string
	Value string
}

// Email is a rendered email ready for the provider.
type Email struct {
	// From is the formatted From header, `"Name" <address>`.
	From    string
	To      string
	BCC     []string
	ReplyTo []string
	// Headers are extra headers (List-Unsubscribe, List-Unsubscribe-Post).
	Headers          []Header
	Subject          string
	HTML             string
	Text             string
	ConfigurationSet string
	// Tags are provider message tags (campaign and execution ids).
	Tags map[string]string
}

// Mailer sends email.
type Mailer interface {
	// SendEmail sends e and returns the provider's message id. It returns
	// a derrors.Throttled error when the provider refused the message for
	// now (nothing was sent, a retry may succeed); any other error is a
	// final refusal.
	SendEmail(ctx context.Context, e Email) (messageID string, err error)
}

// SMS types, as SNS names them.
const (
	SMSTransactional = "Transactional"
	SMSPromotional   = "Promotional"
)

// SMS is a rendered text message ready for the provider.
type SMS struct {
	// To is an E.164 number.
	To   string
	Body string
	// Type is SMSTransactional or SMSPromotional.
	Type              string
	SenderID          string
	OriginationNumber string
}

// SMSSender sends text messages.
type SMSSender interface {
	// SendSMS sends m and returns the provider's message id. It returns a
	// derrors.Throttled error when nothing was sent and a retry may
	// succeed; any other error is a final refusal.
	SendSMS(ctx context.Context, m SMS) (messageID string, err error)
	// OptedOut reports whether the number opted out of SMS at the
	// provider. An error means the answer is unknown (retry later).
	OptedOut(ctx context.Context, phone string) (bool, error)
}

// Push errors a Pusher returns (wrapped).
var (
	// ErrInvalidToken: the platform refused the token or the endpoint is
	// disabled. Nothing was sent; retrying is pointless.
	ErrInvalidToken = errors.New("push: invalid token or disabled endpoint")
	// ErrEndpointGone: the endpoint no longer exists; create it again.
	ErrEndpointGone = errors.New("push: endpoint does not exist")
)

// Pusher sends mobile push notifications through platform endpoints.
type Pusher interface {
	// Endpoint returns the enabled endpoint of token in the platform
	// application appARN, creating it if needed (idempotent). It returns
	// ErrInvalidToken when the platform refuses the token, a
	// derrors.Throttled error when a retry may succeed.
	Endpoint(ctx context.Context, appARN, token string) (endpointARN string, err error)
	// Push publishes message (an SNS MessageStructure "json" document) to
	// the endpoint. It returns ErrInvalidToken for a disabled endpoint,
	// ErrEndpointGone for a deleted one, derrors.Throttled to retry.
	Push(ctx context.Context, endpointARN, message string) (messageID string, err error)
}

// Suppressions reads the tenant's suppression list.
type Suppressions interface {
	// GetSuppression returns the entry of a normalized address or
	// derrors.NotFound.
	GetSuppression(ctx context.Context, t tenant.Tenant, ch suppression.Channel, addr string) (suppression.Entry, error)
}

// Devices updates the push devices stored on profiles.
type Devices interface {
	// Update is profile.Store's Update.
	Update(ctx context.Context, t tenant.Tenant, id profile.Identity, fn func(*profile.Profile) error) (profile.Profile, error)
}

// Campaigns reads what Dispatch needs from the campaign store.
type Campaigns interface {
	GetVersion(ctx context.Context, t tenant.Tenant, campaignID string, number int) (campaign.Version, error)
	GetConfig(ctx context.Context, t tenant.Tenant, id string) (campaign.ChannelConfig, error)
}

// Profiles reads stored profiles.
type Profiles interface {
	BatchGet(ctx context.Context, t tenant.Tenant, ids []profile.Identity) (map[profile.Identity]profile.Profile, error)
}
