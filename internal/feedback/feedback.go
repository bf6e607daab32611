// Package feedback is how Herald hears back: it turns the providers'
// events about messages already sent — SES email events, SNS SMS delivery
// status, SNS push delivery failures — into the ledger entry's delivery
// state, suppressions, report counters and notices for the tenant's
// feedback webhook; and the push platforms' endpoint events into the
// state of the device owning the endpoint (endpoints.go).
//
// # Finding the entry
//
// An event names its ledger entry by a reference the send left with the
// provider: the email's opaque tag (delivery.TagName, a digest of the
// entry's key, never an address) or, for SMS and push, the provider's
// message id. Never by searching for an address.
//
// # Forward only, in any order, once
//
// An entry records the set of event kinds it has seen; its delivery state
// is a function of that set alone (State), so events arriving out of
// order, or several times, converge to the same record: a delivery after
// a bounce stays bounced, a click implies an open, and an event already
// in the set writes nothing. Each write is conditional on the feedback
// revision it read, so two concurrent events never undo each other.
// Report counters move in the same transaction as the entry, so they count
// each kind once per entry.
//
// An email whose send was ambiguous (ambiguous:<cause>) and whose SES
// event proves SES took it becomes sent; the counters record it as
// confirmed, which the status and reports move from ambiguous to sent.
//
// # Reputation guard
//
// Each recorded event may also count in its tenant's reputation window for
// the channel (package reputation): an email's SEND event or an SMS's
// first delivery status counts a send, a bounce (hard or soft, or an SMS
// failure) a bounce, a complaint a complaint, each once per message and in
// the same transaction. The window is then judged (from a copy cached a
// minute, plus what this function counted since) and, past the thresholds,
// the tenant's channel is paused for marketing.
//
// # Suppression
//
// A permanent bounce or a complaint puts the address on the tenant's
// suppression list (reasons bounce, complaint) in the same transaction as
// the entry. Transient bounces are counted per address in a fixed window
// and suppress once Rules.SoftBounceLimit of them fall in one.
package feedback

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/metrics"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/reputation"
	"github.com/heraldhq/herald/internal/suppression"
	"github.com/heraldhq/herald/internal/tenant"
)

// Kind is the kind of one provider event, as recorded in an entry's set.
type Kind string

// Kinds.
const (
	// Send: SES accepted the email and will try to deliver it.
	Send Kind = "send"
	// Delivery: the recipient's server (or phone carrier) took it.
	Delivery Kind = "delivery"
	// Delay: delivery is delayed; SES keeps trying.
	Delay Kind = "delay"
	// Bounce: a permanent (hard) bounce.
	Bounce Kind = "bounce"
	// SoftBounce: a transient or undetermined bounce.
	SoftBounce Kind = "soft_bounce"
	// Complaint: the recipient marked the email as spam.
	Complaint Kind = "complaint"
	// Reject: SES refused to deliver it (a virus).
	Reject Kind = "reject"
	// RenderingFailure: an SES template failed to render.
	RenderingFailure Kind = "rendering_failure"
	// Failure: the SMS carrier or the push platform did not deliver it.
	Failure Kind = "failure"
	// Open and Click: the recipient opened the email, clicked a link.
	Open  Kind = "open"
	Click Kind = "click"
	// EndpointDeleted and EndpointUpdated: a push platform endpoint was
	// deleted or changed (SNS, or the platform, disabled it, say). They
	// name no message, so no entry records them: they act on the device
	// that owns the endpoint (see ApplyEndpoint).
	EndpointDeleted Kind = "endpoint_deleted"
	EndpointUpdated Kind = "endpoint_updated"
)

// Delivery states, from the highest precedence down: the state of a set
// of kinds is that of its highest kind.
const (
	StateComplained = "complained"
	StateBounced    = "bounced"
	StateRejected   = "rejected"
	StateFailed     = "failed"
	StateClicked    = "clicked"
	StateOpened     = "opened"
	StateDelivered  = "delivered"
	StateDelayed    = "delayed"
	StateSent       = "sent"
)

// precedence lists the kinds by the state they lead to, highest first.
var precedence = []struct {
	kind  Kind
	state string
}{
	{Complaint, StateComplained}, {Bounce, StateBounced}, {SoftBounce, StateBounced}, {Reject, StateRejected},
	{RenderingFailure, StateFailed}, {Failure, StateFailed}, {Click, StateClicked}, {Open, StateOpened},
	{Delivery, StateDelivered}, {Delay, StateDelayed}, {Send, StateSent},
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	for _, p := range precedence {
		if p.kind == k {
			return true
		}
	}
	return false
}

// State is the delivery state of an entry that has seen kinds: a pure
// function of the set, so order and repetition do not matter.
func State(kinds []string) string {
	for _, p := range precedence {
		if slices.Contains(kinds, string(p.kind)) {
			return p.state
		}
	}
	return ""
}

// Counters a feedback write adds one to, each at most once per entry.
const (
	CountDelivered   = "delivered"
	CountDelayed     = "delayed"
	CountBouncedHard = "bounced_hard"
	CountBouncedSoft = "bounced_soft"
	CountComplained  = "complained"
	CountRejected    = "rejected"
	CountFailed      = "failed_delivery"
	CountOpened      = "opened"
	CountClicked     = "clicked"
	// CountConfirmed, followed by the ambiguous outcome's cause, counts
	// ambiguous sends an event proved sent ("confirmed:timeout").
	CountConfirmed = "confirmed:"
)

// counters returns the counters that adding kind k to seen increments.
func counters(seen []string, k Kind) []string {
	has := func(k Kind) bool { return slices.Contains(seen, string(k)) }
	var out []string
	switch k {
	case Delivery:
		out = append(out, CountDelivered)
	case Delay:
		out = append(out, CountDelayed)
	case Bounce:
		out = append(out, CountBouncedHard)
	case SoftBounce:
		out = append(out, CountBouncedSoft)
	case Complaint:
		out = append(out, CountComplained)
	case Reject:
		out = append(out, CountRejected)
	case RenderingFailure, Failure:
		if !has(RenderingFailure) && !has(Failure) {
			out = append(out, CountFailed)
		}
	case Click:
		out = append(out, CountClicked)
	}
	// An open, or a click (which implies one), counts one unique open.
	if (k == Open || k == Click) && !has(Open) && !has(Click) {
		out = append(out, CountOpened)
	}
	slices.Sort(out)
	return out
}

// Ref is how an event names its ledger entry.
type Ref struct {
	// Tag is the email's delivery.TagName tag.
	Tag string
	// MessageID is the provider's message id (SMS, push).
	MessageID string
}

// RefOf is the reference provider events name e by: its tag for email
// (SES events carry it), the provider's message id for SMS and push once
// sent; the zero Ref while it has none.
func RefOf(e delivery.Entry) Ref {
	switch {
	case e.Channel == campaign.Email:
		return Ref{Tag: e.Tag}
	default:
		return Ref{MessageID: e.MessageID}
	}
}

// Key is the reference as one string, "t#<tag>" or "m#<message id>" ("" for
// the zero Ref): what the stores index entries by.
func (r Ref) Key() string {
	switch {
	case r.Tag != "":
		return "t#" + r.Tag
	case r.MessageID != "":
		return "m#" + r.MessageID
	}
	return ""
}

func (r Ref) String() string {
	if r.Tag != "" {
		return "tag:" + r.Tag
	}
	return "message:" + r.MessageID
}

// Event is one provider event about one message.
type Event struct {
	// ID names the event the same way every time the provider sends it,
	// so a repeated event is recognised (and its webhook notice
	// de-duplicated).
	ID      string
	Channel campaign.Channel
	Kind    Kind
	Ref     Ref
	// At is when the event happened, per the provider.
	At time.Time
	// Addresses are the recipients the event concerns: bounced or
	// complaining addresses (email), the destination number (SMS). Never
	// logged.
	Addresses []string
	// BounceType and BounceSubType are SES's ("Permanent", "General").
	BounceType, BounceSubType string
	// Code and Reason describe a failure, a bounce or a rejection (SMTP
	// status, the carrier's response), for reports and webhooks.
	Code, Reason string
	// Parts is how many SMS parts were billed; Price their price in USD.
	Parts int
	Price float64
	// Endpoint is the platform endpoint of an EndpointDeleted or
	// EndpointUpdated event, which has no Ref.
	Endpoint string
}

// EventID is a stable id for the event of a source with the given
// identity parts.
func EventID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Change is one conditional feedback write of an entry.
type Change struct {
	// Entry is the entry as read (its FeedbackRev is the condition);
	// Events and DeliveryState are the new set and state.
	Entry         delivery.Entry
	Events        []string
	DeliveryState string
	// Confirm sets the outcome of an ambiguous entry to sent.
	Confirm bool
	// Suppress, when set, puts the address on the suppression list
	// (keeping an existing entry) in the same transaction.
	Suppress *suppression.Entry
	// Counters are added one each, in the execution's and the campaign's
	// report counters (all-time and the hour of At).
	Counters []string
	// Reputation counters (reputation.CountSends, …) are added one each
	// in the tenant's window of the entry's channel, the hour of At.
	Reputation []string
	At         time.Time
}

// Store is where feedback reads and writes.
type Store interface {
	// FindEntry returns the tenant and the ledger entry ref names, or
	// derrors.NotFound (the reference index may lag a write by a moment).
	FindEntry(ctx context.Context, ref Ref) (tenant.Tenant, delivery.Entry, error)
	// Entry reads an entry again, consistently.
	Entry(ctx context.Context, t tenant.Tenant, k delivery.Key) (delivery.Entry, error)
	// Advance writes c in one transaction provided the entry's feedback
	// revision is still c.Entry.FeedbackRev; derrors.Conflict otherwise.
	Advance(ctx context.Context, t tenant.Tenant, c Change) error
	// CountSoftBounce adds one to the address's transient bounces in the
	// window starting at window and returns the new count.
	CountSoftBounce(ctx context.Context, t tenant.Tenant, ch suppression.Channel, addr string, window time.Time) (int, error)
	// AddSuppression is suppression.Store's.
	AddSuppression(ctx context.Context, t tenant.Tenant, e suppression.Entry) (suppression.Entry, bool, error)
	// The reputation guard's windows and guards.
	reputation.Store
}

// Notice is what the tenant's feedback webhook is told about one event.
type Notice struct {
	Tenant tenant.Tenant
	Event  Event
	Entry  delivery.Entry
	// Status is the feedback status: AJO's sent, delivered, bounce,
	// delay, error, and Herald's complaint, opened and clicked.
	Status string
}

// Notifier passes notices on to the tenant's webhook (queued, never
// waiting on the receiver). Notices may repeat; their event ids tell them
// apart.
type Notifier interface {
	Notify(ctx context.Context, ns []Notice) error
}

// Rules are the tenant-independent feedback settings.
type Rules struct {
	// SoftBounceLimit transient bounces of one address within
	// SoftBounceWindow suppress it (reason bounce); 0 turns it off.
	SoftBounceLimit  int
	SoftBounceWindow time.Duration
	// Grace is how long after an event its entry may still be missing
	// from the reference index (the event is retried); older events
	// whose entry is unknown are not Herald's and are dropped.
	Grace time.Duration
	// Reputation are the reputation guard's thresholds.
	Reputation reputation.Thresholds
}

// DefaultRules: 3 transient bounces in 7 days suppress; 15 minutes of
// grace; the guard's default thresholds.
var DefaultRules = Rules{SoftBounceLimit: 3, SoftBounceWindow: 7 * 24 * time.Hour, Grace: 15 * time.Minute,
	Reputation: reputation.DefaultThresholds}

// Service applies events.
type Service struct {
	Store Store
	// Devices disables push devices the platform gave up on; nil skips.
	Devices delivery.Devices
	// Endpoints finds the device owning a push endpoint, and Platform
	// reads the endpoint's state, for endpoint events; without either,
	// endpoint events are dropped as unknown.
	Endpoints EndpointOwners
	Platform  EndpointReader
	// Notifier, when set, is told about every applied event.
	Notifier Notifier
	Rules    Rules
	Now      func() time.Time
	Log      *slog.Logger
	// Metrics, when set, counts every event applied (FeedbackEvents, by
	// channel, kind and what Apply did).
	Metrics Metrics

	windows windows
}

// Metrics records the operators' metrics (*metrics.Recorder).
type Metrics interface {
	Add(m metrics.Metric, v float64, d metrics.Dims)
}

// ErrNotYet says an event's entry cannot take it yet (not found while the
// event is recent, or its outcome not recorded yet): retry it later.
var ErrNotYet = errors.New("feedback: the ledger entry is not ready for this event yet")

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

// Applied says what Apply did with one event.
type Applied string

// What Apply did.
const (
	Recorded  Applied = "recorded"  // the entry (or, for an endpoint event, the device) changed
	Repeated  Applied = "repeated"  // the entry had seen the kind already; the device needed no change
	Unknown   Applied = "unknown"   // no Herald entry: not Herald's message
	Unrelated Applied = "unrelated" // the entry is not a sent message (a proof, say)
)

// maxConflicts bounds the re-reads of an entry other events keep changing.
const maxConflicts = 8

// Apply records ev. It returns ErrNotYet (wrapped) when the event should
// be retried later, another error when the store failed.
func (s *Service) Apply(ctx context.Context, ev Event) (Applied, error) {
	a, err := s.apply(ctx, ev)
	if err == nil && s.Metrics != nil {
		// Counted once it is applied: an event retried later (ErrNotYet)
		// counts when it lands. An unknown kind is an error.
		s.Metrics.Add(metrics.FeedbackEvents, 1, metrics.Dims{Channel: string(ev.Channel), Type: string(ev.Kind), Result: string(a)})
	}
	return a, err
}

func (s *Service) apply(ctx context.Context, ev Event) (Applied, error) {
	if ev.Kind == EndpointDeleted || ev.Kind == EndpointUpdated {
		return s.ApplyEndpoint(ctx, ev)
	}
	if !ev.Kind.Valid() {
		return "", fmt.Errorf("feedback: unknown event kind %q", ev.Kind)
	}
	t, e, err := s.Store.FindEntry(ctx, ev.Ref)
	if derrors.Is(err, derrors.NotFound) {
		if s.now().Sub(ev.At) < s.rules().Grace {
			return "", fmt.Errorf("%s: %w", ev.Ref, ErrNotYet)
		}
		s.log().Info("feedback event for no Herald message", "kind", ev.Kind, "channel", ev.Channel)
		return Unknown, nil
	}
	if err != nil {
		return "", fmt.Errorf("find entry: %w", err)
	}
	for range maxConflicts {
		if e.State != delivery.Done {
			return "", fmt.Errorf("entry of %s still being sent: %w", ev.Ref, ErrNotYet)
		}
		if e.Proof || (e.Outcome.Kind() != "sent" && e.Outcome.Kind() != "ambiguous") {
			return Unrelated, nil
		}
		c, changed := s.change(e, ev)
		if !changed {
			return Repeated, s.notify(ctx, t, e, ev)
		}
		err := s.Store.Advance(ctx, t, c)
		if derrors.Is(err, derrors.Conflict) {
			if e, err = s.Store.Entry(ctx, t, e.Key); err != nil {
				return "", fmt.Errorf("read entry again: %w", err)
			}
			continue
		}
		if err != nil {
			return "", fmt.Errorf("record %s event: %w", ev.Kind, err)
		}
		e.Events, e.DeliveryState, e.FeedbackRev = c.Events, c.DeliveryState, e.FeedbackRev+1
		if c.Confirm {
			e.Outcome = delivery.Sent
		}
		if err := s.afterwards(ctx, t, e, ev); err != nil {
			return "", err
		}
		if err := s.guard(ctx, t, ev.Channel, c); err != nil {
			return "", err
		}
		return Recorded, s.notify(ctx, t, e, ev)
	}
	return "", fmt.Errorf("entry of %s: %w", ev.Ref, derrors.New(derrors.Conflict, "changed by other events %d times", maxConflicts))
}

func (s *Service) rules() Rules {
	if s.Rules == (Rules{}) {
		return DefaultRules
	}
	return s.Rules
}

// change is the write ev makes to e, if any.
func (s *Service) change(e delivery.Entry, ev Event) (Change, bool) {
	if slices.Contains(e.Events, string(ev.Kind)) {
		return Change{}, false
	}
	set := slices.Sorted(slices.Values(append(slices.Clone(e.Events), string(ev.Kind))))
	c := Change{Entry: e, Events: set, DeliveryState: State(set), Counters: counters(e.Events, ev.Kind),
		Reputation: reputationCounters(ev.Channel, e.Events, ev.Kind), At: ev.At}
	if c.At.IsZero() {
		c.At = s.now()
	}
	// Any SES event proves SES took the email.
	if e.Outcome.Kind() == "ambiguous" && ev.Channel == campaign.Email {
		c.Confirm = true
		c.Counters = append(c.Counters, CountConfirmed+e.Outcome.Reason())
	}
	// Each counter is kept per variant too (the entry's treatment and
	// locale variant), in the same write.
	if label := delivery.Label(e.Treatment, e.Variant); label != "" {
		for _, n := range c.Counters {
			c.Counters = append(c.Counters, delivery.VariantCount(label, n))
		}
	}
	if ch, ok := suppressionChannel(ev.Channel); ok && len(ev.Addresses) > 0 {
		switch ev.Kind {
		case Bounce:
			c.Suppress = &suppression.Entry{Channel: ch, Address: ev.Addresses[0], Reason: suppression.Bounce, CreatedAt: c.At}
		case Complaint:
			c.Suppress = &suppression.Entry{Channel: ch, Address: ev.Addresses[0], Reason: suppression.Complaint, CreatedAt: c.At}
		}
		if c.Suppress != nil {
			if a, err := suppression.Normalize(ch, c.Suppress.Address, "address"); err == nil {
				c.Suppress.Address = a
			} else {
				c.Suppress = nil
			}
		}
	}
	return c, true
}

func suppressionChannel(ch campaign.Channel) (suppression.Channel, bool) {
	switch ch {
	case campaign.Email:
		return suppression.Email, true
	case campaign.SMS:
		return suppression.SMS, true
	}
	return "", false
}

// afterwards does what follows a recorded event outside its transaction:
// counting a transient bounce, disabling a push device. Both are
// idempotent or harmless when the event is retried.
func (s *Service) afterwards(ctx context.Context, t tenant.Tenant, e delivery.Entry, ev Event) error {
	r := s.rules()
	if ev.Kind == SoftBounce && r.SoftBounceLimit > 0 && len(ev.Addresses) > 0 {
		if ch, ok := suppressionChannel(ev.Channel); ok {
			if a, err := suppression.Normalize(ch, ev.Addresses[0], "address"); err == nil {
				window := ev.At.Truncate(r.SoftBounceWindow)
				n, err := s.Store.CountSoftBounce(ctx, t, ch, a, window)
				if err != nil {
					return fmt.Errorf("count transient bounce: %w", err)
				}
				if n >= r.SoftBounceLimit {
					if _, _, err := s.Store.AddSuppression(ctx, t, suppression.Entry{Channel: ch, Address: a, Reason: suppression.Bounce, CreatedAt: s.now()}); err != nil {
						return fmt.Errorf("suppress after transient bounces: %w", err)
					}
				}
			}
		}
	}
	if ev.Kind == Failure && e.Channel == campaign.Push && e.Device != "" && s.Devices != nil && e.Namespace != "" {
		id := profile.Identity{Namespace: e.Namespace, ID: e.UserID}
		_, err := s.Devices.Update(ctx, t, id, func(p *profile.Profile) error {
			for i, d := range p.Devices {
				if delivery.DeviceKey(d.AppID, d.Token) == e.Device {
					p.Devices[i].Enabled = false
				}
			}
			return nil
		})
		if err != nil && !derrors.Is(err, derrors.NotFound) {
			return fmt.Errorf("disable device: %w", err)
		}
	}
	return nil
}

// Status is the webhook feedback status of an event kind.
func Status(k Kind) string {
	switch k {
	case Send:
		return "sent"
	case Delivery:
		return "delivered"
	case Bounce, SoftBounce:
		return "bounce"
	case Delay:
		return "delay"
	case Complaint:
		return "complaint"
	case Open:
		return "opened"
	case Click:
		return "clicked"
	}
	return "error"
}

func (s *Service) notify(ctx context.Context, t tenant.Tenant, e delivery.Entry, ev Event) error {
	if s.Notifier == nil {
		return nil
	}
	if err := s.Notifier.Notify(ctx, []Notice{{Tenant: t, Event: ev, Entry: e, Status: Status(ev.Kind)}}); err != nil {
		return fmt.Errorf("notify webhook: %w", err)
	}
	return nil
}

// Result says what one invocation did with its events.
type Result struct {
	Recorded  int `json:"recorded"`
	Repeated  int `json:"repeated"`
	Unknown   int `json:"unknown"`
	Unrelated int `json:"unrelated"`
}

// Count adds one applied event to r.
func (r *Result) Count(a Applied) {
	switch a {
	case Recorded:
		r.Recorded++
	case Repeated:
		r.Repeated++
	case Unknown:
		r.Unknown++
	case Unrelated:
		r.Unrelated++
	}
}
