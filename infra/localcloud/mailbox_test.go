package localcloud

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/delivery"
)

// The simulator answers as SES would: the address picks the events, the
// message's configuration set and link marks decide whether opens and
// clicks are tracked.
func TestTheMailboxAnswersAsSESWould(t *testing.T) {
	m := &mailbox{now: func() time.Time { return time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC) }, log: slog.New(slog.DiscardHandler),
		clicksSet: "clicks", untrackedSet: "untracked"}
	kinds := func(to, set, html string) []string {
		m.pending = nil
		m.EmailSent(delivery.Email{To: to, ConfigurationSet: set, HTML: html, Tags: map[string]string{delivery.TagName: "t"}}, "id-1")
		var out []string
		for _, ev := range m.pending {
			var e struct {
				Detail struct {
					EventType string `json:"eventType"`
				} `json:"detail"`
			}
			if err := json.Unmarshal(ev.raw, &e); err != nil {
				t.Fatal(err)
			}
			out = append(out, e.Detail.EventType)
		}
		return out
	}
	for _, tc := range []struct {
		to, set, html string
		want          []string
	}{
		{"someone@example.com", "full", "", []string{"Send"}},
		{"bounce+7@simulator.amazonses.com", "full", "", []string{"Send", "Bounce"}},
		{"complaint@simulator.amazonses.com", "full", "", []string{"Send", "Delivery", "Complaint"}},
		{"suppressionlist@simulator.amazonses.com", "full", "", []string{"Send", "Reject"}},
		{"success+click@simulator.amazonses.com", "full", `<a href="x">`, []string{"Send", "Delivery", "Open", "Click"}},
		{"success+click@simulator.amazonses.com", "full", `<a ses:no-track href="x">`, []string{"Send", "Delivery", "Open"}},
		{"success+click@simulator.amazonses.com", "clicks", `<a href="x">`, []string{"Send", "Delivery", "Click"}},
		{"success+open@simulator.amazonses.com", "untracked", "", []string{"Send", "Delivery"}},
	} {
		if diff := cmp.Diff(tc.want, kinds(tc.to, tc.set, tc.html)); diff != "" {
			t.Errorf("%s through %s (-want +got):\n%s", tc.to, tc.set, diff)
		}
	}
	m.pending = nil
	m.EmailSent(delivery.Email{To: "success@simulator.amazonses.com"}, "id-2")
	if len(m.pending) != 0 {
		t.Errorf("an email without Herald's tag got %d events, want none", len(m.pending))
	}
}

// fakeEndpoints records what the simulated platform did to endpoints.
type fakeEndpoints struct{ calls []string }

func (f *fakeEndpoints) SetEndpointAttributes(_ context.Context, in *sns.SetEndpointAttributesInput, _ ...func(*sns.Options)) (*sns.SetEndpointAttributesOutput, error) {
	f.calls = append(f.calls, "set Enabled="+in.Attributes["Enabled"]+" "+aws.ToString(in.EndpointArn))
	return &sns.SetEndpointAttributesOutput{}, nil
}

func (f *fakeEndpoints) DeleteEndpoint(_ context.Context, in *sns.DeleteEndpointInput, _ ...func(*sns.Options)) (*sns.DeleteEndpointOutput, error) {
	f.calls = append(f.calls, "delete "+aws.ToString(in.EndpointArn))
	return &sns.DeleteEndpointOutput{}, nil
}

func TestTheSimulatedPlatformReportsWhatTheTokenAsksFor(t *testing.T) {
	for _, tc := range []struct {
		token, event string
		calls        []string
	}{
		{"good-token", "", nil},
		{"token-that-will-fail", "DeliveryFailure", nil},
		{"token-disabled", "EndpointUpdated", []string{"set Enabled=false ep"}},
		{"token-deleted", "EndpointDeleted", []string{"delete ep"}},
	} {
		fake := &fakeEndpoints{}
		m := &mailbox{now: time.Now, log: slog.New(slog.DiscardHandler), endpoints: fake}
		m.PushSent("ep", tc.token, "msg-1")
		var got string
		for _, ev := range m.pending {
			var rec struct {
				Records []struct{ Sns struct{ Message string } }
			}
			var msg struct{ EventType, EndpointArn string }
			if err := json.Unmarshal(ev.raw, &rec); err != nil || len(rec.Records) != 1 {
				t.Fatalf("%s: %s is no SNS record (%v)", tc.token, ev.raw, err)
			}
			if err := json.Unmarshal([]byte(rec.Records[0].Sns.Message), &msg); err != nil || msg.EndpointArn != "ep" {
				t.Fatalf("%s: message %s (%v)", tc.token, rec.Records[0].Sns.Message, err)
			}
			got += msg.EventType
		}
		if got != tc.event {
			t.Errorf("%s: event %q, want %q", tc.token, got, tc.event)
		}
		if diff := cmp.Diff(tc.calls, fake.calls); diff != "" {
			t.Errorf("%s: endpoint calls (-want +got):\n%s", tc.token, diff)
		}
	}
}
