package localcloud

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/infra/motoserver"
)

func TestTriggeringTheDemoCampaignSendsThePersonalisedEmail(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := startCloud(t)
	demo, err := c.SeedDemo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	api := &Client{BaseURL: c.URL, KeyID: demo.KeyID, Secret: demo.Secret, Org: demo.Org, Sandbox: demo.Sandbox}
	var accepted struct {
		ExecutionID string `json:"executionId"`
		RequestID   string `json:"requestId"`
	}
	err = api.Do(ctx, http.MethodPost, "/im/executions/unitary", map[string]any{
		"requestId":  "cloud-test-1",
		"campaignId": demo.CampaignID,
		"recipients": []any{map[string]any{
			"type": "aep", "namespace": "email", "userId": "jane@example.com",
			"context": map[string]any{"orderId": "A-1001", "carrier": "UPS", "items": []any{map[string]any{"name": "Trail shoes", "qty": 1}}},
		}},
	}, http.StatusAccepted, &accepted)
	if err != nil {
		t.Fatal(err)
	}
	if accepted.ExecutionID == "" || accepted.RequestID != "cloud-test-1" {
		t.Errorf("202 body = %+v, want an executionId and requestId cloud-test-1", accepted)
	}
	if err := c.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	emails, err := c.Moto.SentEmails(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(emails) != 1 {
		t.Fatalf("sent %d emails, want 1: %+v", len(emails), emails)
	}
	got := emails[0]
	want := motoserver.Email{
		ID:           got.ID,
		Source:       `"Herald Demo" <demo@herald.example>`,
		Destinations: motoserver.EmailDestinations{To: []string{"jane@example.com"}},
		Subject:      "Your order A-1001 has shipped, Jane",
		Body:         got.Body,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sent email (-want +got):\n%s", diff)
	}
	for _, s := range []string{"Hi Jane,", "<strong>A-1001</strong>", "with UPS", "<li>1 &times; Trail shoes</li>"} {
		if !strings.Contains(got.Body, s) {
			t.Errorf("body lacks %q:\n%s", s, got.Body)
		}
	}
}

func TestTheDemoCampaignsRequestSampleSendsAsPasted(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := startCloud(t)
	demo, err := c.SeedDemo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	api := demo.Client(c.URL)
	var sample struct {
		Body     map[string]any
		Warnings []any
	}
	if err := api.Do(ctx, http.MethodGet, "/campaigns/"+demo.CampaignID+"/request-sample", nil, http.StatusOK, &sample); err != nil {
		t.Fatal(err)
	}
	if len(sample.Warnings) > 0 {
		t.Errorf("sample warnings: %v", sample.Warnings)
	}
	// Pasted as it is, with a request id and the demo profile's id.
	body := sample.Body
	body["requestId"] = "pasted-sample-1"
	rcpt := body["recipients"].([]any)[0].(map[string]any)
	rcpt["userId"] = demo.ProfileID
	if err := api.Do(ctx, http.MethodPost, "/im/executions/unitary", body, http.StatusAccepted, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	emails, err := c.Moto.SentEmails(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(emails) != 1 || !strings.Contains(emails[0].Body, "<li>") {
		t.Errorf("sent %+v; want one email with the sample's item", emails)
	}
}
