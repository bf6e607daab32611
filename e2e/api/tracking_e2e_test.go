package api_test

import (
	"strings"
	"testing"
)

// A transactional configuration that turns opens on and leaves clicks at
// the category's default (off) sends its links marked ses:no-track; one
// at the default (nothing tracked, the untracked set) sends them as
// written.
func TestTrackingSettingsReachTheSentHTML(t *testing.T) {
	const html = `<html><body><p>Order {{context.orderId}}: <a href="https://shop.example/o/{{context.orderId}}">track it</a></p></body></html>`
	tests := []struct {
		name     string
		settings map[string]any
		order    string
		want     string
	}{
		{"opens tracked and clicks not mark every link", map[string]any{"trackOpens": true}, "T-1",
			`<a ses:no-track href="https://shop.example/o/T-1">`},
		{"nothing tracked sends the links as written", map[string]any{}, "T-2",
			`<a href="https://shop.example/o/T-2">`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, false)
			tt.settings["fromName"], tt.settings["fromAddress"] = "Shop", "orders@"+f.Domain
			id := f.campaignOn("transactional", "email", tt.settings,
				map[string]any{"subject": "Order {{context.orderId}}", "html": html, "text": "Order {{context.orderId}}"})
			to := "track-" + strings.ToLower(tt.order) + "@example.com"
			out := f.trigger(id, "track-"+tt.order, map[string]any{"type": "external", "namespace": "email", "userId": to,
				"context": map[string]any{"orderId": tt.order}})
			if len(out) != 1 || out[0] != to+" sent" {
				t.Fatalf("outcomes %v, want %s sent", out, to)
			}
			sent := sentTo(t, to)
			if len(sent) != 1 || !strings.Contains(sent[0].Body, tt.want) {
				t.Errorf("moto holds %+v for %s; want one email whose body has %s", sent, to, tt.want)
			}
		})
	}
}
