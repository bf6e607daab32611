package feedback

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
)

// The Feedback function is invoked by three sources, told apart by shape:
//
//   - EventBridge, with SES's email events (source "aws.ses"; the detail is
//     SES's event record);
//   - CloudWatch Logs, with the SNS SMS delivery status log lines
//     (a subscription filter on SNS's DirectPublishToPhoneNumber log
//     groups; "awslogs.data" is gzipped, base64-encoded JSON);
//   - SNS, with the push platform applications' delivery failure,
//     endpoint deleted and endpoint updated events.

// Decode returns the events of one invocation payload. Records that are
// about neither messages nor Herald's push endpoints (SES subscription
// events, endpoints created) are skipped; a payload of no known shape is
// an error.
func Decode(raw []byte) ([]Event, error) {
	var probe struct {
		Source  string          `json:"source"`
		Detail  json.RawMessage `json:"detail"`
		AWSLogs *struct {
			Data string `json:"data"`
		} `json:"awslogs"`
		Records []json.RawMessage `json:"Records"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, fmt.Errorf("feedback payload: %w", err)
	}
	switch {
	case probe.Source == "aws.ses":
		ev, ok, err := ParseSES(probe.Detail)
		if err != nil || !ok {
			return nil, err
		}
		return []Event{ev}, nil
	case probe.AWSLogs != nil:
		return parseLogs(probe.AWSLogs.Data)
	case len(probe.Records) > 0:
		var sns events.SNSEvent
		if err := json.Unmarshal(raw, &sns); err != nil {
			return nil, fmt.Errorf("feedback SNS payload: %w", err)
		}
		var out []Event
		for _, r := range sns.Records {
			ev, ok, err := ParsePush(r.SNS.Message)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, ev)
			}
		}
		return out, nil
	}
	return nil, errors.New("feedback payload: neither an SES event, SNS SMS delivery logs nor SNS push events")
}

// sesEvent is the part of an SES event record Herald reads.
type sesEvent struct {
	EventType string `json:"eventType"`
	Mail      struct {
		Timestamp time.Time           `json:"timestamp"`
		MessageID string              `json:"messageId"`
		Tags      map[string][]string `json:"tags"`
	} `json:"mail"`
	Bounce *struct {
		BounceType        string      `json:"bounceType"`
		BounceSubType     string      `json:"bounceSubType"`
		BouncedRecipients []recipient `json:"bouncedRecipients"`
		Timestamp         time.Time   `json:"timestamp"`
		FeedbackID        string      `json:"feedbackId"`
	} `json:"bounce"`
	Complaint *struct {
		ComplainedRecipients []recipient `json:"complainedRecipients"`
		Timestamp            time.Time   `json:"timestamp"`
		FeedbackID           string      `json:"feedbackId"`
		FeedbackType         string      `json:"complaintFeedbackType"`
	} `json:"complaint"`
	Delivery *struct {
		Timestamp    time.Time `json:"timestamp"`
		SMTPResponse string    `json:"smtpResponse"`
	} `json:"delivery"`
	DeliveryDelay *struct {
		Timestamp         time.Time   `json:"timestamp"`
		DelayType         string      `json:"delayType"`
		DelayedRecipients []recipient `json:"delayedRecipients"`
	} `json:"deliveryDelay"`
	Reject *struct {
		Reason string `json:"reason"`
	} `json:"reject"`
	Failure *struct {
		ErrorMessage string `json:"errorMessage"`
	} `json:"failure"`
	Open *struct {
		Timestamp time.Time `json:"timestamp"`
	} `json:"open"`
	Click *struct {
		Timestamp time.Time `json:"timestamp"`
		Link      string    `json:"link"`
	} `json:"click"`
}

type recipient struct {
	EmailAddress   string `json:"emailAddress"`
	Status         string `json:"status"`
	DiagnosticCode string `json:"diagnosticCode"`
}

// ParseSES reads one SES event record (the detail of an EventBridge
// event, or the message of an SNS notification). ok is false for records
// that are not Herald's (no delivery.TagName tag) or not about delivery
// (subscription events).
func ParseSES(detail []byte) (ev Event, ok bool, err error) {
	var r sesEvent
	if err := json.Unmarshal(detail, &r); err != nil {
		return Event{}, false, fmt.Errorf("SES event: %w", err)
	}
	tags := r.Mail.Tags[delivery.TagName]
	if len(tags) == 0 || tags[0] == "" {
		return Event{}, false, nil
	}
	ev = Event{Channel: campaign.Email, Ref: Ref{Tag: tags[0]}, At: r.Mail.Timestamp}
	at := func(t time.Time) {
		if !t.IsZero() {
			ev.At = t
		}
	}
	var instance string // what tells two events of one kind apart
	switch strings.ToLower(strings.ReplaceAll(r.EventType, " ", "")) {
	case "send":
		ev.Kind = Send
	case "delivery":
		ev.Kind = Delivery
		if r.Delivery != nil {
			at(r.Delivery.Timestamp)
		}
	case "deliverydelay":
		ev.Kind = Delay
		if d := r.DeliveryDelay; d != nil {
			at(d.Timestamp)
			ev.Code = d.DelayType
			instance = d.Timestamp.String()
		}
	case "bounce":
		if b := r.Bounce; b != nil {
			at(b.Timestamp)
			ev.BounceType, ev.BounceSubType, instance = b.BounceType, b.BounceSubType, b.FeedbackID
			for _, br := range b.BouncedRecipients {
				ev.Addresses = append(ev.Addresses, br.EmailAddress)
				if ev.Code == "" {
					ev.Code, ev.Reason = br.Status, br.DiagnosticCode
				}
			}
			if ev.Reason == "" {
				ev.Reason = b.BounceSubType
			}
		}
		ev.Kind = SoftBounce
		if ev.BounceType == "Permanent" {
			ev.Kind = Bounce
		}
	case "complaint":
		ev.Kind = Complaint
		if c := r.Complaint; c != nil {
			at(c.Timestamp)
			instance, ev.Code = c.FeedbackID, c.FeedbackType
			for _, cr := range c.ComplainedRecipients {
				ev.Addresses = append(ev.Addresses, cr.EmailAddress)
			}
		}
	case "reject":
		ev.Kind = Reject
		if r.Reject != nil {
			ev.Reason = r.Reject.Reason
		}
	case "renderingfailure":
		ev.Kind = RenderingFailure
		if r.Failure != nil {
			ev.Reason = r.Failure.ErrorMessage
		}
	case "open":
		ev.Kind = Open
		if r.Open != nil {
			at(r.Open.Timestamp)
			instance = r.Open.Timestamp.String()
		}
	case "click":
		ev.Kind = Click
		if r.Click != nil {
			at(r.Click.Timestamp)
			instance = r.Click.Timestamp.String()
		}
	default:
		return Event{}, false, nil
	}
	ev.ID = EventID("ses", r.Mail.MessageID, tags[0], string(ev.Kind), instance)
	return ev, true, nil
}

// smsStatus is one SNS SMS delivery status log line.
type smsStatus struct {
	Notification struct {
		MessageID string `json:"messageId"`
		Timestamp string `json:"timestamp"`
	} `json:"notification"`
	Delivery struct {
		Destination      string  `json:"destination"`
		ProviderResponse string  `json:"providerResponse"`
		PriceInUSD       float64 `json:"priceInUSD"`
		Parts            int     `json:"numberOfMessageParts"`
	} `json:"delivery"`
	Status string `json:"status"`
}

// ParseSMS reads one SNS SMS delivery status log line: SUCCESS is a
// delivery, FAILURE a failure with the carrier's response.
func ParseSMS(line string) (Event, error) {
	var s smsStatus
	if err := json.Unmarshal([]byte(line), &s); err != nil {
		return Event{}, fmt.Errorf("SMS delivery status: %w", err)
	}
	if s.Notification.MessageID == "" {
		return Event{}, errors.New("SMS delivery status: no messageId")
	}
	ev := Event{Channel: campaign.SMS, Ref: Ref{MessageID: s.Notification.MessageID}, Kind: Delivery,
		Reason: s.Delivery.ProviderResponse, Parts: s.Delivery.Parts, Price: s.Delivery.PriceInUSD}
	if s.Delivery.Destination != "" {
		ev.Addresses = []string{s.Delivery.Destination}
	}
	// SNS writes "2016-06-28 00:40:34.558" (UTC).
	if t, err := time.Parse("2006-01-02 15:04:05.999999999", s.Notification.Timestamp); err == nil {
		ev.At = t.UTC()
	} else if t, err := time.Parse(time.RFC3339Nano, s.Notification.Timestamp); err == nil {
		ev.At = t.UTC()
	}
	if !strings.EqualFold(s.Status, "SUCCESS") {
		ev.Kind = Failure
	}
	ev.ID = EventID("sms", s.Notification.MessageID, string(ev.Kind))
	return ev, nil
}

// parseLogs reads a CloudWatch Logs subscription payload.
func parseLogs(data string) ([]Event, error) {
	zipped, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil, fmt.Errorf("logs payload: %w", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(zipped))
	if err != nil {
		return nil, fmt.Errorf("logs payload: %w", err)
	}
	raw, err := io.ReadAll(io.LimitReader(zr, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("logs payload: %w", err)
	}
	var logs events.CloudwatchLogsData
	if err := json.Unmarshal(raw, &logs); err != nil {
		return nil, fmt.Errorf("logs payload: %w", err)
	}
	if logs.MessageType == "CONTROL_MESSAGE" {
		return nil, nil
	}
	out := make([]Event, 0, len(logs.LogEvents))
	for _, le := range logs.LogEvents {
		ev, err := ParseSMS(le.Message)
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, nil
}

// pushEvent is an SNS platform application event.
type pushEvent struct {
	EventType      string `json:"EventType"`
	MessageID      string `json:"MessageId"`
	FailureType    string `json:"FailureType"`
	FailureMessage string `json:"FailureMessage"`
	Time           string `json:"Time"`
	EndpointArn    string `json:"EndpointArn"`
}

// ParsePush reads one push platform application event. A delivery
// failure is a Failure of the message it names. An endpoint deleted or
// updated names no message, only the endpoint (Event.Endpoint): it is an
// EndpointDeleted or EndpointUpdated event, applied to the endpoint's
// device rather than to a ledger entry. The attributes an update may
// carry are not read: the Feedback function asks SNS for the endpoint's
// state when it applies the event, so a late or replayed update never
// acts on stale attributes. Other events (EndpointCreated) are skipped
// (ok false).
func ParsePush(message string) (ev Event, ok bool, err error) {
	var p pushEvent
	if err := json.Unmarshal([]byte(message), &p); err != nil {
		return Event{}, false, fmt.Errorf("push event: %w", err)
	}
	switch {
	case p.EventType == "DeliveryFailure" && p.MessageID != "":
		ev = Event{Channel: campaign.Push, Kind: Failure, Ref: Ref{MessageID: p.MessageID}, Code: p.FailureType, Reason: p.FailureMessage}
		ev.ID = EventID("push", p.MessageID, string(ev.Kind))
	case (p.EventType == "EndpointDeleted" || p.EventType == "EndpointUpdated") && p.EndpointArn != "":
		ev = Event{Channel: campaign.Push, Kind: EndpointDeleted, Endpoint: p.EndpointArn}
		if p.EventType == "EndpointUpdated" {
			ev.Kind = EndpointUpdated
		}
		ev.ID = EventID("push", p.EndpointArn, string(ev.Kind), p.Time)
	default:
		return Event{}, false, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, p.Time); err == nil {
		ev.At = t.UTC()
	} else if ms, err := strconv.ParseInt(p.Time, 10, 64); err == nil {
		ev.At = time.UnixMilli(ms).UTC()
	}
	return ev, true, nil
}
