package webhook

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/tenant"
)

// EventType is the only event type Herald's webhook sends, as AJO's.
const EventType = "message.feedback"

// Feedback statuses (messageDeliveryFeedback.feedbackStatus.value).
const (
	StatusSent      = "sent"
	StatusDelivered = "delivered"
	StatusBounce    = "bounce"
	StatusDelay     = "delay"
	StatusExclude   = "exclude"
	StatusError     = "error"
	StatusDuplicate = "duplicate"
	StatusDenylist  = "denylist"
	StatusOpened    = "opened"
	StatusClicked   = "clicked"
	StatusComplaint = "complaint"
)

// Message is one feedback event for a tenant's webhook. ID identifies the
// event and must be deterministic (the same provider event always yields
// the same ID): deliveries are deduplicated by it. Tenant, Channel, At and
// ID fill the payload's imsOrg, sandbox, channel, eventTimestamp and
// eventId.
type Message struct {
	ID      string        `json:"id"`
	Tenant  tenant.Tenant `json:"tenant"`
	Channel string        `json:"channel"`
	At      time.Time     `json:"at"`
	Payload Payload       `json:"payload"`
}

// Payload is AJO's message.feedback event. An empty string, a zero time
// or a nil pointer is sent as null, never omitted: the receiver sees every
// field of the shape.
type Payload struct {
	RequestID        string
	IMSOrg           string
	Sandbox          string
	Channel          string
	EventType        string
	MessageExecution MessageExecution
	Feedback         Feedback
	// IdentityMap maps an identity namespace to the recipient's
	// identities in it (userId).
	IdentityMap    map[string][]Identity
	EventID        string
	EventTimestamp time.Time
}

// MessageExecution says which campaign and execution a message belongs to.
type MessageExecution struct {
	MessageExecutionID string
	// MessageType is transactional or marketing.
	MessageType       string
	CampaignID        string
	CampaignVersionID string
	CampaignType      string
}

// Feedback is messageDeliveryFeedback.
type Feedback struct {
	// Status is one of the Status* values.
	Status               string
	Exclusion            *Reason
	Failure              *Reason
	RetryCount           int
	Encoding             string
	NumberOfMessageParts *int
	DeliveryTimestamp    time.Time
}

// Reason is a messageExclusion or messageFailure; Category of a failure is
// sync or async.
type Reason struct {
	Category string
	Type     string
	Code     string
	Reason   string
}

// Identity is one identity of the recipient.
type Identity struct {
	ID string `json:"id"`
}

// The wire shapes: pointers where a field may be null.
type (
	wirePayload struct {
		RequestID        *string               `json:"requestId"`
		IMSOrg           *string               `json:"imsOrg"`
		Sandbox          wireSandbox           `json:"sandbox"`
		Channel          *string               `json:"channel"`
		EventType        *string               `json:"eventType"`
		MessageExecution wireExecution         `json:"messageExecution"`
		Feedback         wireFeedback          `json:"messageDeliveryFeedback"`
		IdentityMap      map[string][]Identity `json:"identityMap"`
		EventID          *string               `json:"eventId"`
		EventTimestamp   *time.Time            `json:"eventTimestamp"`
	}
	wireSandbox struct {
		ID   *string `json:"id"`
		Name *string `json:"name"`
	}
	wireExecution struct {
		MessageExecutionID *string `json:"messageExecutionID"`
		MessageType        *string `json:"messageType"`
		CampaignID         *string `json:"campaignID"`
		CampaignVersionID  *string `json:"campaignVersionID"`
		CampaignType       *string `json:"campaignType"`
	}
	wireFeedback struct {
		FeedbackStatus       wireStatus  `json:"feedbackStatus"`
		MessageExclusion     *wireReason `json:"messageExclusion"`
		MessageFailure       *wireReason `json:"messageFailure"`
		RetryCount           int         `json:"retryCount"`
		Encoding             *string     `json:"encoding"`
		NumberOfMessageParts *int        `json:"numberOfMessageParts"`
		DeliveryTimestamp    *time.Time  `json:"deliveryTimestamp"`
	}
	wireStatus struct {
		Value *string `json:"value"`
	}
	wireReason struct {
		Category *string `json:"category"`
		Type     *string `json:"type"`
		Code     *string `json:"code"`
		Reason   *string `json:"reason"`
	}
)

func ns(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nt(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func sv(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func tv(p *time.Time) time.Time {
	if p == nil {
		return time.Time{}
	}
	return *p
}

func toWireReason(r *Reason) *wireReason {
	if r == nil {
		return nil
	}
	return &wireReason{Category: ns(r.Category), Type: ns(r.Type), Code: ns(r.Code), Reason: ns(r.Reason)}
}

func fromWireReason(r *wireReason) *Reason {
	if r == nil {
		return nil
	}
	return &Reason{Category: sv(r.Category), Type: sv(r.Type), Code: sv(r.Code), Reason: sv(r.Reason)}
}

// MarshalJSON writes AJO's shape, with null for every field without a
// value.
func (p Payload) MarshalJSON() ([]byte, error) {
	im := p.IdentityMap
	if im == nil {
		im = map[string][]Identity{}
	}
	return json.Marshal(wirePayload{
		RequestID: ns(p.RequestID), IMSOrg: ns(p.IMSOrg), Sandbox: wireSandbox{ID: ns(p.Sandbox), Name: ns(p.Sandbox)},
		Channel: ns(p.Channel), EventType: ns(p.EventType),
		MessageExecution: wireExecution{MessageExecutionID: ns(p.MessageExecution.MessageExecutionID), MessageType: ns(p.MessageExecution.MessageType),
			CampaignID: ns(p.MessageExecution.CampaignID), CampaignVersionID: ns(p.MessageExecution.CampaignVersionID),
			CampaignType: ns(p.MessageExecution.CampaignType)},
		Feedback: wireFeedback{FeedbackStatus: wireStatus{Value: ns(p.Feedback.Status)}, MessageExclusion: toWireReason(p.Feedback.Exclusion),
			MessageFailure: toWireReason(p.Feedback.Failure), RetryCount: p.Feedback.RetryCount, Encoding: ns(p.Feedback.Encoding),
			NumberOfMessageParts: p.Feedback.NumberOfMessageParts, DeliveryTimestamp: nt(p.Feedback.DeliveryTimestamp)},
		IdentityMap: im, EventID: ns(p.EventID), EventTimestamp: nt(p.EventTimestamp),
	})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (p *Payload) UnmarshalJSON(b []byte) error {
	var w wirePayload
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*p = Payload{RequestID: sv(w.RequestID), IMSOrg: sv(w.IMSOrg), Sandbox: sv(w.Sandbox.ID), Channel: sv(w.Channel), EventType: sv(w.EventType),
		MessageExecution: MessageExecution{MessageExecutionID: sv(w.MessageExecution.MessageExecutionID), MessageType: sv(w.MessageExecution.MessageType),
			CampaignID: sv(w.MessageExecution.CampaignID), CampaignVersionID: sv(w.MessageExecution.CampaignVersionID),
			CampaignType: sv(w.MessageExecution.CampaignType)},
		Feedback: Feedback{Status: sv(w.Feedback.FeedbackStatus.Value), Exclusion: fromWireReason(w.Feedback.MessageExclusion),
			Failure: fromWireReason(w.Feedback.MessageFailure), RetryCount: w.Feedback.RetryCount, Encoding: sv(w.Feedback.Encoding),
			NumberOfMessageParts: w.Feedback.NumberOfMessageParts, DeliveryTimestamp: tv(w.Feedback.DeliveryTimestamp)},
		IdentityMap: w.IdentityMap, EventID: sv(w.EventID), EventTimestamp: tv(w.EventTimestamp)}
	return nil
}

// complete fills the payload's fields the message decides: tenant,
// channel, event type, ID and time.
func (m Message) complete() Message {
	m.Payload.IMSOrg, m.Payload.Sandbox = m.Tenant.Org, m.Tenant.Sandbox
	m.Payload.Channel, m.Payload.EventType = m.Channel, EventType
	m.Payload.EventID, m.Payload.EventTimestamp = m.ID, m.At.UTC()
	return m
}

// MaxMessageSize bounds an encoded message (SQS takes 256 KiB; feedback
// events are a few hundred bytes).
const MaxMessageSize = 200 << 10

// EncodeMessage is a message's queue body.
func EncodeMessage(m Message) ([]byte, error) {
	if m.ID == "" {
		return nil, fmt.Errorf("webhook message: no ID")
	}
	if err := m.Tenant.Validate(); err != nil {
		return nil, fmt.Errorf("webhook message %s: %w", m.ID, err)
	}
	b, err := json.Marshal(m.complete())
	if err != nil {
		return nil, fmt.Errorf("webhook message %s: %w", m.ID, err)
	}
	if len(b) > MaxMessageSize {
		return nil, fmt.Errorf("webhook message %s is %d bytes, over %d", m.ID, len(b), MaxMessageSize)
	}
	return b, nil
}

// DecodeMessage reads a queue body EncodeMessage wrote.
func DecodeMessage(b []byte) (Message, error) {
	var m Message
	if err := json.Unmarshal(b, &m); err != nil {
		return Message{}, fmt.Errorf("decode webhook message: %w", err)
	}
	if m.ID == "" || m.Tenant.Validate() != nil {
		return Message{}, fmt.Errorf("decode webhook message: no ID or tenant")
	}
	return m, nil
}
