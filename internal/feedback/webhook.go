package feedback

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/memo"
	"github.com/heraldhq/herald/internal/tenant"
	"github.com/heraldhq/herald/internal/webhook"
)

// Publisher queues webhook messages (webhook.Publisher).
type Publisher interface {
	Publish(ctx context.Context, msgs []webhook.Message) error
}

// RequestIDs reads the requestId an execution was triggered with.
type RequestIDs interface {
	ExecutionRequestID(ctx context.Context, t tenant.Tenant, executionID string) (string, error)
}

// Versions reads campaign versions (immutable, so cached).
type Versions interface {
	GetVersion(ctx context.Context, t tenant.Tenant, campaignID string, number int) (campaign.Version, error)
}

// WebhookNotifier turns notices into AJO message.feedback events for the
// tenant's webhook. A campaign version's type is read once per warm
// function.
type WebhookNotifier struct {
	Publisher Publisher
	Versions  Versions
	// RequestIDs, when set, fills each payload's requestId (cached per
	// execution); without it requestId is null.
	RequestIDs RequestIDs
	// Now stamps Dispatch's notices (the wall clock when nil).
	Now func() time.Time

	types    memo.Map[string, campaign.Type]
	requests memo.Map[string, string]
}

// requestID is the execution's requestId ("" when unknown: the payload's
// requestId is then null, and a missing execution is no reason to hold an
// event back).
func (w *WebhookNotifier) requestID(ctx context.Context, t tenant.Tenant, exec string) string {
	if w.RequestIDs == nil {
		return ""
	}
	id, err := w.requests.Get(t.Key()+"#"+exec, maxMemo, func() (string, error) { return w.RequestIDs.ExecutionRequestID(ctx, t, exec) })
	if err != nil {
		return ""
	}
	return id
}

// maxMemo bounds the notifier's memos of campaign types and requestIds.
const maxMemo = 4096

// campaignType is every Herald campaign's type in AJO's terms.
const campaignType = "api-triggered"

func (w *WebhookNotifier) campaignType(ctx context.Context, t tenant.Tenant, id string, version int) (campaign.Type, error) {
	return w.types.Get(t.Key()+"#"+id+"#"+strconv.Itoa(version), maxMemo, func() (campaign.Type, error) {
		v, err := w.Versions.GetVersion(ctx, t, id, version)
		return v.Type, err
	})
}

// Notify implements Notifier.
func (w *WebhookNotifier) Notify(ctx context.Context, ns []Notice) error {
	msgs := make([]webhook.Message, 0, len(ns))
	for _, n := range ns {
		m, err := w.message(ctx, n)
		if err != nil {
			return err
		}
		msgs = append(msgs, m)
	}
	return w.Publisher.Publish(ctx, msgs)
}

// message is the webhook message of one notice: the entry's execution and
// campaign, its identity (namespace and userId, as the call named it) and
// what the event said.
func (w *WebhookNotifier) message(ctx context.Context, n Notice) (webhook.Message, error) {
	e, ev := n.Entry, n.Event
	typ, err := w.campaignType(ctx, n.Tenant, e.CampaignID, e.Version)
	if err != nil {
		return webhook.Message{}, fmt.Errorf("campaign of %s: %w", e.ExecutionID, err)
	}
	fb := webhook.Feedback{Status: n.Status}
	switch ev.Kind {
	case Delivery:
		fb.DeliveryTimestamp = ev.At
	case Bounce, SoftBounce, Reject, RenderingFailure, Failure, Complaint:
		r := &webhook.Reason{Category: "async", Type: failureType(ev), Code: ev.Code, Reason: ev.Reason}
		fb.Failure = r
	}
	if ev.Parts > 0 {
		parts := ev.Parts
		fb.NumberOfMessageParts = &parts
	}
	p := webhook.Payload{
		RequestID: w.requestID(ctx, n.Tenant, e.ExecutionID),
		MessageExecution: webhook.MessageExecution{MessageExecutionID: e.ExecutionID, MessageType: string(typ), CampaignID: e.CampaignID,
			CampaignVersionID: strconv.Itoa(e.Version), CampaignType: campaignType},
		Feedback:    fb,
		IdentityMap: map[string][]webhook.Identity{e.Namespace: {{ID: e.UserID}}},
	}
	return webhook.Message{ID: ev.ID, Tenant: n.Tenant, Channel: string(e.Channel), At: ev.At, Payload: p}, nil
}

// failureType names a failure as AJO's messageFailure.type does: Hard or
// Soft for bounces, the kind otherwise.
func failureType(ev Event) string {
	switch ev.Kind {
	case Bounce:
		return "Hard"
	case SoftBounce:
		return "Soft"
	case Complaint:
		return "Complaint"
	case Reject:
		return "Rejected"
	}
	if ev.Code != "" {
		return ev.Code
	}
	return "Failed"
}

// NotifyOutcomes implements delivery.OutcomeNotifier: Dispatch's
// outcomes as AJO feedback — sent (SMS, push), exclude, denylist (an
// address on the suppression list or opted out at SNS), duplicate, error.
func (w *WebhookNotifier) NotifyOutcomes(ctx context.Context, t tenant.Tenant, ns []delivery.OutcomeNotice) error {
	now := time.Now().UTC()
	if w.Now != nil {
		now = w.Now().UTC()
	}
	msgs := make([]webhook.Message, 0, len(ns))
	for _, n := range ns {
		k := n.Key
		fb := webhook.Feedback{Status: outcomeStatus(n.Outcome)}
		switch n.Outcome.Kind() {
		case "excluded":
			fb.Exclusion = &webhook.Reason{Category: "sync", Type: "Exclusion", Code: n.Outcome.Reason()}
		case "failed":
			fb.Failure = &webhook.Reason{Category: "sync", Type: "Error", Code: n.Outcome.Reason()}
		}
		msgs = append(msgs, webhook.Message{
			ID:     EventID("dispatch", t.Key(), k.ExecutionID, k.Namespace, k.UserID, string(k.Channel), string(n.Outcome)),
			Tenant: t, Channel: string(k.Channel), At: now,
			Payload: webhook.Payload{
				RequestID: w.requestID(ctx, t, k.ExecutionID),
				MessageExecution: webhook.MessageExecution{MessageExecutionID: k.ExecutionID, MessageType: string(n.Type),
					CampaignID: n.CampaignID, CampaignVersionID: strconv.Itoa(n.Version), CampaignType: campaignType},
				Feedback:    fb,
				IdentityMap: map[string][]webhook.Identity{k.Namespace: {{ID: k.UserID}}},
			}})
	}
	return w.Publisher.Publish(ctx, msgs)
}

// outcomeStatus is the feedback status of a Dispatch outcome.
func outcomeStatus(o delivery.Outcome) string {
	switch {
	case o == delivery.Sent:
		return webhook.StatusSent
	case o == delivery.ExcludedDuplicate:
		return webhook.StatusDuplicate
	case o == delivery.ExcludedSuppressed || o == delivery.ExcludedOptedOut:
		return webhook.StatusDenylist
	case o.Kind() == "excluded":
		return webhook.StatusExclude
	}
	return webhook.StatusError
}
