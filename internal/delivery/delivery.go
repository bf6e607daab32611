// Package delivery sends an execution's messages: for each recipient of a
// Job it resolves the profile and address, applies consent and the
// suppression list, renders the campaign version's content, sends through
// the channel's provider (SES email, SNS SMS, SNS mobile push) and records
// exactly one outcome in the delivery ledger (per device, for push).
//
// The rules, in order, each ending the recipient with the outcome named:
//
//   - marketing (not proofs), email or SMS, of a tenant whose reputation
//     guard paused the channel (see package reputation):
//     excluded:reputation_paused, before the recipient or the configuration
//     is looked at
//   - a recipient whose local time is inside the configuration's quiet
//     hours (marketing; transactional only when configured; never
//     proofs): excluded:quiet_hours when the configuration drops, else
//     no outcome yet — deferred to the window's end (see quiet.go)
//   - an email configuration whose From address is outside the sender
//     identity the deployment allows (Dispatcher.Allowed):
//     failed:unauthorized_sender, whatever the recipient
//   - marketing (not proofs) without consent for the channel: excluded:no_consent
//   - no address (email, phone number, enabled device of the campaign's
//     app): excluded:no_address; a malformed one, or a number the SMS
//     configuration's defaultRegion cannot make a possible E.164 number
//     (Dispatcher.NormalizePhone): failed:invalid_address
//   - a suppressed address (see suppression.Blocks): excluded:suppressed
//   - marketing SMS to a number opted out at SNS: excluded:opted_out
//   - content that fails to render: failed:render_error; an SMS over the
//     configuration's segment cap: failed:too_long; a push payload over
//     4 KB: failed:payload_too_large
//   - a push device of an app whose platform application the deployment
//     does not allow: failed:unauthorized_application (no endpoint is
//     made, nothing published)
//   - an address another recipient of the same execution already has:
//     excluded:duplicate
//   - marketing (not proofs, not a campaign exempt from frequency caps)
//     to a profile one of the tenant's frequency caps has no room left
//     for (see package capping and capping.go): excluded:frequency_cap
//   - a push token the platform refuses: excluded:invalid_token (the
//     device is disabled on the profile)
//   - the provider's answer decides the rest (see Failure): sent,
//     failed:<code>, ambiguous:<cause>, or a retry.
//
// No exclusion or failure before the send calls the provider.
//
// # Never twice
//
// Every recipient has a ledger entry keyed by (execution, namespace,
// userId, channel, device). Before a send the dispatcher claims the entry
// with a conditional write, then marks the attempt as started (in flight)
// with a second conditional write just before the provider call, so a
// claim whose attempt never started can be taken over and sent safely. The
// provider call is never retried by the SDK: Herald decides every attempt.
// An answer that proves nothing was taken (never reached, throttled,
// account paused) ends the attempt and the message comes back later with
// backoff; a refusal fails the recipient with the provider's code; no
// complete answer after the request was written, or a 5xx, is ambiguous —
// recorded as ambiguous:<cause> and never re-sent blindly. A redelivered
// job finds the entry: done entries are skipped, a fresh attempt in flight
// elsewhere is waited for, and an attempt in flight older than the stale
// age (well past Dispatch's timeout, so its invocation is gone) is closed
// as ambiguous:interrupted.
//
// Two recipients of one execution that resolve to the same address get one
// message: the first to claim the address sends, the other is
// excluded:duplicate.
//
// # Never lost
//
// Retries are bounded by a deadline from the recipient's first claim (or
// the job's first receipt): past it, a recipient still refused for now is
// closed as failed:throttled, failed:provider_unavailable or failed:<code>.
// Messages that reach the dead-letter queue anyway are closed by Abandon
// (failed:retries_exhausted) and parked for a redrive.
//
// # Counted
//
// Every recipient's final outcome is tallied in its execution's counters
// with an idempotent conditional update, so a status is read from a few
// counter items, never from the ledger, and adds up whatever was repeated.
package delivery

import (
	"context"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/capping"
	"github.com/heraldhq/herald/internal/logsafe"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/internal/suppression"
	"github.com/heraldhq/herald/internal/tenant"
)

// LedgerV2 is the ledger key version of jobs made by this code: entries
// keyed with the recipient's namespace. Jobs without it (queued before the
// upgrade) also check the entries of the earlier key, which had none.
const LedgerV2 = 2

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
	// recipient that carries none of its own: decoded once, its members
	// in the order the call wrote them (as Handlebars iterates them).
	Context render.Object `json:"context,omitzero"`
	// Channel is the campaign version's channel; jobs queued before it
	// was added lack it.
	Channel campaign.Channel `json:"channel,omitempty"`
	// Ledger is the ledger key version (LedgerV2); zero for jobs queued
	// before it existed.
	Ledger int `json:"ledger,omitempty"`
	// Reconcile marks the second look at an ambiguous email (see
	// Dispatcher.ReconcileAfter): one recipient, sent once more only if
	// no event has settled it meanwhile.
	Reconcile bool `json:"reconcile,omitempty"`
	// Shards is how many counter items the execution's tally is spread
	// over (1 when unset); large audience executions use more so no
	// counter item grows hot or large.
	Shards int `json:"shards,omitempty"`
	// DeferUntil, on a job of recipients deferred by quiet hours, is the
	// end of their window: the job is not delivered before it (see
	// quiet.go).
	DeferUntil time.Time `json:"deferUntil,omitzero"`
	// Delay holds the job back on the queue this long (SQS DelaySeconds,
	// at most MaxDelay) when it is put there; it is not part of the
	// message.
	Delay time.Duration `json:"-"`
	// Receipt says how the queue delivered this job; it is not part of
	// the message.
	Receipt Receipt `json:"-"`
}

// Receipt is what the queue says about one delivery of a job.
type Receipt struct {
	// Count is how many times the message has been received, this time
	// included (SQS ApproximateReceiveCount); 0 when unknown.
	Count int
	// First is when the message was first received (SQS
	// ApproximateFirstReceiveTimestamp): the origin of the retry deadline
	// of recipients that have no claim yet.
	First time.Time
	// Sent is when the message was put on the queue (SQS SentTimestamp),
	// and Delay how long it was meant to wait there (its DelayAttribute):
	// the dispatch lag is measured from Sent plus Delay. Zero when
	// unknown.
	Sent  time.Time
	Delay time.Duration
}

// DelayAttribute is the message attribute (a Number of seconds) carrying
// a job's Delay on the queue, so that its deliberate wait is not counted
// as dispatch lag.
const DelayAttribute = "heraldDelaySeconds"

// Recipient is one person to send to, with what the trigger call said
// about them.
type Recipient struct {
	// Type is TypeAEP (look up the stored profile) or TypeExternal.
	Type      string `json:"type"`
	UserID    string `json:"userId"`
	Namespace string `json:"namespace"`
	// Email is channelData.emailAddress from the call, if any.
	Email string `json:"email,omitempty"`
	// Phone is channelData.mobilePhoneNumber from the call, as written
	// ("+14155550100", "415-555-0100"): Dispatch normalizes it to E.164
	// with the SMS configuration's defaultRegion.
	Phone string `json:"phone,omitempty"`
	// Push is channelData.pushInfo from the call: the one device to push
	// to instead of the profile's registered devices.
	Push *PushTarget `json:"push,omitempty"`
	// Profile holds attributes that override the stored ones for
	// rendering this message only, decoded once, in the call's order.
	Profile render.Object `json:"profile,omitzero"`
	// Context is the call's real-time data for this recipient, decoded
	// once, in the call's order.
	Context render.Object `json:"context,omitzero"`
	// Locale, when set (a proof's locale), chooses the content variant
	// before anything else does (see RecipientLocale).
	Locale string `json:"locale,omitempty"`
	// Treatment, when set (a proof's treatment), chooses the content
	// experiment's treatment instead of the recipient's assignment.
	Treatment string `json:"treatment,omitempty"`
}

// Recipient types, as the AJO execution API names them.
const (
	// TypeAEP recipients have a stored profile, looked up by namespace and
	// userId.
	TypeAEP = "aep"
	// TypeExternal recipients are known only from the call.
	TypeExternal = "external"
)

// PushTarget is a device named in the call.
type PushTarget struct {
	AppID    string `json:"appId"`
	Platform string `json:"platform,omitempty"`
	Token    string `json:"token"`
}

// Outcome is how a recipient's delivery ended: "sent", "excluded:<reason>",
// "failed:<reason>" or "ambiguous:<cause>".
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
	ExcludedInvalidToken Outcome = "excluded:invalid_token"
	// ExcludedDuplicate: another recipient of the same execution has the
	// same address and got the message.
	ExcludedDuplicate Outcome = "excluded:duplicate"
	// ExcludedReputationPaused: a marketing recipient of a tenant whose
	// reputation guard paused the channel (its bounce or complaint rate
	// crossed a threshold); nothing was sent.
	ExcludedReputationPaused Outcome = "excluded:reputation_paused"
	// ExcludedHoldout: the recipient is in the holdout of the campaign's
	// content experiment (no treatment's share); nothing is sent, by
	// design, and the ledger records treatment campaign.Holdout.
	ExcludedHoldout       Outcome = "excluded:holdout"
	FailedRender          Outcome = "failed:render_error"
	FailedInvalidAddr     Outcome = "failed:invalid_address"
	FailedTooLong         Outcome = "failed:too_long"
	FailedPayloadTooLarge Outcome = "failed:payload_too_large"
	// FailedUnauthorizedSender: the configuration's From address is
	// outside the sender identity the deployment allows; nothing was sent.
	FailedUnauthorizedSender Outcome = "failed:unauthorized_sender"
	// FailedUnauthorizedApplication: the device's app sends through a
	// platform application the deployment does not allow; no endpoint was
	// made and nothing was published.
	FailedUnauthorizedApplication Outcome = "failed:unauthorized_application"
	// FailedRejected: the provider refused the message without a code
	// Herald could name.
	FailedRejected Outcome = "failed:rejected"
	// FailedThrottled: the provider kept asking us to slow down until the
	// retry deadline.
	FailedThrottled Outcome = "failed:throttled"
	// FailedUnavailable: the provider could not be reached until the
	// retry deadline.
	FailedUnavailable Outcome = "failed:provider_unavailable"
	// FailedStoreUnavailable: the ledger could not record a claim until
	// the retry deadline (nothing was sent).
	FailedStoreUnavailable Outcome = "failed:store_unavailable"
	// FailedRetriesExhausted: the job reached the dead-letter queue with
	// the recipient still open (nothing was sent).
	FailedRetriesExhausted Outcome = "failed:retries_exhausted"
	// FailedInterrupted is what entries left by a crash were closed as
	// before ambiguous outcomes existed; it is no longer written.
	FailedInterrupted Outcome = "failed:interrupted"
	// AmbiguousInterrupted: an attempt was in flight when its invocation
	// died; the provider may or may not have the message.
	AmbiguousInterrupted Outcome = "ambiguous:interrupted"
)

// CodeForeignEndpoint is the refusal code (failed:foreign_endpoint) of a
// push whose endpoint, as the provider made it, is not one of the app's
// platform application: Herald does not publish to it.
const CodeForeignEndpoint = "foreign_endpoint"

// Failed returns the outcome "failed:<code>".
func Failed(code string) Outcome { return Outcome("failed:" + code) }

// Ambiguous returns the outcome "ambiguous:<cause>".
func Ambiguous(cause string) Outcome { return Outcome("ambiguous:" + cause) }

// Kind is the outcome's first part: "sent", "excluded", "failed" or
// "ambiguous".
func (o Outcome) Kind() string {
	k, _, _ := strings.Cut(string(o), ":")
	return k
}

// Reason is the outcome's code after the colon ("" for sent).
func (o Outcome) Reason() string {
	_, r, _ := strings.Cut(string(o), ":")
	return r
}

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
	Claimed State = "claimed" // the recipient is being delivered
	Done    State = "done"    // the outcome is final
)

// Key names one ledger entry: a recipient on a channel, and for push one
// of its devices.
type Key struct {
	ExecutionID string
	Namespace   string
	UserID      string
	Channel     campaign.Channel
	// Device identifies one push device of the recipient (a digest of
	// its app and token); empty for email, SMS and a push recipient
	// closed before its devices were looked at.
	Device string
}

// Recipient returns the key without its device: the recipient's.
func (k Key) Recipient() Key { k.Device = ""; return k }

// Entry is the ledger's record for one Key.
type Entry struct {
	Key
	CampaignID string
	Version    int
	// Proof marks the entry of a proof send (Version 0: an unactivated
	// draft), not a delivery.
	Proof   bool
	State   State
	Outcome Outcome
	// Token is the claim's holder: the attempt that may write it.
	Token string
	// InFlight is set while a provider call may be under way: from just
	// before the call until its answer is recorded.
	InFlight bool
	// Attempts counts provider calls started; AttemptAt is the last
	// one's start.
	Attempts  int
	AttemptAt time.Time
	// LastCode is the code of the last attempt that ended without an
	// outcome (a throttle, say), kept for the deadline's outcome.
	LastCode  string
	MessageID string
	// Variant is the content the message was rendered from: the locale
	// tag of a content variant, campaign.DefaultVariant, or empty when
	// nothing was rendered (and for entries written before variants).
	Variant string
	// Treatment is the content experiment's treatment the recipient was
	// assigned (campaign.Holdout for the holdout), empty for content
	// without experiment. Variant still names the locale variant of the
	// treatment's content.
	Treatment string
	// Tag is the opaque value an email carries so a provider event can
	// find this entry: a digest of the key, never an address.
	Tag string
	// Legacy asks the ledger to treat an entry under the key of jobs
	// queued before LedgerV2 (no namespace) as this one.
	Legacy bool
	// LegacyKey marks an entry the ledger found under that earlier key:
	// writes to it go there. Such an entry, when claimed, counts as an
	// attempt in flight since its claim (the earlier code claimed just
	// before sending).
	LegacyKey  bool
	ClaimedAt  time.Time
	FinishedAt time.Time
	// DeliveryState is what the provider's events said after the send
	// (see package feedback): "" until the first event, then sent,
	// delayed, delivered, opened, clicked, bounced, complained, rejected
	// or failed. It only moves forward.
	DeliveryState string
	// Events are the kinds of feedback events recorded for the entry,
	// sorted; DeliveryState follows from them alone.
	Events []string
	// FeedbackRev counts feedback writes: each is conditional on the
	// revision it read, so two events never undo each other.
	FeedbackRev int
}

// Ledger records one entry per Key and the execution's tally. Every write
// is conditional, so a repeated or concurrent call never undoes another's.
type Ledger interface {
	// Claim creates e (state Claimed, not in flight) unless an entry for
	// its key exists. It returns claimed=true when it created it, or when
	// the existing entry holds e.Token (a retry of this very claim);
	// otherwise the existing entry.
	Claim(ctx context.Context, t tenant.Tenant, e Entry) (existing Entry, claimed bool, err error)
	// ClaimAndStart claims a new entry and starts its first attempt in one
	// atomic write: it makes e.Tag the owner of the address digest addr
	// in e's execution (unless e.Tag owns it already), creates e (state
	// Claimed, in flight) where no entry for its key exists and, with
	// cap, writes the recipient's frequency cap counter as planned. When
	// the address or the entry is taken it writes nothing and returns
	// ClaimTaken: the caller goes the long way (ClaimAddress, Claim,
	// Start), which tells a duplicate address from a redelivery. When
	// only the counter changed since it was read, it writes nothing and
	// returns CapChanged: plan again. An entry that asks for the key of
	// jobs queued before LedgerV2 (e.Legacy) is never claimed this way.
	ClaimAndStart(ctx context.Context, t tenant.Tenant, e Entry, addr string, cap *CapWrite) (ClaimResult, error)
	// Start marks the attempt of e in flight: it sets e.Token, InFlight,
	// AttemptAt and Attempts provided the entry is claimed, not in flight
	// and held by token from (a claim of ours, or one whose attempt ended
	// without an outcome). derrors.Conflict otherwise.
	Start(ctx context.Context, t tenant.Tenant, e Entry, from string) error
	// Finish records e's outcome (state Done) provided the entry is
	// claimed with e.Token; derrors.Conflict otherwise.
	Finish(ctx context.Context, t tenant.Tenant, e Entry) error
	// Release ends e's attempt without an outcome (the provider certainly
	// did not take the message), keeping the claim with e.LastCode,
	// provided the entry is claimed with e.Token; derrors.Conflict
	// otherwise.
	Release(ctx context.Context, t tenant.Tenant, e Entry) error
	// Close records e (state Done) when no entry exists or the entry is
	// claimed without an attempt in flight. Otherwise it returns
	// closed=false and the existing entry.
	Close(ctx context.Context, t tenant.Tenant, e Entry) (existing Entry, closed bool, err error)
	// ClaimAddress makes owner the recipient of execution exec that sends
	// to the address digest addr on channel ch, unless another owns it.
	// It returns the owner: owner itself, or the one that got there first.
	ClaimAddress(ctx context.Context, t tenant.Tenant, exec string, ch campaign.Channel, addr, owner string) (string, error)
	// Entries returns the entries of one recipient (every device for
	// push; k.Device is ignored).
	Entries(ctx context.Context, t tenant.Tenant, k Key) ([]Entry, error)
	// Reopen deletes a done entry provided it still has e.Outcome (a
	// redrive withdrawing failed:retries_exhausted); derrors.Conflict
	// otherwise.
	Reopen(ctx context.Context, t tenant.Tenant, e Entry) error
	// Retry reopens a done entry for one more attempt — the
	// reconciliation of an ambiguous email no provider event confirmed:
	// it becomes a claim held by e.Token, not in flight, without outcome,
	// claimed at e.ClaimedAt, provided it is still done with outcome was;
	// derrors.Conflict otherwise (an event confirmed it, or another
	// reconciliation got there first).
	Retry(ctx context.Context, t tenant.Tenant, e Entry, was Outcome) error
	// Counted returns the outcomes the counters of execution exec (in
	// shard) hold for the given recipient tags; tags not counted yet are
	// absent.
	Counted(ctx context.Context, t tenant.Tenant, exec string, shard int, tags []string) (map[string]Outcome, error)
	// Tally records recipient tag's outcome o in execution exec's
	// counters (shard of the execution's counter items), moving it from
	// the outcome it had, if any. Repeating it changes nothing; o == ""
	// removes the recipient from the counters. A non-empty label (see
	// Label) also counts the outcome under that variant (VariantCount),
	// in the same write; the label is kept with the recipient's outcome,
	// so moving or removing it moves the variant's count too.
	Tally(ctx context.Context, t tenant.Tenant, exec string, shard int, tag string, o Outcome, label string) error
	// TallyMany is Tally for several recipients of one counter item at
	// once (one write when none of them is counted yet, the common case).
	// It is all or nothing only in effect: after an error, some of them
	// may be counted, and repeating it changes those no further.
	TallyMany(ctx context.Context, t tenant.Tenant, exec string, shard int, counts []Count) error
}

// ClaimResult is what Ledger.ClaimAndStart did.
type ClaimResult int

const (
	// ClaimStarted: the claim is made and the attempt started.
	ClaimStarted ClaimResult = iota
	// ClaimTaken: the address or the entry is taken; nothing written.
	ClaimTaken
	// CapChanged: the frequency cap counter is no longer the revision
	// planned from; nothing written.
	CapChanged
)

// CapWrite is a frequency cap counter written with a claim: Counter as
// revision Counter.Rev+1, provided the stored revision is still
// Counter.Rev (see capping.Plan). Attempt numbers the plans of one
// claim, so that each write is a request of its own.
type CapWrite struct {
	Key     capping.Key
	Counter capping.Counter
	Attempt int
}

// Count is a recipient's outcome for the execution's counters: its tag
// (Tag of the recipient's key), its outcome and its variant label (see
// Label; "" counts no variant).
type Count struct {
	Tag     string
	Outcome Outcome
	Label   string
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
	// Tags are provider message tags: campaign and execution ids, and
	// the ledger entry's opaque tag (TagName).
	Tags map[string]string
}

// Mailer sends email.
type Mailer interface {
	// SendEmail sends e once (never retried by the client) and returns
	// the provider's message id. A failure is a *SendError saying whether
	// the provider may have taken the message.
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
	// SendSMS sends m once (never retried by the client) and returns the
	// provider's message id; a failure is a *SendError.
	SendSMS(ctx context.Context, m SMS) (messageID string, err error)
	// OptedOut reports whether the number opted out of SMS at the
	// provider. An error means the answer is unknown (retry later).
	OptedOut(ctx context.Context, phone string) (bool, error)
}

// Push errors a Pusher returns (wrapped).
var (
	// ErrInvalidToken: the platform refused the token or the endpoint is
	// disabled. Nothing was sent; retrying is pointless.
	ErrInvalidToken error = logsafe.Text("push: invalid token or disabled endpoint")
	// ErrEndpointGone: the endpoint no longer exists; create it again.
	ErrEndpointGone error = logsafe.Text("push: endpoint does not exist")
)

// Pusher sends mobile push notifications through platform endpoints.
type Pusher interface {
	// Endpoint returns the enabled endpoint of token in the platform
	// application appARN, creating it if needed (idempotent, so the
	// client may retry it). It returns ErrInvalidToken when the platform
	// refuses the token, a *SendError (NotSent, Throttled, Held) when a
	// retry may succeed.
	Endpoint(ctx context.Context, appARN, token string) (endpointARN string, err error)
	// Push publishes message (an SNS MessageStructure "json" document) to
	// the endpoint once (never retried by the client). It returns
	// ErrInvalidToken for a disabled endpoint, ErrEndpointGone for a
	// deleted one (both: nothing was sent), a *SendError otherwise.
	Push(ctx context.Context, endpointARN, message string) (messageID string, err error)
}

// Suppressions reads the tenant's suppression list.
type Suppressions interface {
	// GetSuppression returns the entry of a normalized address or
	// derrors.NotFound.
	GetSuppression(ctx context.Context, t tenant.Tenant, ch suppression.Channel, addr string) (suppression.Entry, error)
	// GetSuppressions returns the entries of the normalized addresses
	// that are on the list (one read for a job's recipients); an address
	// not on it is not in the map.
	GetSuppressions(ctx context.Context, t tenant.Tenant, ch suppression.Channel, addrs []string) (map[string]suppression.Entry, error)
}

// Devices updates the push devices stored on profiles.
type Devices interface {
	// Update is profile.Store's Update.
	Update(ctx context.Context, t tenant.Tenant, id profile.Identity, fn func(*profile.Profile) error) (profile.Profile, error)
}

// EndpointOwner is the device a platform endpoint Herald made belongs
// to: what an SNS endpoint event, which names only the endpoint, needs to
// find the device. It holds no token.
type EndpointOwner struct {
	Tenant    tenant.Tenant
	Namespace string
	ProfileID string
	// Device is the device's DeviceKey.
	Device string
}

// EndpointOwners records who owns the platform endpoints Dispatch makes.
// It is written only when an endpoint is made and stored on a profile,
// never per send.
type EndpointOwners interface {
	// PutEndpointOwner records (or replaces) the owner of endpointARN.
	PutEndpointOwner(ctx context.Context, endpointARN string, o EndpointOwner) error
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
