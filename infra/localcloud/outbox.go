package localcloud

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/heraldhq/herald/infra/motoserver"
	"github.com/heraldhq/herald/internal/feedback"
	"github.com/heraldhq/herald/internal/logsafe"
)

// OutboxPath is the local cloud's own route (no deployment has it) that
// shows what moto received: the Herald Console's local outbox reads it.
const OutboxPath = "/local/outbox"

// Outbox is what moto received, each kind newest first. moto keeps one
// body per Simple-content email (the HTML part if there was one, else the
// text) and no custom headers.
type Outbox struct {
	Emails []OutboxEmail `json:"emails"`
	SMS    []OutboxSMS   `json:"sms"`
	Push   []OutboxPush  `json:"push"`
}

// OutboxEmail is one email SES (moto) accepted.
type OutboxEmail struct {
	ID      string   `json:"id"`
	From    string   `json:"from"`
	To      []string `json:"to"`
	Subject string   `json:"subject"`
	Body    string   `json:"body"`
	// CampaignID and ExecutionID say what sent it, when this local
	// cloud sent it (moto keeps no tags).
	CampaignID  string `json:"campaignId,omitempty"`
	ExecutionID string `json:"executionId,omitempty"`
}

// OutboxSMS is one text message SNS (moto) accepted.
type OutboxSMS struct {
	ID          string `json:"id"`
	PhoneNumber string `json:"phoneNumber"`
	Message     string `json:"message"`
	// CampaignID and ExecutionID say what sent it: its ledger entry,
	// found by its message id (for the newest maxLinked).
	CampaignID  string `json:"campaignId,omitempty"`
	ExecutionID string `json:"executionId,omitempty"`
}

// OutboxPush is one message published to a platform endpoint.
type OutboxPush struct {
	ID       string `json:"id"`
	Endpoint string `json:"endpoint"`
	Message  string `json:"message"`
	// CampaignID and ExecutionID, as for OutboxSMS.
	CampaignID  string `json:"campaignId,omitempty"`
	ExecutionID string `json:"executionId,omitempty"`
}

// maxLinked bounds the ledger reads that link SMS and push messages to
// their execution (one Query of the ref index each), per kind.
const maxLinked = 50

// messageOrigin finds what sent an SMS or push message: its ledger entry,
// by the provider's message id, as the Feedback function finds it.
type messageOrigin func(ctx context.Context, messageID string) (emailOrigin, bool)

// ReadOutbox reads what moto received.
func ReadOutbox(r *http.Request, m *motoserver.Server) (Outbox, error) {
	return readOutbox(r, m, nil, nil)
}

func readOutbox(r *http.Request, m *motoserver.Server, mb *mailbox, find messageOrigin) (Outbox, error) {
	d, err := m.Data(r.Context())
	if err != nil {
		return Outbox{}, err
	}
	var emails []motoserver.Email
	var sms []motoserver.SMS
	var endpoints []struct {
		ARN      string            `json:"arn"`
		Messages map[string]string `json:"messages"`
	}
	for _, rec := range []struct {
		model string
		out   any
	}{{"Message", &emails}, {"SMS", &sms}, {"PlatformEndpoint", &endpoints}} {
		service := "sns"
		if rec.model == "Message" {
			service = "ses"
		}
		if err := d.Records(service, rec.model, rec.out); err != nil {
			return Outbox{}, err
		}
	}
	out := Outbox{Emails: []OutboxEmail{}, SMS: []OutboxSMS{}, Push: []OutboxPush{}}
	for _, e := range slices.Backward(emails) {
		to := slices.Concat(e.Destinations.To, e.Destinations.Cc, e.Destinations.Bcc)
		oe := OutboxEmail{ID: e.ID, From: e.Source, To: to, Subject: e.Subject, Body: e.Body}
		if mb != nil {
			if o, ok := mb.origin(e.ID); ok {
				oe.CampaignID, oe.ExecutionID = o.campaignID, o.executionID
			}
		}
		out.Emails = append(out.Emails, oe)
	}
	link := func(n int, id string) (emailOrigin, bool) {
		if find == nil || n >= maxLinked {
			return emailOrigin{}, false
		}
		return find(r.Context(), id)
	}
	for _, s := range slices.Backward(sms) {
		os := OutboxSMS{ID: s.MessageID, PhoneNumber: s.PhoneNumber, Message: s.Message}
		if o, ok := link(len(out.SMS), s.MessageID); ok {
			os.CampaignID, os.ExecutionID = o.campaignID, o.executionID
		}
		out.SMS = append(out.SMS, os)
	}
	for _, ep := range endpoints {
		for _, id := range slices.Sorted(maps.Keys(ep.Messages)) {
			op := OutboxPush{ID: id, Endpoint: ep.ARN, Message: ep.Messages[id]}
			if o, ok := link(len(out.Push), id); ok {
				op.CampaignID, op.ExecutionID = o.campaignID, o.executionID
			}
			out.Push = append(out.Push, op)
		}
	}
	return out, nil
}

// withOutbox serves OutboxPath from moto and everything else through next
// (the gateway). The outbox takes no credential: it shows what the local
// moto, itself open on loopback, holds.
func (c *Cloud) withOutbox(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.TrimSuffix(r.URL.Path, "/") != OutboxPath {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			http.Error(w, "GET only", http.StatusMethodNotAllowed)
			return
		}
		box, err := readOutbox(r, c.Moto, c.mailbox, c.messageOrigin)
		if err != nil {
			c.log.Error("outbox", logsafe.Attr(err))
			http.Error(w, "moto did not answer", http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(box)
	})
}

// messageOrigin finds the ledger entry of an SMS or push message by its
// provider message id (the ref index the Feedback function reads).
func (c *Cloud) messageOrigin(ctx context.Context, messageID string) (emailOrigin, bool) {
	_, e, err := c.App.Store().FindEntry(ctx, feedback.Ref{MessageID: messageID})
	if err != nil {
		return emailOrigin{}, false
	}
	return emailOrigin{campaignID: e.CampaignID, executionID: e.Key.ExecutionID}, true
}
