// Package delivery sends an execution's messages: for each recipient of a
// Job it resolves the profile and address, renders the campaign version's
// content, sends through the channel's provider and records exactly one
// outcome in the delivery ledger.
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
	"time"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/profile"
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
	// Profile holds attributes that override the stored ones for
	// rendering this message only.
	Profile map[string]any `json:"profile,omitempty"`
	// Context is the call's real-time data for this recipient.
	Context map[string]any `json:"context,omitempty"`
}

// Outcome is how a recipient's delivery ended: "sent", "excluded:<reason>"
// or "failed:<reason>".
type Outcome string

// Outcomes.
const (
	Sent              Outcome = "sent"
	ExcludedNoAddress Outcome = "excluded:no_address"
	ExcludedNoConsent Outcome = "excluded:no_consent"
	FailedRender      Outcome = "failed:render_error"
	FailedInvalidAddr Outcome = "failed:invalid_address"
	FailedRejected    Outcome = "failed:rejected"
	FailedInterrupted Outcome = "failed:interrupted"
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
	CampaignID  string
	Version     int
	State       State
	Outcome     Outcome
	MessageID   string
	Token       string
	ClaimedAt   time.Time
	FinishedAt  time.Time
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

// Email is a rendered email ready for the provider.
type Email struct {
	// From is the formatted From header, `"Name" <address>`.
	From             string
	To               string
	ReplyTo          []string
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

// Campaigns reads what Dispatch needs from the campaign store.
type Campaigns interface {
	GetVersion(ctx context.Context, t tenant.Tenant, campaignID string, number int) (campaign.Version, error)
	GetConfig(ctx context.Context, t tenant.Tenant, id string) (campaign.ChannelConfig, error)
}

// Profiles reads stored profiles.
type Profiles interface {
	BatchGet(ctx context.Context, t tenant.Tenant, ids []profile.Identity) (map[profile.Identity]profile.Profile, error)
}
