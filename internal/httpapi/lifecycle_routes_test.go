package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/derrors"
)

func TestCampaignRoutesHonourETagsAndQueryParameters(t *testing.T) {
	f := newHarness(t)
	id := f.campaign(t, acme, campaignOpts{})
	get := event("GET /campaigns/{id}", "", acmeKey, idParam(id))
	resp, err := f.manage(t.Context(), get)
	if err != nil || resp.StatusCode != 200 || resp.Headers["ETag"] != `"1"` {
		t.Fatalf("GET = %d ETag %q", resp.StatusCode, resp.Headers["ETag"])
	}
	tests := []struct {
		name    string
		ifMatch string
		status  int
	}{
		{"a stale ETag is a 412", `"7"`, http.StatusPreconditionFailed},
		{"a tag that is not ours is a 412", `"abc"`, http.StatusPreconditionFailed},
		{"a weak form of the current ETag matches", `W/"1"`, http.StatusOK},
		{"a star matches", `*`, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := event("PATCH /campaigns/{id}", `{"description":"d"}`, acmeKey, idParam(id))
			ev.Headers["if-match"] = tt.ifMatch
			status, body := call(t, f.manage, ev)
			if status != tt.status {
				t.Errorf("PATCH If-Match %s = %d %s, want %d", tt.ifMatch, status, body, tt.status)
			}
			if status != 200 {
				errorBody(t, status, body)
			}
		})
	}
	ev := event("GET /campaigns", "", acmeKey, nil)
	ev.QueryStringParameters = map[string]string{"colour": "red", "status": "live"}
	status, body := call(t, f.manage, ev)
	if diff := cmp.Diff([]string{"colour"}, fieldNames(errorBody(t, status, body))); diff != "" || status != 400 {
		t.Errorf("unknown query parameter = %d (-want +got):\n%s", status, diff)
	}
	ev = event("DELETE /campaigns/{id}", "", acmeKey, idParam(id))
	if status, body := call(t, f.manage, ev); status != http.StatusNoContent || body != "" {
		t.Errorf("DELETE draft = %d %q, want 204 and no body", status, body)
	}
	if status, _ := call(t, f.manage, get); status != 404 {
		t.Errorf("GET after DELETE = %d, want 404", status)
	}
}

func TestPatchBodiesAreMergePatchesReadStrictly(t *testing.T) {
	type fe = derrors.FieldError
	notObject := []fe{{Field: "body", Message: "must be a JSON object (a merge patch)"}}
	tests := []struct {
		name    string
		route   string
		missing bool // the id names nothing
		ifMatch string
		body    string
		status  int
		errors  []fe
	}{
		{"malformed JSON is named as the body", "PATCH /campaigns/{id}", false, "", `{"name":`, 400,
			[]fe{{Field: "body", Message: "malformed JSON: unexpected end of input"}}},
		{"an array is not a merge patch", "PATCH /campaigns/{id}", false, "", `[{"name":"x"}]`, 400, notObject},
		{"null alone is not a merge patch", "PATCH /campaigns/{id}", false, "", `null`, 400, notObject},
		{"two values are refused", "PATCH /campaigns/{id}", false, "", `{} {}`, 400,
			[]fe{{Field: "body", Message: "must hold exactly one JSON value"}}},
		{"unknown fields are named with their path", "PATCH /campaigns/{id}", false, "", `{"content":{"email":{"subjet":"x"}},"status":"live"}`, 400,
			[]fe{{Field: "content.email.subjet", Message: "is not a known field"}, {Field: "status", Message: "is not a known field"}}},
		{"wrong types are named", "PATCH /campaigns/{id}", false, "", `{"name":5,"schedule":{"start":"tomorrow"}}`, 400,
			[]fe{{Field: "name", Message: "must be a string, not a number"},
				{Field: "schedule.start", Message: `must be an RFC 3339 date-time such as 2026-07-14T20:30:00Z, not "tomorrow"`}}},
		{"the type is fixed", "PATCH /campaigns/{id}", false, "", `{"type":"marketing"}`, 400,
			[]fe{{Field: "type", Message: "is fixed after creation (it is transactional)"}}},
		{"a malformed body is refused before the campaign is read", "PATCH /campaigns/{id}", true, "", `[`, 400,
			[]fe{{Field: "body", Message: "malformed JSON: unexpected end of input"}}},
		{"a patch of a missing campaign is a 404", "PATCH /campaigns/{id}", true, "", `{}`, 404, nil},
		{"a bad If-Match is refused before the body is read", "PATCH /campaigns/{id}", false, `"x"`, `[`, 412, nil},
		{"a stale If-Match is refused before the patch is applied", "PATCH /campaigns/{id}", false, `"7"`, `{"type":"marketing"}`, 412, nil},
		{"a configuration's patch must be an object", "PATCH /channel-configurations/{id}", false, "", `"x"`, 400, notObject},
		{"a wrong type is named before the fixed fields are checked", "PATCH /channel-configurations/{id}", false, "", `{"category":"marketing","email":{"replyTo":"a@b.c"}}`, 400,
			[]fe{{Field: "email.replyTo", Message: "must be an array, not a string"}}},
		{"a configuration's unknown fields are named", "PATCH /channel-configurations/{id}", false, "", `{"email":{"from":"a@b.c"},"revision":3}`, 400,
			[]fe{{Field: "email.from", Message: "is not a known field"}, {Field: "revision", Message: "is not a known field"}}},
		{"a configuration's category change is named", "PATCH /channel-configurations/{id}", false, "", `{"category":"marketing"}`, 400,
			[]fe{{Field: "category", Message: "is fixed after creation (it is transactional)"}}},
		{"a patch of a missing configuration is a 404", "PATCH /channel-configurations/{id}", true, "", `{}`, 404, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newHarness(t)
			id := f.campaign(t, acme, campaignOpts{})
			before, err := f.store.GetCampaign(t.Context(), acme, id)
			if err != nil {
				t.Fatal(err)
			}
			if tt.route == "PATCH /channel-configurations/{id}" {
				id = before.Draft.ChannelConfigID
			}
			if tt.missing {
				id = "nope"
			}
			ev := event(tt.route, tt.body, acmeKey, idParam(id))
			if tt.ifMatch != "" {
				ev.Headers["if-match"] = tt.ifMatch
			}
			status, body := call(t, f.manage, ev)
			if status != tt.status {
				t.Fatalf("status = %d, want %d; body %s", status, tt.status, body)
			}
			if diff := cmp.Diff(tt.errors, errorBody(t, status, body).Errors); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			after, _ := f.store.GetCampaign(t.Context(), acme, before.ID)
			cfg, _ := f.store.GetConfig(t.Context(), acme, before.Draft.ChannelConfigID)
			if after.Revision != before.Revision || cfg.Revision != 1 {
				t.Errorf("a refused patch was stored: campaign revision %d, configuration revision %d", after.Revision, cfg.Revision)
			}
		})
	}
}

func TestPatchNullClearsAFieldAndKeepsTheRest(t *testing.T) {
	f := newHarness(t)
	id := f.campaign(t, acme, campaignOpts{})
	ev := event("PATCH /campaigns/{id}", `{"description":"d","content":{"email":{"html":null,"text":"Hi"}}}`, acmeKey, idParam(id))
	ev.Headers["if-match"] = `"1"`
	status, body := call(t, f.manage, ev)
	if status != http.StatusOK {
		t.Fatalf("PATCH = %d %s", status, body)
	}
	var d campaign.Detail
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatal(err)
	}
	got := struct {
		Description, Subject, HTML, Text string
		Revision                         int
	}{d.Description, d.Draft.Content.Email.Subject, d.Draft.Content.Email.HTML, d.Draft.Content.Email.Text, d.Revision}
	want := got
	want.Description, want.Subject, want.HTML, want.Text, want.Revision = "d", "Order {{context.orderId}}", "", "Hi", 2
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("patched campaign (-want +got):\n%s", diff)
	}

	cfgID := d.Draft.ChannelConfigID
	status, body = call(t, f.manage, event("PATCH /channel-configurations/{id}", `{"name":"Receipts","email":{"fromName":null}}`, acmeKey, idParam(cfgID)))
	if status != http.StatusOK {
		t.Fatalf("PATCH configuration = %d %s", status, body)
	}
	var cfg campaign.ChannelConfig
	if err := json.Unmarshal([]byte(body), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Name != "Receipts" || cfg.Email.FromName != "" || cfg.Email.FromAddress != "orders@acme.example" || cfg.Revision != 2 {
		t.Errorf("patched configuration = %+v; want the new name, no From name, the From address kept, revision 2", cfg)
	}

	// Tracking: an explicit false is stored; a null goes back to the
	// category's default (absent); a non-boolean is named.
	for _, step := range []struct {
		patch                string
		wantOpens, wantClick *bool
	}{
		{`{"email":{"trackClicks":false,"trackOpens":true}}`, ptr(true), ptr(false)},
		{`{"email":{"trackClicks":null}}`, ptr(true), nil},
	} {
		status, body = call(t, f.manage, event("PATCH /channel-configurations/{id}", step.patch, acmeKey, idParam(cfgID)))
		if status != http.StatusOK {
			t.Fatalf("PATCH %s = %d %s", step.patch, status, body)
		}
		cfg = campaign.ChannelConfig{}
		if err := json.Unmarshal([]byte(body), &cfg); err != nil {
			t.Fatal(err)
		}
		got := []*bool{cfg.Email.TrackOpens, cfg.Email.TrackClicks}
		if diff := cmp.Diff([]*bool{step.wantOpens, step.wantClick}, got); diff != "" {
			t.Errorf("after PATCH %s, [trackOpens trackClicks] (-want +got):\n%s", step.patch, diff)
		}
	}
	status, body = call(t, f.manage, event("PATCH /channel-configurations/{id}", `{"email":{"trackOpens":"yes"}}`, acmeKey, idParam(cfgID)))
	if status != http.StatusBadRequest || !strings.Contains(body, "email.trackOpens") {
		t.Errorf("PATCH trackOpens \"yes\" = %d %s; want 400 naming email.trackOpens", status, body)
	}
}

func ptr[T any](v T) *T { return &v }

func TestPromoteRouteMakesATreatmentTheDraftContentAndNamesTheFieldWhenItCannot(t *testing.T) {
	f := newHarness(t)
	id := f.campaign(t, acme, campaignOpts{})
	patch := `{"content":{"experiment":{"treatments":[{"name":"control","percent":50},{"name":"B","percent":40,"email":{"subject":"B","html":"<p>B</p>"}}]}}}`
	if status, body := call(t, f.manage, event("PATCH /campaigns/{id}", patch, acmeKey, idParam(id))); status != 200 {
		t.Fatalf("PATCH experiment = %d %s", status, body)
	}
	status, body := call(t, f.manage, event("POST /campaigns/{id}/promote", `{"treatment":"C"}`, acmeKey, idParam(id)))
	if diff := cmp.Diff([]string{"treatment"}, fieldNames(errorBody(t, status, body))); diff != "" || status != 400 {
		t.Errorf("promote an unknown treatment = %d (-want +got):\n%s", status, diff)
	}
	status, body = call(t, f.manage, event("POST /campaigns/{id}/promote", `{"treatment":"B","extra":1}`, acmeKey, idParam(id)))
	if status != 400 {
		t.Errorf("promote with an unknown member = %d %s, want 400", status, body)
	}
	status, body = call(t, f.manage, event("POST /campaigns/{id}/promote", `{"treatment":"B"}`, acmeKey, idParam(id)))
	if status != 200 {
		t.Fatalf("promote B = %d %s", status, body)
	}
	var got campaign.Campaign
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if e := got.Draft.Content.Email; e == nil || e.Subject != "B" || got.Draft.Content.Experiment != nil {
		t.Errorf("draft content after promoting B = %+v", got.Draft.Content)
	}
}
