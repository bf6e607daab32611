package preview_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/contextschema"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/preview"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/internal/strictjson"
	"github.com/heraldhq/herald/internal/tenant"
)

var (
	acme   = tenant.Tenant{Org: "acme", Sandbox: "prod"}
	globex = tenant.Tenant{Org: "globex", Sandbox: "prod"}
	now    = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

type fixture struct {
	store  *memory.Store
	mailer *memory.Mailer
	camps  *campaign.Service
	d      *delivery.Dispatcher
	svc    *preview.Service
	cfgID  string
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{store: memory.New(), mailer: &memory.Mailer{}}
	n := 0
	f.camps = &campaign.Service{Schemas: contextschema.Compiler{}, Store: f.store, Now: func() time.Time { return now }, NewID: func() string { n++; return fmt.Sprintf("id-%d", n) }}
	f.d = &delivery.Dispatcher{Campaigns: f.store, Profiles: f.store, Ledger: f.store, Mailer: f.mailer,
		Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }}
	f.svc = &preview.Service{Campaigns: f.store, Profiles: f.store, Sender: f.d, NewID: func() string { return "p1" }}
	cfg, err := f.camps.CreateConfig(context.Background(), acme, campaign.ConfigInput{Name: "mail", Channel: campaign.Email,
		Category: campaign.Transactional, Email: &campaign.EmailSettings{FromName: "Acme", FromAddress: "orders@acme.example"}})
	if err != nil {
		t.Fatal(err)
	}
	f.cfgID = cfg.ID
	return f
}

const (
	subject = `Order {{context.orderId}} for {{profile.person.name.firstName}}`
	html    = `<html><body><p>Hi {{profile.person.name.firstName}} ({{profile.tier}})</p>{{#each context.items}}<li>{{name}} x{{qty}}</li>{{/each}}</body></html>`
)

func (f *fixture) campaign(t testing.TB, activate bool) string {
	t.Helper()
	c, err := f.camps.CreateCampaign(context.Background(), acme, campaign.CampaignInput{Name: "Orders", Type: campaign.Transactional,
		Channel: campaign.Email, ChannelConfigID: f.cfgID, Audience: campaign.Audience{Namespace: "crmId"},
		Content: campaign.Content{Email: &campaign.EmailContent{Subject: subject, Preheader: "Your order", HTML: html, Text: "Hi {{profile.person.name.firstName}}"}}})
	if err != nil {
		t.Fatal(err)
	}
	if activate {
		if _, err := f.camps.Activate(context.Background(), acme, c.ID); err != nil {
			t.Fatal(err)
		}
	}
	return c.ID
}

// obj is m as a decoded body's profile or context.
func obj(t testing.TB, m map[string]any) render.Object {
	t.Helper()
	o, err := render.ObjectOf(m)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestPreviewIsWhatDispatchSends(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	id := f.campaign(t, true)
	stored := profile.Profile{Namespace: "crmId", ID: "42", Attributes: map[string]any{"person": map[string]any{"name": map[string]any{"firstName": "Jane"}}, "tier": "gold"},
		Identities: map[string]string{"email": "jane@example.com"}}
	if err := f.store.Put(ctx, acme, stored); err != nil {
		t.Fatal(err)
	}
	override := decode(t, `{"tier":"platinum <b>"}`)
	ctxData := decode(t, `{"orderId":"A-1","items":[{"name":"Shoes & socks","qty":2}]}`)

	got, err := f.svc.Preview(ctx, acme, id, preview.Request{UserID: "42", Profile: obj(t, override), Context: obj(t, ctxData)})
	if err != nil {
		t.Fatal(err)
	}
	job := delivery.Job{Tenant: acme, ExecutionID: "ex-1", CampaignID: id, Version: 1,
		Recipients: []delivery.Recipient{{Type: "aep", UserID: "42", Namespace: "crmId", Profile: toObject(t, override), Context: toObject(t, ctxData)}}}
	if err := f.d.Dispatch(ctx, job); err != nil {
		t.Fatal(err)
	}
	sent := f.mailer.Sent()
	if len(sent) != 1 {
		t.Fatalf("dispatch sent %d emails", len(sent))
	}
	want := preview.Email{Subject: sent[0].Subject, HTML: sent[0].HTML, Text: sent[0].Text}
	if diff := cmp.Diff(&want, got.Email); diff != "" {
		t.Errorf("preview differs from what Dispatch sent (-sent +preview):\n%s", diff)
	}
	if !strings.Contains(got.Email.HTML, "platinum &lt;b&gt;") || got.Email.Subject != "Order A-1 for Jane" {
		t.Errorf("preview = %+v; want the request profile merged over the stored one, escaped in HTML", got.Email)
	}
	if got.Version != 1 || got.Draft {
		t.Errorf("preview of a live campaign without edits: version %d draft %v; want the live version 1", got.Version, got.Draft)
	}
}

func TestPreviewOfADraftAndItsErrors(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	id := f.campaign(t, true)
	edit, err := strictjson.ParsePatch[campaign.CampaignInput]([]byte(`{"content":{"email":{"subject":"Draft {{formatDate context.when \"yyyy\"}}"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.camps.UpdateCampaign(ctx, acme, id, edit, 0); err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.Preview(ctx, acme, id, preview.Request{Context: obj(t, map[string]any{"when": "2026-07-14"})})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Draft || got.Email.Subject != "Draft 2026" {
		t.Errorf("preview = draft %v subject %q; want the pending draft", got.Draft, got.Email.Subject)
	}
	if v1, _ := f.svc.Preview(ctx, acme, id, preview.Request{Version: 1}); v1.Email == nil || !strings.HasPrefix(v1.Email.Subject, "Order") {
		t.Errorf("preview of version 1 = %+v", v1.Email)
	}
	_, err = f.svc.Preview(ctx, acme, id, preview.Request{Context: obj(t, map[string]any{"when": "not a date"})})
	var de *derrors.Error
	if !errors.As(err, &de) || de.Kind != derrors.Unprocessable || len(de.Fields) != 1 || de.Fields[0].Field != "content.email.subject" ||
		!strings.HasPrefix(de.Fields[0].Message, "line 1, col") {
		t.Errorf("render error = %#v; want a 422 naming content.email.subject with its position", err)
	}
	if _, err := f.svc.Preview(ctx, acme, id, preview.Request{UserID: "nobody"}); !derrors.Is(err, derrors.NotFound) {
		t.Errorf("preview for an unknown profile = %v, want NotFound", err)
	}
	if _, err := f.svc.Preview(ctx, globex, id, preview.Request{}); !derrors.Is(err, derrors.NotFound) {
		t.Errorf("another tenant's preview = %v, want NotFound", err)
	}
}

func TestPreviewOfSMSAndPushReportsSegmentsAndPayloadSizes(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	c, err := f.camps.CreateCampaign(ctx, acme, campaign.CampaignInput{Name: "otp", Type: campaign.Transactional, Channel: campaign.SMS,
		Content: campaign.Content{SMS: &campaign.SMSContent{Body: "Code {{context.code}} — valid 5 min"}}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.Preview(ctx, acme, c.ID, preview.Request{Context: obj(t, map[string]any{"code": "123456"})})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&preview.SMS{Body: "Code 123456 — valid 5 min", Encoding: "UCS-2", Units: 25, Segments: 1}, got.SMS); diff != "" {
		t.Errorf("SMS preview (-want +got):\n%s", diff)
	}
	p, err := f.camps.CreateCampaign(ctx, acme, campaign.CampaignInput{Name: "push", Type: campaign.Transactional, Channel: campaign.Push,
		Content: campaign.Content{Push: &campaign.PushContent{Title: "Hi {{profile.name}}", Body: "Your order shipped", DeepLink: "app://o/{{context.id}}"}}})
	if err != nil {
		t.Fatal(err)
	}
	got, err = f.svc.Preview(ctx, acme, p.ID, preview.Request{Profile: obj(t, map[string]any{"name": "Jo"}), Context: obj(t, map[string]any{"id": "7"})})
	if err != nil {
		t.Fatal(err)
	}
	if got.Push == nil || got.Push.Title != "Hi Jo" || got.Push.DeepLink != "app://o/7" || got.Push.Payloads["APNS"].Size == 0 || got.Push.Payloads["GCM"].Size == 0 {
		t.Errorf("push preview = %+v", got.Push)
	}
}

func TestProofsAreSentThroughDispatchAndLedgeredAsProofs(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	id := f.campaign(t, false) // a draft: proofs come before activation
	res, err := f.svc.Proofs(ctx, acme, id, preview.ProofRequest{Recipients: []string{"qa@acme.example", "boss@acme.example"},
		Profile: obj(t, map[string]any{"person": map[string]any{"name": map[string]any{"firstName": "QA"}}}), Context: obj(t, map[string]any{"orderId": "T-1"})})
	if err != nil {
		t.Fatal(err)
	}
	want := preview.ProofResult{ProofID: "proof-p1", CampaignID: id, Draft: true, Results: []preview.ProofOutcome{
		{Recipient: "qa@acme.example", Outcome: delivery.Sent}, {Recipient: "boss@acme.example", Outcome: delivery.Sent}}}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("proof result (-want +got):\n%s", diff)
	}
	for _, e := range f.mailer.Sent() {
		if e.Subject != "[Proof] Order T-1 for QA" {
			t.Errorf("proof subject = %q", e.Subject)
		}
	}
	entries := f.store.AllEntries()
	if len(entries) != 2 {
		t.Fatalf("ledger has %d entries, want 2", len(entries))
	}
	for _, e := range entries {
		if !e.Proof || e.ExecutionID != "proof-p1" || e.Outcome != delivery.Sent {
			t.Errorf("ledger entry %+v; want a sent proof entry", e)
		}
	}
}

func TestProofsRefuseBadRecipients(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	id := f.campaign(t, false)
	tests := []struct {
		name   string
		rcpts  []string
		fields []string
	}{
		{"no recipients", nil, []string{"recipients"}},
		{"more than ten", strings.Split("a@x.io b@x.io c@x.io d@x.io e@x.io f@x.io g@x.io h@x.io i@x.io j@x.io k@x.io", " "), []string{"recipients"}},
		{"an invalid and a repeated address", []string{"a@x.io", "nope", "a@x.io"}, []string{"recipients[1]", "recipients[2]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name+" are refused and nothing is sent", func(t *testing.T) {
			_, err := f.svc.Proofs(ctx, acme, id, preview.ProofRequest{Recipients: tt.rcpts})
			var de *derrors.Error
			if !errors.As(err, &de) || de.Kind != derrors.Invalid {
				t.Fatalf("Proofs = %v, want Invalid", err)
			}
			var got []string
			for _, fe := range de.Fields {
				got = append(got, fe.Field)
			}
			if diff := cmp.Diff(tt.fields, got); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
			if n := len(f.mailer.Sent()); n != 0 {
				t.Errorf("%d emails were sent", n)
			}
		})
	}
}

func TestRequestSampleListsEveryVariable(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	id := f.campaign(t, false)
	caller := preview.Caller{BaseURL: "https://api.example", KeyID: "hk_1", Org: "acme", Sandbox: "prod"}
	if _, err := f.svc.RequestSample(ctx, acme, id, caller); !derrors.Is(err, derrors.Conflict) {
		t.Errorf("sample of a draft = %v, want Conflict", err)
	}
	if _, err := f.camps.Activate(ctx, acme, id); err != nil {
		t.Fatal(err)
	}
	s, err := f.svc.RequestSample(ctx, acme, id, caller)
	if err != nil {
		t.Fatal(err)
	}
	wantVars := preview.SampleVariables{Profile: []string{"profile.person.name.firstName", "profile.tier"},
		Context: []string{"context.items", "context.items[].name", "context.items[].qty", "context.orderId"}}
	if diff := cmp.Diff(wantVars, s.Variables); diff != "" {
		t.Errorf("variables (-want +got):\n%s", diff)
	}
	var raw strings.Builder
	enc := json.NewEncoder(&raw)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s.Body)
	body := strings.TrimSpace(raw.String())
	wantBody := `{"campaignId":"` + id + `","recipients":[{"context":{"items":[{"name":"<name>","qty":"<qty>"}],"orderId":"<orderId>"},` +
		`"namespace":"crmId","profile":{"person":{"name":{"firstName":"<firstName>"}},"tier":"<tier>"},"type":"aep","userId":"<crmId id>"}],"requestId":"<unique request id>"}`
	if body != wantBody || !strings.Contains(s.Curl, wantBody) {
		t.Errorf("body = %s\nwant %s", body, wantBody)
	}
	if s.URL != "https://api.example/im/executions/unitary" || !strings.Contains(s.Curl, "-H 'x-api-key: hk_1'") ||
		!strings.Contains(s.Curl, `Bearer $HERALD_SECRET`) || !strings.Contains(s.Curl, "-d '{") {
		t.Errorf("url %s, curl:\n%s", s.URL, s.Curl)
	}
}

// toObject is m as a trigger's recipient carries it.
func toObject(t *testing.T, m map[string]any) render.Object {
	t.Helper()
	o, err := render.ObjectOf(m)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// A preview body's profile and context keep their members' order, as a
// trigger's do: {{#each}} over them previews what Dispatch will send, in
// handlebars.js's order (array-index names first, then as written), and
// so does a proof.
func TestPreviewIteratesObjectsInTheBodysOrder(t *testing.T) {
	f := newFixture(t)
	id := f.live(t, campaign.CampaignInput{Name: "Order", Type: campaign.Transactional, Channel: campaign.Email,
		Audience: campaign.Audience{Namespace: "crmId"},
		Content: campaign.Content{Email: &campaign.EmailContent{Subject: "{{#each context.sizes}}{{@key}}={{this}};{{/each}}",
			HTML: "<p>{{#each profile.prefs}}{{@key}} {{/each}}</p>"}}})
	// Decoded as the preview route decodes its body.
	var in preview.Request
	body := `{"profile": {"prefs": {"zeta": 1, "alpha": 2, "10": 3, "2": 4}}, "context": {"sizes": {"XL": 1, "S": 2, "M": 3}}}`
	if err := strictjson.Decode([]byte(body), &in); err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.Preview(context.Background(), acme, id, in)
	if err != nil {
		t.Fatal(err)
	}
	if got.Email.Subject != "XL=1;S=2;M=3;" || !strings.Contains(got.Email.HTML, "<p>2 10 zeta alpha </p>") {
		t.Errorf("subject %q, html %q; want the body's order", got.Email.Subject, got.Email.HTML)
	}
	var proof preview.ProofRequest
	if err := strictjson.Decode([]byte(`{"recipients": ["qa@acme.example"], "context": {"sizes": {"XL": 1, "S": 2, "M": 3}}}`), &proof); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Proofs(context.Background(), acme, id, proof); err != nil {
		t.Fatal(err)
	}
	if sent := f.mailer.Sent(); len(sent) != 1 || !strings.HasSuffix(sent[0].Subject, "XL=1;S=2;M=3;") {
		t.Errorf("proof sent %+v", sent)
	}
}
