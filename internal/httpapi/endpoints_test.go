package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/profile"
)

// Before issue 10, PUT /profiles stored devices[].endpointArn as given and
// Dispatch published to it: a tenant pointed a device at an internal SNS
// topic and got campaign content published there.
func TestARequestNeverSetsAnEndpointARN(t *testing.T) {
	f := newTriggerFixture(t)
	f.putProfile(t, acme, profile.Profile{Namespace: "crmId", ID: "42", Attributes: map[string]any{},
		Devices: []profile.Device{{AppID: "shop-ios", Platform: "APNS", Token: "t", Enabled: true}}})
	topic := `"arn:aws:sns:us-east-1:123456789012:herald-internal-alerts"`
	runBadInput(t, f, []badInput{
		{name: "PUT with a topic ARN as a device's endpoint is a 400 naming it", route: "PUT /profiles/{namespace}/{id}", params: profileParams,
			body: `{"devices":[{"appId":"shop-ios","platform":"APNS","token":"t","endpointArn":` + topic + `}]}`, status: 400, fields: []string{"devices[0].endpointArn"}},
		{name: "PUT with an endpoint ARN of another application is a 400 too", route: "PUT /profiles/{namespace}/{id}", params: profileParams,
			body:   `{"devices":[{"appId":"shop-ios","platform":"APNS","token":"t"},{"appId":"shop-ios","platform":"APNS","token":"u","endpointArn":"arn:aws:sns:us-east-1:123456789012:endpoint/APNS/globex-ios/0f3c"}]}`,
			status: 400, fields: []string{"devices[1].endpointArn"}},
		{name: "an empty endpointArn is refused", route: "PUT /profiles/{namespace}/{id}", params: profileParams,
			body: `{"devices":[{"appId":"shop-ios","platform":"APNS","token":"t","endpointArn":""}]}`, status: 400, fields: []string{"devices[0].endpointArn"}},
		{name: "a null endpointArn is refused", route: "PUT /profiles/{namespace}/{id}", params: profileParams,
			body: `{"devices":[{"appId":"shop-ios","platform":"APNS","token":"t","endpointArn":null}]}`, status: 400, fields: []string{"devices[0].endpointArn"}},
		{name: "PATCH with an endpointArn is a 400 naming it", route: "PATCH /profiles/{namespace}/{id}", params: profileParams,
			body: `{"devices":[{"appId":"shop-ios","platform":"APNS","token":"t","endpointArn":` + topic + `}]}`, status: 400, fields: []string{"devices[0].endpointArn"}},
		{name: "a batch item with an endpointArn is a 400 naming it", route: "POST /profiles/batch",
			body:   `{"profiles":[{"namespace":"crmId","id":"1"},{"namespace":"crmId","id":"2","devices":[{"appId":"shop-ios","platform":"APNS","token":"t","endpointArn":` + topic + `}]}]}`,
			status: 400, fields: []string{"profiles[1].devices[0].endpointArn"}},
		{name: "the name Herald stores it under is no way in either", route: "PUT /profiles/{namespace}/{id}", params: profileParams,
			body: `{"devices":[{"appId":"shop-ios","platform":"APNS","token":"t","heraldEndpointArn":` + topic + `}]}`, status: 400, fields: []string{"devices[0].heraldEndpointArn"}},
	})
}

func TestTheAPINeverShowsTheEndpointHeraldKeeps(t *testing.T) {
	f := newTriggerFixture(t)
	ep := "arn:aws:sns:us-east-1:123456789012:endpoint/APNS/shop-ios/5e1d"
	f.putProfile(t, acme, profile.Profile{Namespace: "crmId", ID: "42", Attributes: map[string]any{},
		Devices: []profile.Device{{AppID: "shop-ios", Platform: "APNS", Token: "t", EndpointARN: ep, Enabled: true}}})
	for _, tt := range []struct{ name, route, body string }{
		{"GET", "GET /profiles/{namespace}/{id}", ""},
		{"PATCH of the devices as read", "PATCH /profiles/{namespace}/{id}", `{"devices":[{"appId":"shop-ios","platform":"APNS","token":"t","enabled":true}]}`},
		{"PUT of the same device", "PUT /profiles/{namespace}/{id}", `{"devices":[{"appId":"shop-ios","platform":"APNS","token":"t"}]}`},
	} {
		t.Run(tt.name+" shows no endpoint and keeps Herald's", func(t *testing.T) {
			status, body := call(t, f.manage, event(tt.route, tt.body, acmeKey, profileParams))
			if status != http.StatusOK {
				t.Fatalf("%s: %d %s", tt.route, status, body)
			}
			if strings.Contains(body, "ndpoint") {
				t.Errorf("the answer shows an endpoint: %s", body)
			}
			stored, err := f.store.Get(t.Context(), acme, profile.Identity{Namespace: "crmId", ID: "42"})
			if err != nil {
				t.Fatal(err)
			}
			want := []profile.Device{{AppID: "shop-ios", Platform: "APNS", Token: "t", EndpointARN: ep, Enabled: true}}
			if diff := cmp.Diff(want, stored.Devices); diff != "" {
				t.Errorf("stored devices (-want +got):\n%s", diff)
			}
		})
	}
}
