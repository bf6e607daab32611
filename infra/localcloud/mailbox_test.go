package localcloud

import (
	"encoding/json"
	"log/slog"
	"testing"
	"time"

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
