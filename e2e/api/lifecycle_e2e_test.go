package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/heraldhq/herald/internal/delivery"
)

// doH is do with request headers added and the response headers returned.
func (f *fixture) doH(method, path string, extra map[string]string, body any) (int, http.Header, []byte) {
	f.t.Helper()
	h := f.Headers()
	for k, v := range extra {
		h[k] = v
	}
	status, header, out, err := cloud.Call(method, path, h, body)
	if err != nil {
		f.t.Fatal(err)
	}
	return status, header, out
}

// Activating a draft version of a live campaign while triggers flow: every
// execution renders exactly one whole version, never a mix, and its
// ledger records that version.
func TestActivatingADraftVersionWhileTriggersFlow(t *testing.T) {
	f := newFixture(t, false)
	var mu sync.Mutex
	executions := map[string]string{} // executionId -> recipient
	trigger := func(i int) {
		addr := fmt.Sprintf("flow%d@example.com", i)
		status, body := do(t, "POST", "/im/executions/unitary", f.Headers(), f.unitary(fmt.Sprintf("flow-%d", i),
			map[string]any{"type": "external", "namespace": "crmId", "userId": fmt.Sprintf("c-%d", i),
				"channelData": map[string]any{"emailAddress": addr},
				"profile":     map[string]any{"person": map[string]any{"name": map[string]any{"firstName": "Flo"}}},
				"context":     orderContext(fmt.Sprintf("F-%d", i))}))
		if status != http.StatusAccepted {
			t.Errorf("trigger %d = %d %s", i, status, body)
			for _, l := range strings.Split(logs.String(), "\n") {
				if strings.Contains(l, "request failed") {
					t.Log(l)
				}
			}
			return
		}
		var resp struct{ ExecutionID string }
		_ = json.Unmarshal(body, &resp)
		mu.Lock()
		executions[resp.ExecutionID] = addr
		mu.Unlock()
	}
	for i := range 5 { // before: version 1
		trigger(i)
	}
	f.mustDo("PATCH", "/campaigns/"+f.campaignID, map[string]any{"content": map[string]any{"email": map[string]any{
		"subject": "[v2] " + subjectTmpl, "html": strings.Replace(htmlTmpl, "<p>Hi", "<p>v2 Hi", 1), "text": "v2 " + textTmpl}}}, 200, nil)
	var wg sync.WaitGroup
	for w := range 4 { // during
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 6 {
				trigger(100 + w*10 + i)
			}
		}()
	}
	f.mustDo("POST", "/campaigns/"+f.campaignID+"/activate", nil, 200, nil)
	wg.Wait()
	for i := range 5 { // after: version 2
		trigger(200 + i)
	}
	drain(t)

	perVersion := map[int]int{}
	for ex, addr := range executions {
		sent := sentTo(t, addr)
		if len(sent) != 1 {
			t.Errorf("%s received %d emails, want 1", addr, len(sent))
			continue
		}
		e := sent[0]
		v2Subject, v2Body := strings.HasPrefix(e.Subject, "[v2] "), strings.Contains(e.Body, "<p>v2 Hi")
		if v2Subject != v2Body {
			t.Errorf("%s got a mix of versions: subject %q, body %q", addr, e.Subject, e.Body)
		}
		version := 1
		if v2Subject {
			version = 2
		}
		perVersion[version]++
		entries, err := cloud.App.Store().Ledger(context.Background(), f.Tenant, ex)
		if err != nil || len(entries) != 1 || entries[0].Version != version || entries[0].Outcome != delivery.Sent {
			t.Errorf("execution %s ledger = %+v, %v; want one sent entry of version %d", ex, entries, err, version)
		}
	}
	if perVersion[1] < 5 || perVersion[2] < 5 || perVersion[1]+perVersion[2] != 34 {
		t.Errorf("emails per version = %v; want at least 5 of each, 34 in all", perVersion)
	}
}

// The whole authoring flow through the gateway: ETags, If-Match, review,
// activation, preview, proofs (read back from moto), request sample,
// versions, stop, archive, lists and bad input.
func TestAuthoringLifecycleThroughTheGateway(t *testing.T) {
	f := newFixture(t, false)
	id := f.campaignID
	path := "/campaigns/" + id

	status, h, body := f.doH("GET", path, nil, nil)
	if status != 200 || h.Get("ETag") != `"2"` {
		t.Fatalf("GET = %d ETag %q %s; want 200 with ETag \"2\"", status, h.Get("ETag"), body)
	}
	edit := map[string]any{"description": "shipping notice", "tags": []string{"orders"},
		"content": map[string]any{"email": map[string]any{"subject": "Shipped: {{context.orderId}}"}}}
	if status, _, body := f.doH("PATCH", path, map[string]string{"If-Match": `"1"`}, edit); status != http.StatusPreconditionFailed {
		t.Errorf("PATCH with a stale If-Match = %d %s, want 412", status, body)
	}
	status, h, body = f.doH("PATCH", path, map[string]string{"If-Match": `"2"`}, edit)
	if status != 200 || h.Get("ETag") != `"3"` {
		t.Fatalf("PATCH = %d ETag %q %s", status, h.Get("ETag"), body)
	}
	var d struct {
		Status       string
		DraftPending bool
		Live         struct{ Number int }
		Draft        struct {
			Content struct{ Email struct{ Subject string } }
		}
	}
	_ = json.Unmarshal(body, &d)
	if d.Status != "live" || !d.DraftPending || d.Live.Number != 1 || d.Draft.Content.Email.Subject != "Shipped: {{context.orderId}}" {
		t.Errorf("after PATCH: %s", body)
	}

	var rep struct{ Errors, Warnings []map[string]string }
	f.mustDo("POST", path+"/review", nil, 200, &rep)
	if len(rep.Errors) != 0 || len(rep.Warnings) != 1 || rep.Warnings[0]["code"] != "context_unchecked" {
		t.Errorf("review = %+v", rep)
	}
	var pv struct {
		Email struct{ Subject, HTML string }
	}
	f.mustDo("POST", path+"/preview", map[string]any{"context": orderContext("P-1"),
		"profile": map[string]any{"person": map[string]any{"name": map[string]any{"firstName": "Pat"}}}}, 200, &pv)
	if pv.Email.Subject != "Shipped: P-1" || !strings.Contains(pv.Email.HTML, "Hi Pat") {
		t.Errorf("preview = %+v", pv)
	}
	var proof struct {
		ProofID string
		Results []map[string]string
	}
	f.mustDo("POST", path+"/proofs", map[string]any{"recipients": []string{"proof-qa@example.com"}, "context": orderContext("Q-1")}, 200, &proof)
	if len(proof.Results) != 1 || proof.Results[0]["outcome"] != "sent" {
		t.Errorf("proofs = %+v", proof)
	}
	if sent := sentTo(t, "proof-qa@example.com"); len(sent) != 1 || sent[0].Subject != "[Proof] Shipped: Q-1" {
		t.Errorf("moto received proofs %+v; want one with the [Proof] subject", sent)
	}
	entries, err := cloud.App.Store().Ledger(context.Background(), f.Tenant, proof.ProofID)
	if err != nil || len(entries) != 1 || !entries[0].Proof {
		t.Errorf("proof ledger = %+v, %v; want one proof entry", entries, err)
	}

	f.mustDo("POST", path+"/activate", nil, 200, nil)
	var versions struct{ Items []map[string]any }
	f.mustDo("GET", path+"/versions", nil, 200, &versions)
	if len(versions.Items) != 2 || versions.Items[0]["number"] != float64(2) || versions.Items[0]["live"] != true {
		t.Errorf("versions = %+v", versions.Items)
	}
	var sample struct {
		URL, Curl string
		Variables struct{ Context []string }
	}
	f.mustDo("GET", path+"/request-sample", nil, 200, &sample)
	if sample.URL != cloud.URL+"/im/executions/unitary" || !strings.Contains(sample.Curl, "x-api-key: "+f.KeyID) || len(sample.Variables.Context) != 5 {
		t.Errorf("request sample = %+v", sample)
	}

	if status, _, body := f.doH("DELETE", path, nil, nil); status != http.StatusConflict || !strings.Contains(string(body), "is live") {
		t.Errorf("DELETE of a live campaign = %d %s, want a 409 naming the status", status, body)
	}
	f.mustDo("POST", path+"/stop", nil, 200, nil)
	if status, body := do(t, "POST", "/im/executions/unitary", f.Headers(), f.unitary("after-stop",
		map[string]any{"type": "external", "namespace": "crmId", "userId": "x", "channelData": map[string]any{"emailAddress": "x@example.com"}})); status != http.StatusConflict {
		t.Errorf("trigger of a stopped campaign = %d %s, want 409", status, body)
	}
	f.mustDo("POST", path+"/archive", nil, 200, nil)
	var list struct{ Items []map[string]any }
	f.mustDo("GET", "/campaigns?status=archived&tag=orders", nil, 200, &list)
	if len(list.Items) != 1 || list.Items[0]["id"] != id {
		t.Errorf("archived list = %+v", list.Items)
	}
	var dup struct{ ID, Status string }
	f.mustDo("POST", path+"/duplicate", map[string]any{"name": "Order shipped v2"}, 201, &dup)
	if dup.Status != "draft" {
		t.Errorf("duplicate = %+v", dup)
	}
	f.mustDo("DELETE", "/campaigns/"+dup.ID, nil, 204, nil)
	if status, _ := do(t, "GET", "/campaigns/"+dup.ID, f.Headers(), nil); status != 404 {
		t.Errorf("GET of a deleted draft = %d, want 404", status)
	}
}

func TestBadAuthoringInputIsRefusedAndNothingIsStored(t *testing.T) {
	f := newFixture(t, false)
	var before struct{ Items []any }
	f.mustDo("GET", "/campaigns", nil, 200, &before)
	base := func() map[string]any {
		return map[string]any{"name": "x", "type": "transactional", "channel": "email", "content": map[string]any{"email": map[string]any{"subject": "s", "html": "<p/>"}}}
	}
	tests := []struct {
		name  string
		edit  func(map[string]any)
		field string
	}{
		{"an unknown nested field", func(b map[string]any) { b["audience"] = map[string]any{"namespce": "email"} }, "audience.namespce"},
		{"an invalid date", func(b map[string]any) { b["schedule"] = map[string]any{"start": "2026-13-45"} }, "schedule.start"},
		{"a name over 256 characters", func(b map[string]any) { b["name"] = strings.Repeat("n", 257) }, "name"},
		{"an HTML body over 500 KB", func(b map[string]any) {
			b["content"] = map[string]any{"email": map[string]any{"subject": "s", "html": strings.Repeat("h", 500<<10+1)}}
		}, "content.email.html"},
		{"more than 20 tags", func(b map[string]any) { b["tags"] = strings.Split("a b c d e f g h i j k l m n o p q r s t u", " ") }, "tags"},
		{"an invalid context schema", func(b map[string]any) { b["contextSchema"] = map[string]any{"type": 12} }, "contextSchema"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is a 400 naming the field", func(t *testing.T) {
			b := base()
			tt.edit(b)
			status, body := do(t, "POST", "/campaigns", f.Headers(), b)
			checkErrorShape(t, body, status, tt.field)
		})
	}
	status, body := do(t, "POST", "/channel-configurations", f.Headers(), map[string]any{"name": "p", "channel": "push", "category": "marketing",
		"push": map[string]any{"apps": []any{map[string]any{"appId": "a", "platform": "APNS", "platformApplicationArn": "not-an-arn"}}}})
	checkErrorShape(t, body, status, "push.apps[0].platformApplicationArn")
	var after struct{ Items []any }
	f.mustDo("GET", "/campaigns", nil, 200, &after)
	if len(after.Items) != len(before.Items) {
		t.Errorf("campaigns went from %d to %d after refused requests", len(before.Items), len(after.Items))
	}
	// A large (compressible) HTML body of almost 500 KB is stored whole.
	big := base()
	html := strings.Repeat("<p>Hello {{profile.person.name.firstName}}</p>\n", 500<<10/48)
	big["content"] = map[string]any{"email": map[string]any{"subject": "big", "html": html}}
	var created struct{ ID string }
	f.mustDo("POST", "/campaigns", big, 201, &created)
	var got struct {
		Draft struct {
			Content struct{ Email struct{ HTML string } }
		}
	}
	f.mustDo("GET", "/campaigns/"+created.ID, nil, 200, &got)
	if got.Draft.Content.Email.HTML != html {
		t.Errorf("a %d-byte HTML body came back as %d bytes", len(html), len(got.Draft.Content.Email.HTML))
	}
}
