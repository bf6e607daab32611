package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/google/go-cmp/cmp"
)

// endpointEvent is the SNS record a platform application's endpoint
// event reaches the Feedback function in.
func endpointEvent(t *testing.T, eventType, endpointARN string) json.RawMessage {
	t.Helper()
	msg, _ := json.Marshal(map[string]any{"EndpointArn": endpointARN, "EventType": eventType, "Service": "SNS",
		"Time": time.Now().UTC().Format(time.RFC3339Nano)})
	raw, err := json.Marshal(map[string]any{"Records": []any{map[string]any{"EventSource": "aws:sns", "EventVersion": "1.0",
		"Sns": map[string]any{"Type": "Notification", "MessageId": "e2e-" + eventType, "Message": string(msg)}}}})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// The platform disables an endpoint Dispatch made (the app uninstalled):
// SNS's EndpointUpdated event disables the device on its profile, once
// however often it comes; an endpoint deleted is forgotten, and the next
// send makes a new one from the token.
func TestPushEndpointEventsReachTheDevice(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	android := f.platformApp("GCM")
	push := f.campaignOn("transactional", "push", map[string]any{"apps": []any{
		map[string]any{"appId": "shop-android", "platform": "GCM", "platformApplicationArn": android}}},
		map[string]any{"title": "Order shipped", "body": "Soon there"})
	f.mustDo("PUT", "/profiles/crmId/p1", map[string]any{"attributes": map[string]any{}, "devices": []any{
		map[string]any{"appId": "shop-android", "platform": "GCM", "token": "kept-token"},
		map[string]any{"appId": "shop-android", "platform": "GCM", "token": "uninstalled-token"},
	}}, http.StatusOK, nil)
	send := func(requestID string) {
		f.mustDo("POST", "/im/executions/unitary", map[string]any{"requestId": requestID, "campaignId": push, "recipients": []any{
			map[string]any{"type": "aep", "namespace": "crmId", "userId": "p1"}}}, http.StatusAccepted, nil)
		drain(t)
	}
	send("endpoints-1")
	endpoints := map[string]string{}
	for _, d := range f.storedDevices("crmId", "p1") {
		endpoints[d.Token] = d.EndpointARN
	}
	if endpoints["kept-token"] == "" || endpoints["uninstalled-token"] == "" {
		t.Fatalf("endpoints after the first send: %v; want one per device", endpoints)
	}

	feedbackFn := cloud.Handlers.Events["FeedbackFunction"]
	api := awssns.NewFromConfig(cloud.AWS)
	if _, err := api.SetEndpointAttributes(ctx, &awssns.SetEndpointAttributesInput{EndpointArn: aws.String(endpoints["uninstalled-token"]),
		Attributes: map[string]string{"Enabled": "false"}}); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{`"recorded":1`, `"repeated":1`} { // the event, then its replay
		res, err := feedbackFn(ctx, endpointEvent(t, "EndpointUpdated", endpoints["uninstalled-token"]))
		if err != nil {
			t.Fatalf("EndpointUpdated #%d: %v", i+1, err)
		}
		if out, _ := json.Marshal(res); !strings.Contains(string(out), want) {
			t.Errorf("EndpointUpdated #%d: result %s, want it to hold %s", i+1, out, want)
		}
	}
	if _, err := api.DeleteEndpoint(ctx, &awssns.DeleteEndpointInput{EndpointArn: aws.String(endpoints["kept-token"])}); err != nil {
		t.Fatal(err)
	}
	if _, err := feedbackFn(ctx, endpointEvent(t, "EndpointDeleted", endpoints["kept-token"])); err != nil {
		t.Fatalf("EndpointDeleted: %v", err)
	}
	type device struct {
		Enabled  bool
		Endpoint string
	}
	got := map[string]device{}
	for _, d := range f.storedDevices("crmId", "p1") {
		got[d.Token] = device{d.Enabled, d.EndpointARN}
	}
	want := map[string]device{"kept-token": {true, ""}, "uninstalled-token": {false, endpoints["uninstalled-token"]}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("devices after the endpoint events (-want +got):\n%s", diff)
	}

	// The next send skips the disabled device and makes the kept one a
	// new endpoint.
	send("endpoints-2")
	for _, d := range f.storedDevices("crmId", "p1") {
		if d.Token == "kept-token" && (d.EndpointARN == "" || d.EndpointARN == endpoints["kept-token"]) {
			t.Errorf("the kept device's endpoint after the next send is %q; want a new one", d.EndpointARN)
		}
	}
}

// The local cloud plays the platform too: a token holding "disabled" has
// its endpoint disabled after the push and SNS's EndpointUpdated sent,
// one holding "deleted" its endpoint deleted and EndpointDeleted sent.
func TestTheSimulatedPlatformsEndpointEventsReachTheDevice(t *testing.T) {
	f := newFixture(t, false)
	android := f.platformApp("GCM")
	push := f.campaignOn("transactional", "push", map[string]any{"apps": []any{
		map[string]any{"appId": "shop-android", "platform": "GCM", "platformApplicationArn": android}}},
		map[string]any{"title": "Order shipped", "body": "Soon there"})
	f.mustDo("PUT", "/profiles/crmId/p2", map[string]any{"attributes": map[string]any{}, "devices": []any{
		map[string]any{"appId": "shop-android", "platform": "GCM", "token": "good-token"},
		map[string]any{"appId": "shop-android", "platform": "GCM", "token": "token-disabled-later"},
		map[string]any{"appId": "shop-android", "platform": "GCM", "token": "token-deleted-later"},
	}}, http.StatusOK, nil)
	f.mustDo("POST", "/im/executions/unitary", map[string]any{"requestId": "sim-endpoints-1", "campaignId": push, "recipients": []any{
		map[string]any{"type": "aep", "namespace": "crmId", "userId": "p2"}}}, http.StatusAccepted, nil)
	drain(t)
	type device struct {
		Enabled     bool
		HasEndpoint bool
	}
	got := map[string]device{}
	for _, d := range f.storedDevices("crmId", "p2") {
		got[d.Token] = device{d.Enabled, d.EndpointARN != ""}
	}
	want := map[string]device{"good-token": {true, true}, "token-disabled-later": {false, true}, "token-deleted-later": {true, false}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("devices after the simulated endpoint events (-want +got):\n%s", diff)
	}
}
