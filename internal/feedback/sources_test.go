package feedback_test

import (
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/feedback"
)

// The fixtures of events/ are the payloads each source delivers.
func TestDecodeReadsEverySource(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tag := feedback.Ref{Tag: "3f2a9c1d5e7b4a60b1c2d3e4f5a6b7c8"}
	for _, tc := range []struct {
		file string
		want feedback.Event
	}{
		{"feedback.ses-bounce.json", feedback.Event{Channel: campaign.Email, Kind: feedback.Bounce, Ref: tag, At: at("2026-01-05T09:30:04Z"),
			Addresses: []string{"bounce@simulator.amazonses.com"}, BounceType: "Permanent", BounceSubType: "General",
			Code: "5.1.1", Reason: "smtp; 550 5.1.1 user unknown"}},
		{"feedback.ses-delivery.json", feedback.Event{Channel: campaign.Email, Kind: feedback.Delivery, Ref: tag, At: at("2026-01-05T09:30:02Z")}},
		{"feedback.sms-delivery-status.json", feedback.Event{Channel: campaign.SMS, Kind: feedback.Delivery,
			Ref: feedback.Ref{MessageID: "6f5e4d3c-2b1a-5c9d-8e7f-0a1b2c3d4e5f"}, At: at("2026-01-05T09:30:00.112Z"),
			Addresses: []string{"+15555550123"}, Reason: "Message has been accepted by phone carrier", Parts: 1, Price: 0.00581}},
		{"feedback.push-delivery-failure.json", feedback.Event{Channel: campaign.Push, Kind: feedback.Failure,
			Ref: feedback.Ref{MessageID: "9a8b7c6d-5e4f-5a3b-9c2d-1e0f9a8b7c6d"}, At: at("2026-01-05T09:30:03.512Z"),
			Code: "EndpointDisabled", Reason: "Endpoint is disabled"}},
		{"feedback.push-endpoint-updated.json", feedback.Event{Channel: campaign.Push, Kind: feedback.EndpointUpdated,
			Endpoint: "arn:aws:sns:us-east-1:123456789012:endpoint/GCM/herald-android/5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d",
			At:       at("2026-01-05T09:31:10.204Z")}},
	} {
		raw, err := os.ReadFile("../../events/" + tc.file)
		if err != nil {
			t.Fatal(err)
		}
		evs, err := feedback.Decode(raw)
		if err != nil || len(evs) != 1 {
			t.Fatalf("%s: Decode = %v, %v; want one event", tc.file, evs, err)
		}
		if evs[0].ID == "" {
			t.Errorf("%s: no event id", tc.file)
		}
		if diff := cmp.Diff(tc.want, evs[0], cmpopts.IgnoreFields(feedback.Event{}, "ID")); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.file, diff)
		}
		again, _ := feedback.Decode(raw)
		if again[0].ID != evs[0].ID {
			t.Errorf("%s: the same event has two ids", tc.file)
		}
	}
}

func TestDecodeSkipsWhatIsNotHeraldsAndRefusesTheUnknown(t *testing.T) {
	for _, raw := range []string{
		// Another application's email (no Herald tag).
		`{"source":"aws.ses","detail-type":"Email Sent","detail":{"eventType":"Send","mail":{"messageId":"m","tags":{}}}}`,
		// A subscription event.
		`{"source":"aws.ses","detail":{"eventType":"Subscription","mail":{"messageId":"m","tags":{"heraldRecipient":["x"]}}}}`,
		// An endpoint created.
		`{"Records":[{"Sns":{"Message":"{\"EventType\":\"EndpointCreated\",\"EndpointArn\":\"arn\"}"}}]}`,
		// An endpoint event naming no endpoint.
		`{"Records":[{"Sns":{"Message":"{\"EventType\":\"EndpointDeleted\"}"}}]}`,
	} {
		if evs, err := feedback.Decode([]byte(raw)); err != nil || len(evs) != 0 {
			t.Errorf("Decode(%s) = %v, %v; want nothing", raw, evs, err)
		}
	}
	for _, raw := range []string{`{}`, `[]`, `{"source":"aws.s3"}`, `{"awslogs":{"data":"not base64"}}`,
		`{"Records":[{"Sns":{"Message":"not json"}}]}`, `{"source":"aws.ses","detail":"x"}`} {
		if _, err := feedback.Decode([]byte(raw)); err == nil {
			t.Errorf("Decode(%s) = no error", raw)
		}
	}
}

// An endpoint deleted names the endpoint and nothing else; SNS may add
// the endpoint's attributes to an update, which are not read.
func TestDecodeReadsEndpointEvents(t *testing.T) {
	arn := "arn:aws:sns:us-east-1:123456789012:endpoint/APNS/shop-ios/0f3c"
	for _, tc := range []struct {
		message string
		want    feedback.Kind
	}{
		{`{"EndpointArn":"` + arn + `","EventType":"EndpointDeleted","Resource":"arn:aws:sns:us-east-1:123456789012:app/APNS/shop-ios","Service":"SNS","Time":"2026-01-05T09:31:10.204Z"}`,
			feedback.EndpointDeleted},
		{`{"EndpointArn":"` + arn + `","EventType":"EndpointUpdated","Attributes":{"Enabled":"true"},"Service":"SNS","Time":"1767605470204"}`,
			feedback.EndpointUpdated},
	} {
		ev, ok, err := feedback.ParsePush(tc.message)
		if err != nil || !ok {
			t.Fatalf("ParsePush(%s) = %v, %v", tc.message, ok, err)
		}
		want := feedback.Event{Channel: campaign.Push, Kind: tc.want, Endpoint: arn, At: time.Date(2026, 1, 5, 9, 31, 10, 204e6, time.UTC)}
		if diff := cmp.Diff(want, ev, cmpopts.IgnoreFields(feedback.Event{}, "ID")); diff != "" {
			t.Errorf("ParsePush (-want +got):\n%s", diff)
		}
	}
}
