package localcloud

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/google/uuid"

	"github.com/heraldhq/herald/infra/motoserver"
	"github.com/heraldhq/herald/internal/delivery"
)

// SimulatorDomain is SES's mailbox simulator. moto never emits SES events,
// so the local cloud does, for every email moto accepts, through the real
// Feedback function and with SES's payloads (as EventBridge delivers
// them):
//
//	any address                      Send
//	success@simulator.amazonses.com   Send, Delivery
//	bounce@…                          Send, Bounce (Permanent, General, 5.1.1)
//	ooto@…                            Send, Delivery (the auto-reply goes to the sender)
//	complaint@…                       Send, Delivery, Complaint (abuse)
//	suppressionlist@…                 Send, Reject
//
// A +label picks out many recipients of one kind (bounce+42@…); a label
// holding "open" adds an Open after the Delivery, one holding "click" an
// Open and a Click (success+click@…): the switch for engagement, which
// acts only as far as the message is tracked (its configuration set, and
// links marked ses:no-track), as SES would.
const SimulatorDomain = "simulator.amazonses.com"

// mailbox queues the simulated events and hands them to the Feedback
// function, retrying those whose ledger entry is not written yet, as
// Lambda retries an asynchronous invocation.
type mailbox struct {
	mu      sync.Mutex
	pending []*simEvent
	deliver func(context.Context, json.RawMessage) (any, error)
	// clicksSet and untrackedSet are Herald's configuration sets that
	// track no opens, and neither opens nor clicks.
	clicksSet, untrackedSet string
	// endpoints is moto's SNS, where the simulated platform disables
	// and deletes endpoints; nil simulates no endpoint events.
	endpoints endpointAPI
	now       func() time.Time
	log       *slog.Logger
	// origins are the campaign and execution of each email sent, by
	// SES message id, for the local outbox (origin).
	origins map[string]emailOrigin
}

// emailOrigin is the campaign and execution an email was sent for.
type emailOrigin struct{ campaignID, executionID string }

// maxOrigins bounds what the mailbox remembers for the outbox.
const maxOrigins = 10000

// origin returns the campaign and execution of an email moto received.
func (m *mailbox) origin(messageID string) (emailOrigin, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.origins[messageID]
	return o, ok
}

// tracking says whether SES would track opens and clicks of e: not
// through Herald's untracked set, no opens through its clicks-only set,
// no clicks when every link is marked ses:no-track.
func (m *mailbox) tracking(e delivery.Email) (opens, clicks bool) {
	cs := e.ConfigurationSet
	opens = cs == "" || cs != m.untrackedSet && cs != m.clicksSet
	clicks = (cs == "" || cs != m.untrackedSet) && !strings.Contains(e.HTML, "ses:no-track")
	return opens, clicks
}

type simEvent struct {
	raw   json.RawMessage
	tries int
}

// maxSimTries bounds the attempts at one event (well past the moment its
// entry is written).
const maxSimTries = 200

// EmailSent implements app.SendObserver.
func (m *mailbox) EmailSent(e delivery.Email, messageID string) {
	if e.Tags["executionId"] != "" {
		m.mu.Lock()
		if m.origins == nil || len(m.origins) >= maxOrigins {
			m.origins = map[string]emailOrigin{}
		}
		m.origins[messageID] = emailOrigin{campaignID: e.Tags["campaignId"], executionID: e.Tags["executionId"]}
		m.mu.Unlock()
	}
	if e.Tags[delivery.TagName] == "" {
		return
	}
	addr := e.To
	if a, err := mail.ParseAddress(e.To); err == nil {
		addr = a.Address
	}
	local, domain, _ := strings.Cut(strings.ToLower(addr), "@")
	kind, label, _ := strings.Cut(local, "+")
	types := []string{"Send"}
	if domain == SimulatorDomain {
		switch kind {
		case "success", "ooto":
			types = append(types, "Delivery")
		case "bounce":
			types = append(types, "Bounce")
		case "complaint":
			types = append(types, "Delivery", "Complaint")
		case "suppressionlist":
			types = append(types, "Reject")
		}
		if last := types[len(types)-1]; last == "Delivery" || last == "Complaint" {
			opens, clicks := m.tracking(e)
			if opens && (strings.Contains(label, "open") || strings.Contains(label, "click")) {
				types = append(types, "Open")
			}
			if clicks && strings.Contains(label, "click") {
				types = append(types, "Click")
			}
		}
	}
	at := m.now().UTC()
	for i, typ := range types {
		raw, err := sesEvent(e, addr, messageID, typ, at.Add(time.Duration(i)*time.Second))
		if err != nil {
			m.log.Error("simulated SES event", "error", err)
			continue
		}
		m.add(raw)
	}
}

func (m *mailbox) add(raw json.RawMessage) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pending = append(m.pending, &simEvent{raw: raw})
}

// SMSFailureSuffix: an SMS to a number ending in it is reported failed by
// the simulated SNS delivery status (every other one delivered).
const SMSFailureSuffix = "98"

// SMSSent implements app.SendObserver: SNS's delivery status log line, as
// CloudWatch Logs hands it to a subscription (gzipped, base64-encoded).
func (m *mailbox) SMSSent(s delivery.SMS, messageID string) {
	status, response := "SUCCESS", "Message has been accepted by phone carrier"
	if strings.HasSuffix(s.To, SMSFailureSuffix) {
		status, response = "FAILURE", "Phone carrier is currently unreachable/unavailable"
	}
	at := m.now().UTC()
	line, _ := json.Marshal(map[string]any{
		"notification": map[string]any{"messageId": messageID, "timestamp": at.Format("2006-01-02 15:04:05.000")},
		"delivery": map[string]any{"destination": s.To, "smsType": s.Type, "providerResponse": response, "numberOfMessageParts": 1,
			"priceInUSD": 0.00645, "dwellTimeMs": 200},
		"status": status})
	logs, _ := json.Marshal(map[string]any{"messageType": "DATA_MESSAGE", "owner": motoserver.AccountID,
		"logGroup": "sns/" + motoserver.Region + "/" + motoserver.AccountID + "/DirectPublishToPhoneNumber", "logStream": "local",
		"subscriptionFilters": []string{"herald-local"},
		"logEvents":           []map[string]any{{"id": messageID, "timestamp": at.UnixMilli(), "message": string(line)}}})
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	_, _ = zw.Write(logs)
	_ = zw.Close()
	raw, err := json.Marshal(map[string]any{"awslogs": map[string]string{"data": base64.StdEncoding.EncodeToString(zipped.Bytes())}})
	if err != nil {
		m.log.Error("simulated SMS delivery status", "error", err)
		return
	}
	m.add(raw)
}

// PushFailureToken: a push to a device whose token holds it is reported
// as a delivery failure by the simulated platform application (every
// other push is accepted, as SNS reports nothing for a delivered push).
const PushFailureToken = "fail"

// PushDisabledToken and PushDeletedToken: after a push to a device whose
// token holds one, the simulated platform disables the endpoint at moto
// (SetEndpointAttributes Enabled=false: the app was uninstalled) and SNS
// reports EndpointUpdated, or deletes it and reports EndpointDeleted.
const (
	PushDisabledToken = "disabled"
	PushDeletedToken  = "deleted"
)

// endpointAPI is the part of moto's SNS the simulated platform changes
// endpoints with.
type endpointAPI interface {
	SetEndpointAttributes(ctx context.Context, in *sns.SetEndpointAttributesInput, opts ...func(*sns.Options)) (*sns.SetEndpointAttributesOutput, error)
	DeleteEndpoint(ctx context.Context, in *sns.DeleteEndpointInput, opts ...func(*sns.Options)) (*sns.DeleteEndpointOutput, error)
}

// PushSent implements app.SendObserver: SNS's platform application
// events for the tokens that ask for them (PushFailureToken,
// PushDisabledToken, PushDeletedToken).
func (m *mailbox) PushSent(endpointARN, token, messageID string) {
	now := m.now().UTC().Format(time.RFC3339Nano)
	var msg map[string]any
	switch {
	case strings.Contains(token, PushFailureToken):
		msg = map[string]any{"DeliveryAttempts": 1, "EndpointArn": endpointARN, "EventType": "DeliveryFailure",
			"FailureMessage": "Endpoint is disabled", "FailureType": "EndpointDisabled", "MessageId": messageID,
			"Service": "SNS", "Time": now}
	case m.endpoints != nil && strings.Contains(token, PushDisabledToken):
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := m.endpoints.SetEndpointAttributes(ctx, &sns.SetEndpointAttributesInput{EndpointArn: aws.String(endpointARN),
			Attributes: map[string]string{"Enabled": "false"}}); err != nil {
			m.log.Error("simulated endpoint disabled", "error", err)
			return
		}
		msg = map[string]any{"EndpointArn": endpointARN, "EventType": "EndpointUpdated", "Service": "SNS", "Time": now}
	case m.endpoints != nil && strings.Contains(token, PushDeletedToken):
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := m.endpoints.DeleteEndpoint(ctx, &sns.DeleteEndpointInput{EndpointArn: aws.String(endpointARN)}); err != nil {
			m.log.Error("simulated endpoint deleted", "error", err)
			return
		}
		msg = map[string]any{"EndpointArn": endpointARN, "EventType": "EndpointDeleted", "Service": "SNS", "Time": now}
	default:
		return
	}
	body, _ := json.Marshal(msg)
	raw, err := json.Marshal(map[string]any{"Records": []any{map[string]any{"EventSource": "aws:sns", "EventVersion": "1.0",
		"Sns": map[string]any{"Type": "Notification", "MessageId": uuid.NewString(), "Message": string(body), "Timestamp": now}}}})
	if err != nil {
		m.log.Error("simulated push event", "error", err)
		return
	}
	m.add(raw)
}

// flush hands every pending event to the Feedback function once, keeping
// those it failed on. It returns how many it delivered.
func (m *mailbox) flush(ctx context.Context) int {
	m.mu.Lock()
	batch := m.pending
	m.pending = nil
	m.mu.Unlock()
	if m.deliver == nil || len(batch) == 0 {
		m.mu.Lock()
		m.pending = append(batch, m.pending...)
		m.mu.Unlock()
		return 0
	}
	var keep []*simEvent
	done := 0
	for _, ev := range batch {
		if _, err := m.deliver(ctx, ev.raw); err != nil {
			if ev.tries++; ev.tries < maxSimTries {
				keep = append(keep, ev)
			} else {
				m.log.Error("simulated SES event dropped after retries", "error", err)
			}
			continue
		}
		done++
	}
	m.mu.Lock()
	m.pending = append(keep, m.pending...)
	m.mu.Unlock()
	return done
}

// run flushes the mailbox every interval until ctx ends.
func (m *mailbox) run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.flush(ctx)
		}
	}
}

var sesDetailTypes = map[string]string{
	"Send": "Email Sent", "Delivery": "Email Delivered", "Bounce": "Email Bounced", "Complaint": "Email Complaint Received",
	"Reject": "Email Rejected", "Open": "Email Opened", "Click": "Email Clicked",
}

// sesEvent is SES's event record of one event type, in EventBridge's
// envelope.
func sesEvent(e delivery.Email, addr, messageID, typ string, at time.Time) (json.RawMessage, error) {
	ts := at.Format("2006-01-02T15:04:05.000Z")
	tags := map[string][]string{}
	for k, v := range e.Tags {
		tags[k] = []string{v}
	}
	if e.ConfigurationSet != "" {
		tags["ses:configuration-set"] = []string{e.ConfigurationSet}
	}
	tags["ses:from-domain"] = []string{domainOf(e.From)}
	detail := map[string]any{
		"eventType": typ,
		"mail": map[string]any{"timestamp": ts, "source": e.From, "sendingAccountId": motoserver.AccountID, "messageId": messageID,
			"destination": []string{addr}, "headersTruncated": false, "tags": tags},
	}
	recipients := []map[string]string{{"emailAddress": addr}}
	switch typ {
	case "Send":
		detail["send"] = map[string]any{}
	case "Delivery":
		detail["delivery"] = map[string]any{"timestamp": ts, "processingTimeMillis": 420, "recipients": []string{addr},
			"smtpResponse": "250 2.6.0 Message received", "reportingMTA": "a8-30.smtp-out.amazonses.com"}
	case "Bounce":
		recipients[0]["action"], recipients[0]["status"], recipients[0]["diagnosticCode"] = "failed", "5.1.1", "smtp; 550 5.1.1 user unknown"
		detail["bounce"] = map[string]any{"bounceType": "Permanent", "bounceSubType": "General", "bouncedRecipients": recipients,
			"timestamp": ts, "feedbackId": "local-" + messageID + "-bounce", "reportingMTA": "dsn; " + SimulatorDomain}
	case "Complaint":
		detail["complaint"] = map[string]any{"complainedRecipients": recipients, "timestamp": ts,
			"feedbackId": "local-" + messageID + "-complaint", "complaintFeedbackType": "abuse", "arrivalDate": ts}
	case "Reject":
		detail["reject"] = map[string]any{"reason": "Bad content"}
	case "Open":
		detail["open"] = map[string]any{"ipAddress": "192.0.2.1", "timestamp": ts, "userAgent": "Herald local simulator"}
	case "Click":
		detail["click"] = map[string]any{"ipAddress": "192.0.2.1", "timestamp": ts, "userAgent": "Herald local simulator",
			"link": "https://example.com/", "linkTags": map[string][]string{}}
	default:
		return nil, fmt.Errorf("no simulated SES event %q", typ)
	}
	env := map[string]any{"version": "0", "id": uuid.NewString(), "detail-type": sesDetailTypes[typ], "source": "aws.ses",
		"account": motoserver.AccountID, "time": at.Format(time.RFC3339), "region": motoserver.Region,
		"resources": []string{"arn:aws:ses:" + motoserver.Region + ":" + motoserver.AccountID + ":configuration-set/" + e.ConfigurationSet},
		"detail":    detail}
	return json.Marshal(env)
}

func domainOf(from string) string {
	if a, err := mail.ParseAddress(from); err == nil {
		from = a.Address
	}
	_, d, _ := strings.Cut(from, "@")
	return d
}
