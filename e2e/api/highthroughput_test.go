package api_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A high-throughput campaign through the gateway, Trigger, the queue,
// Dispatch and moto: every personalization from the call's context, each
// email once however often the call is repeated.
func TestAHighThroughputTriggerSendsEachEmailOnce(t *testing.T) {
	f := newFixture(t, false)
	var cfg struct{ ID string }
	f.mustDo("POST", "/channel-configurations", map[string]any{"name": "Fast", "channel": "email", "category": "transactional",
		"email": map[string]any{"fromName": "Shop", "fromAddress": "fast@" + f.Domain}}, 201, &cfg)
	var c struct{ ID string }
	f.mustDo("POST", "/campaigns", map[string]any{"name": "Code", "type": "transactional", "channel": "email", "highThroughput": true,
		"channelConfigurationId": cfg.ID, "audience": map[string]any{"namespace": "email"},
		"content": map[string]any{"email": map[string]any{"subject": "Your code, {{context.name}}", "html": "<p>{{context.code}}</p>"}}}, 201, &c)
	f.mustDo("POST", "/campaigns/"+c.ID+"/activate", nil, 200, nil)
	body := map[string]any{"requestId": "fast-1", "campaignId": c.ID, "recipients": []any{
		map[string]any{"type": "external", "namespace": "email", "userId": "ht1@example.com", "context": map[string]any{"name": "Ada", "code": "111"}},
		map[string]any{"type": "external", "namespace": "crmId", "userId": "c-2", "channelData": map[string]any{"emailAddress": "ht2@example.com"},
			"context": map[string]any{"name": "Bob", "code": "222"}},
	}}
	var first map[string]string
	f.mustDo("POST", "/im/executions/highthroughput", body, http.StatusAccepted, &first)
	for range 3 {
		var again map[string]string
		f.mustDo("POST", "/ajo/im/executions/highthroughput", body, http.StatusAccepted, &again)
		if diff := cmp.Diff(first, again); diff != "" {
			t.Errorf("a repeat's answer (-first +repeat):\n%s", diff)
		}
	}
	drain(t)
	got := map[string][2]string{}
	for _, e := range sentTo(t, "ht1@example.com", "ht2@example.com") {
		if _, dup := got[e.Destinations.To[0]]; dup {
			t.Errorf("%s received the email twice", e.Destinations.To[0])
		}
		got[e.Destinations.To[0]] = [2]string{e.Subject, e.Body}
	}
	want := map[string][2]string{"ht1@example.com": {"Your code, Ada", "<p>111</p>"}, "ht2@example.com": {"Your code, Bob", "<p>222</p>"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("emails moto received (-want +got):\n%s", diff)
	}
	// The unitary route does not trigger it, and the high-throughput
	// route takes no aep recipient.
	f.mustDo("POST", "/im/executions/unitary", map[string]any{"requestId": "fast-2", "campaignId": c.ID, "recipients": []any{
		map[string]any{"type": "external", "namespace": "email", "userId": "ht3@example.com"}}}, http.StatusConflict, nil)
	f.mustDo("POST", "/im/executions/highthroughput", map[string]any{"requestId": "fast-3", "campaignId": c.ID, "recipients": []any{
		map[string]any{"type": "aep", "namespace": "email", "userId": "ht3@example.com"}}}, http.StatusBadRequest, nil)
}
