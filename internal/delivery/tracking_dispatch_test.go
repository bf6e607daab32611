package delivery_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/profile"
)

func TestDispatchSendsThroughTheSetItsTrackingChooses(t *testing.T) {
	const (
		link   = `<p><a href="https://acme.example/o">Your order</a></p>`
		marked = `<p><a ses:no-track href="https://acme.example/o">Your order</a></p>`
	)
	on, off := true, false
	type sent struct{ ConfigurationSet, HTML string }
	tests := []struct {
		name          string
		cat           campaign.Type
		own           string
		opens, clicks *bool
		want          sent
	}{
		{"marketing tracks opens and clicks by default", campaign.Marketing, "", nil, nil, sent{"herald-default", link}},
		{"transactional tracks nothing by default", campaign.Transactional, "", nil, nil, sent{"herald-untracked", link}},
		{"clicks without opens go through the clicks set", campaign.Marketing, "", &off, nil, sent{"herald-clicks", link}},
		{"opens without clicks opt every link out", campaign.Transactional, "", &on, nil, sent{"herald-default", marked}},
		{"explicit values override the marketing default", campaign.Marketing, "", &off, &off, sent{"herald-untracked", link}},
		{"explicit values override the transactional default", campaign.Transactional, "", &on, &on, sent{"herald-default", link}},
		{"a configuration's own set is kept and its links opted out when clicks are off", campaign.Transactional, "acme-events", nil, nil, sent{"acme-events", marked}},
		{"a configuration's own set is kept as is when clicks are on", campaign.Marketing, "acme-events", nil, nil, sent{"acme-events", link}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := defaultSettings
			s.ConfigurationSet, s.TrackOpens, s.TrackClicks = tt.own, tt.opens, tt.clicks
			f := newFixtureIn(t, tt.cat, campaign.EmailContent{Subject: "Order", HTML: link, Text: "Your order"}, s)
			f.d.ClicksConfigurationSet, f.d.UntrackedConfigurationSet = "herald-clicks", "herald-untracked"
			r := delivery.Recipient{Type: "external", UserID: "a@example.com", Namespace: "email"}
			if tt.cat == campaign.Marketing {
				// Marketing sends need a consenting profile.
				f.putProfile(t, profile.Profile{Namespace: "email", ID: "a@example.com", Attributes: map[string]any{
					"email": "a@example.com", "consents": map[string]any{"marketing": map[string]any{"email": map[string]any{"val": "y"}}}}})
				r.Type = "aep"
			}
			if err := f.d.Dispatch(context.Background(), job(r)); err != nil {
				t.Fatalf("Dispatch: %v", err)
			}
			var got []sent
			for _, e := range f.mailer.Sent() {
				got = append(got, sent{e.ConfigurationSet, e.HTML})
			}
			if diff := cmp.Diff([]sent{tt.want}, got); diff != "" {
				t.Errorf("sent (-want +got):\n%s\nledger: %+v", diff, f.ledger())
			}
		})
	}
}
