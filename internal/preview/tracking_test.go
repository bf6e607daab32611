package preview_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/contextschema"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/preview"
)

// Tracking is a property of sending: the preview shows the HTML as
// written, and a proof goes out as a real send of its configuration
// would (set chosen, links opted out when clicks are off).
func TestTrackingLeavesThePreviewAloneAndProofsFollowTheConfiguration(t *testing.T) {
	const link = `<p><a href="https://acme.example/o/{{context.orderId}}">Your order</a></p>`
	opens := true
	for _, tt := range []struct {
		name                 string
		trackOpens           *bool
		wantSet, wantHTMLHas string
	}{
		{"by default (transactional: nothing tracked)", nil, "herald-untracked", `<a href="https://acme.example/o/T-1">`},
		{"with opens tracked and clicks not", &opens, "herald-all", `<a ses:no-track href="https://acme.example/o/T-1">`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			store, mailer := memory.New(), &memory.Mailer{}
			n := 0
			camps := &campaign.Service{Schemas: contextschema.Compiler{}, Store: store, Now: func() time.Time { return now }, NewID: func() string { n++; return fmt.Sprintf("id-%d", n) }}
			d := &delivery.Dispatcher{Campaigns: store, Profiles: store, Ledger: store, Mailer: mailer,
				DefaultConfigurationSet: "herald-all", ClicksConfigurationSet: "herald-clicks", UntrackedConfigurationSet: "herald-untracked",
				Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }}
			svc := &preview.Service{Campaigns: store, Profiles: store, Sender: d, NewID: func() string { return "p1" }}
			cfg, err := camps.CreateConfig(ctx, acme, campaign.ConfigInput{Name: "mail", Channel: campaign.Email, Category: campaign.Transactional,
				Email: &campaign.EmailSettings{FromName: "Acme", FromAddress: "orders@acme.example", TrackOpens: tt.trackOpens}})
			if err != nil {
				t.Fatal(err)
			}
			c, err := camps.CreateCampaign(ctx, acme, campaign.CampaignInput{Name: "Orders", Type: campaign.Transactional,
				Channel: campaign.Email, ChannelConfigID: cfg.ID, Audience: campaign.Audience{Namespace: "crmId"},
				Content: campaign.Content{Email: &campaign.EmailContent{Subject: "Order", HTML: link, Text: "Your order"}}})
			if err != nil {
				t.Fatal(err)
			}
			data := map[string]any{"orderId": "T-1"}

			p, err := svc.Preview(ctx, acme, c.ID, preview.Request{Context: obj(t, data)})
			if err != nil {
				t.Fatal(err)
			}
			if want := `<p><a href="https://acme.example/o/T-1">Your order</a></p>`; p.Email.HTML != want {
				t.Errorf("preview HTML = %q, want %q (as written)", p.Email.HTML, want)
			}

			if _, err := svc.Proofs(ctx, acme, c.ID, preview.ProofRequest{Recipients: []string{"qa@acme.example"}, Context: obj(t, data)}); err != nil {
				t.Fatal(err)
			}
			sent := mailer.Sent()
			if len(sent) != 1 || sent[0].ConfigurationSet != tt.wantSet || !strings.Contains(sent[0].HTML, tt.wantHTMLHas) {
				t.Errorf("proof sent %+v; want one email through %s with %s", sent, tt.wantSet, tt.wantHTMLHas)
			}
		})
	}
}
