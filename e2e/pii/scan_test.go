package pii_test

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/infra/faultproxy"
	"github.com/heraldhq/herald/infra/localcloud"
	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/httpapi"
	"github.com/heraldhq/herald/internal/tenant"
	"github.com/heraldhq/herald/internal/unsubscribe"
	"github.com/heraldhq/herald/internal/webhook"
)

// marker is inside every seeded email address, name, context value and
// body: a log line holding it holds personal data.
const marker = "piiMarker7Q3"

// email is a distinctive address; its name also tags the fault rules
// aimed at it.
func email(name string) string { return name + "." + marker + "@inbox.example" }

// personalSender is a person's address as a From, on a domain no one
// verified.
var personalSender = "sender." + marker + "@unverified." + localcloud.DemoSenderDomain

// Phone numbers cannot hold the marker: the scan looks for each.
const (
	phoneSent      = "+14158675301"
	phoneRefused   = "+14158675302"
	phoneOptedOut  = "+14158675399" // moto reports numbers ending in 99 opted out
	phoneCheckFail = "+14158675303"
	phoneBad       = "0612-" + marker
)

// scan is the state the steps share.
type scan struct {
	t      *testing.T
	api    *client
	tenant tenant.Tenant
	domain string
	// secrets are the strings no log line may hold (besides marker).
	secrets map[string]bool
	// campaigns by name, configurations by name, audiences by name.
	campaigns, configs, audiences map[string]string
	// executions to look at later, by name.
	executions map[string]string
	iosApp     string
}

func (s *scan) secret(v ...string) {
	for _, x := range v {
		s.secrets[x] = true
	}
}

func TestLogsCarryNoPersonalData(t *testing.T) {
	if testing.Short() || cloud == nil {
		t.Skip("the PII scan runs without -short")
	}
	start := time.Now()
	s := newScan(t)
	steps := []struct {
		name string
		run  func(s *scan, t *testing.T)
	}{
		{"campaign authoring and review", (*scan).authoring},
		{"unitary email: sent, refused, throttled, held and ambiguous recipients keep their codes", (*scan).unitaryEmail},
		{"unitary requests refused before anything is stored", (*scan).unitaryRefused},
		{"high-throughput triggers: sent, refused and repeated", (*scan).highThroughput},
		{"a render error on personal data is logged by field and position", (*scan).renderErrors},
		{"SMS and push failures", (*scan).smsAndPush},
		{"profiles", (*scan).profiles},
		{"suppressions", (*scan).suppressions},
		{"the reputation guard's routes", (*scan).reputation},
		{"frequency caps", (*scan).frequencyCaps},
		{"feedback webhooks: routes, a refused and a retried delivery", (*scan).feedbackWebhook},
		{"audiences", (*scan).audienceRoutes},
		{"audience executions, schedules, recurrences and the Scheduler function", (*scan).audienceExecutions},
		{"one-click unsubscribe", (*scan).unsubscribeLinks},
		{"preview, proofs and request samples", (*scan).previews},
		{"EventBridge events", (*scan).eventBridge},
		{"execution status, the dead-letter queue and redrive", (*scan).deadLetters},
		{"authentication and access tokens", (*scan).authentication},
		{"campaign lifecycle to the end", (*scan).lifecycleEnd},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			s.t, s.api.t = t, t
			st.run(s, t)
		})
	}
	s.t, s.api.t = t, t

	lines := logs.lines()
	routes, functions := exercised(t, lines)
	// Every route of the handlers' tables (a request through a catch-all
	// route is logged under the route it resolved to), the catch-alls
	// themselves (what no route matches) and $default.
	for _, key := range append(httpapi.RouteKeys(), "$default", "ANY /{proxy+}", "ANY /ajo/im/{proxy+}") {
		if !routes[key] {
			t.Errorf("route %s was not exercised", key)
		}
	}
	for id := range cloud.Stack.Functions {
		if !functions[id] {
			t.Errorf("function %s of the template never ran", id)
		}
	}
	// Case-insensitive: Herald lower-cases addresses before it keys them.
	needles := append([]string{strings.ToLower(marker)}, slices.Sorted(maps.Keys(s.secrets))...)
	hits := 0
	for _, l := range lines {
		ll := strings.ToLower(l)
		for _, n := range needles {
			if strings.Contains(ll, strings.ToLower(n)) {
				hits++
				t.Errorf("log line holds %q: %s", n, l)
				break
			}
		}
	}
	t.Logf("PII scan: %d log lines scanned for %d strings, %d routes and %d functions exercised, %d hits, in %s",
		len(lines), len(needles), len(routes), len(functions), hits, time.Since(start).Round(time.Second))
}

// exercised reads from the logs which routes the gateway served and which
// functions logged.
func exercised(t *testing.T, lines []string) (routes, functions map[string]bool) {
	t.Helper()
	routes, functions = map[string]bool{}, map[string]bool{}
	for _, l := range lines {
		var v struct {
			Msg      string `json:"msg"`
			RouteKey string `json:"routeKey"` // the gateway's: the template's route
			Route    string `json:"route"`    // the handler's: the route it resolved
			Function string `json:"function"`
		}
		if json.Unmarshal([]byte(l), &v) != nil {
			continue
		}
		if v.Msg == "request" && v.RouteKey != "" {
			routes[v.RouteKey] = true
		}
		if v.Msg == "request" && v.Route != "" {
			routes[v.Route] = true
		}
		if v.Function != "" {
			functions[v.Function] = true
		}
	}
	if len(routes) == 0 {
		t.Fatal("no request was logged: the scan would prove nothing")
	}
	return routes, functions
}

func newScan(t *testing.T) *scan {
	t.Helper()
	ctx := context.Background()
	acct, err := cloud.NewAccount(ctx, tenant.Tenant{Org: eventOrg, Sandbox: eventSandbox}, "pii-shop."+localcloud.DemoSenderDomain)
	if err != nil {
		t.Fatal(err)
	}
	s := &scan{t: t, tenant: acct.Tenant, domain: acct.Domain, secrets: map[string]bool{acct.Secret: true},
		campaigns: map[string]string{}, configs: map[string]string{}, audiences: map[string]string{}, executions: map[string]string{},
		api: &client{t: t, headers: acct.Headers()}}
	s.secret(phoneSent, phoneRefused, phoneOptedOut, phoneCheckFail, strings.TrimPrefix(phoneSent, "+"),
		strings.TrimPrefix(phoneRefused, "+"), strings.TrimPrefix(phoneOptedOut, "+"), strings.TrimPrefix(phoneCheckFail, "+"))
	out, err := awssns.NewFromConfig(cloud.AWS).CreatePlatformApplication(ctx, &awssns.CreatePlatformApplicationInput{
		Name: aws.String("pii-ios"), Platform: aws.String("APNS"), Attributes: map[string]string{"PlatformCredential": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	s.iosApp = aws.ToString(out.PlatformApplicationArn)
	return s
}

// Seeded content: every field renders personal data.
var (
	orderContext = map[string]any{"orderId": "ord-" + marker, "card": "4111-" + marker, "items": []any{map[string]any{"name": "Boots " + marker}}}
	emailContent = map[string]any{
		"subject": "Order {{context.orderId}} for {{profile.person.name.firstName}}",
		"html":    `<p>Hi {{profile.person.name.firstName}}, card {{context.card}}</p><ul>{{#each context.items}}<li>{{name}}</li>{{/each}}</ul>`,
		"text":    "Hi {{profile.person.name.firstName}}, card {{context.card}}"}
	person = map[string]any{"person": map[string]any{"name": map[string]any{"firstName": "Zelda-" + marker}}, "card": "5500-" + marker}
)

// config creates a channel configuration and returns its id.
func (s *scan) config(name, channel, category string, settings map[string]any) string {
	s.t.Helper()
	id := s.api.id("POST", "/channel-configurations", map[string]any{"name": name, "channel": channel, "category": category, channel: settings}, 201)
	s.configs[name] = id
	return id
}

// campaign creates a campaign, activates it unless draft, and returns its id.
func (s *scan) campaign(name, typ, channel, config string, content map[string]any, audience map[string]any, draft bool) string {
	s.t.Helper()
	id := s.api.id("POST", "/campaigns", map[string]any{"name": name, "type": typ, "channel": channel, "channelConfigurationId": s.configs[config],
		"content": map[string]any{channel: content}, "audience": audience}, 201)
	if !draft {
		s.api.call("POST", "/campaigns/"+id+"/activate", nil, 200)
	}
	s.campaigns[name] = id
	return id
}

// unitary triggers a unitary execution and returns its id.
func (s *scan) unitary(requestID, campaign string, recipients ...map[string]any) string {
	s.t.Helper()
	var resp struct{ ExecutionID string }
	s.api.decode("POST", "/im/executions/unitary", map[string]any{"requestId": requestID, "campaignId": s.campaigns[campaign], "recipients": recipients}, 202, &resp)
	return resp.ExecutionID
}

// outcomes lists an execution's outcomes by userId (device entries of
// one recipient joined in order).
func (s *scan) outcomes(executionID string) map[string]string {
	s.t.Helper()
	var p struct {
		Recipients []struct{ UserID, Outcome string }
	}
	s.api.decode("GET", "/executions/"+executionID+"/recipients?limit=100", nil, 200, &p)
	out := map[string]string{}
	for _, r := range p.Recipients {
		if out[r.UserID] != "" {
			out[r.UserID] += ","
		}
		out[r.UserID] += r.Outcome
	}
	return out
}

func external(userID string, channelData map[string]any) map[string]any {
	return map[string]any{"type": "external", "namespace": "crmId", "userId": userID, "channelData": channelData,
		"profile": person, "context": orderContext}
}

// storeError is a DynamoDB refusal whose message quotes a value, as
// DynamoDB's validation messages may.
func storeError(tag string) faultproxy.Rule {
	return faultproxy.Rule{Operation: "*", Match: []string{tag}, Fault: faultproxy.Error, Status: 400, Code: "ValidationException",
		Message: "One or more parameter values were invalid: An AttributeValue may not contain an empty string. Key: " + email(tag), Times: 1}
}

func (s *scan) authoring(t *testing.T) {
	s.config("orders", "email", "transactional", map[string]any{"fromName": "Jane " + marker, "fromAddress": "orders@" + s.domain,
		"replyTo": []string{email("reply")}})
	s.config("news", "email", "marketing", map[string]any{"fromName": "News " + marker, "fromAddress": "news@" + s.domain,
		"listUnsubscribeMailto": "unsubscribe@" + s.domain})
	s.config("texts", "sms", "transactional", map[string]any{"senderId": "Shop"})
	s.config("promos", "sms", "marketing", map[string]any{"senderId": "Shop"})
	s.config("app", "push", "transactional", map[string]any{"apps": []any{map[string]any{"appId": "shop-ios", "platform": "APNS", "platformApplicationArn": s.iosApp}}})
	s.api.call("POST", "/channel-configurations", map[string]any{"name": "bad", "channel": "email", "category": "transactional",
		"email": map[string]any{"fromName": "x", "fromAddress": "not-an-address-" + marker}}, 400)
	s.api.call("GET", "/channel-configurations?channel=email", nil, 200)
	s.api.call("GET", "/channel-configurations/"+s.configs["orders"], nil, 200)
	s.api.call("PATCH", "/channel-configurations/"+s.configs["orders"], map[string]any{"email": map[string]any{"fromName": "Jane B " + marker}}, 200)
	s.api.call("PATCH", "/channel-configurations/"+s.configs["orders"], map[string]any{"email": map[string]any{"replyTo": []string{"bad-" + marker}}}, 400)
	spare := s.config("spare", "email", "transactional", map[string]any{"fromName": "x", "fromAddress": "spare@" + s.domain})
	s.api.call("DELETE", "/channel-configurations/"+spare, nil, 204)
	s.api.call("GET", "/channel-configurations/"+spare, nil, 404)

	s.campaign("orders", "transactional", "email", "orders", emailContent, map[string]any{"namespace": "email"}, false)
	s.campaign("texts", "transactional", "sms", "texts", map[string]any{"body": "Code {{context.code}} for {{profile.name}}"}, map[string]any{"namespace": "crmId"}, false)
	s.campaign("push", "transactional", "push", "app", map[string]any{"title": "Order {{context.orderId}}", "body": "Hi {{profile.name}}"}, map[string]any{"namespace": "crmId"}, false)
	s.api.call("DELETE", "/channel-configurations/"+s.configs["orders"], nil, 409)

	// A draft whose From is a person's address on an unverified domain
	// (under the deployment's sender identity, which configurations must
	// be); review names the problem, and a failing identity check is a 500.
	s.config("personal", "email", "transactional", map[string]any{"fromName": "Jane", "fromAddress": personalSender})
	draft := s.campaign("draft", "transactional", "email", "personal", map[string]any{"subject": "{{context.x}}"}, map[string]any{"namespace": "email"}, true)
	s.api.call("POST", "/campaigns/"+draft+"/review", nil, 200)
	s.api.call("POST", "/campaigns/"+draft+"/activate", nil, 422)
	t.Run("an identity check failing with the address in its message", func(t *testing.T) {
		rule(t, faultproxy.Rule{Operation: "EmailIdentity", Fault: faultproxy.Error, Status: 400, Code: "BadRequestException",
			Message: "Identity " + personalSender + " is not valid"})
		s.api.t = t
		defer func() { s.api.t = s.t }()
		s.api.call("POST", "/campaigns/"+draft+"/review", nil, 200) // a sender_unchecked warning
	})
	s.api.call("GET", "/campaigns?type=transactional", nil, 200)
	s.api.call("GET", "/campaigns/"+draft, nil, 200)
	s.api.call("PATCH", "/campaigns/"+draft, map[string]any{"content": map[string]any{"email": map[string]any{"text": "Hi " + marker + " {{#if}}"}}}, 200)
	s.api.call("PATCH", "/campaigns/"+draft, map[string]any{"content": map[string]any{"email": map[string]any{"subjet": marker}}}, 400)
	s.api.call("POST", "/campaigns/"+draft+"/review", nil, 200)
	dup := s.api.id("POST", "/campaigns/"+draft+"/duplicate", map[string]any{"name": "copy"}, 201)
	s.api.call("DELETE", "/campaigns/"+dup, nil, 204)
	s.api.call("GET", "/campaigns/"+dup, nil, 404)
	s.api.call("GET", "/campaigns/"+draft+"/request-sample", nil, 409)
	s.api.call("GET", "/campaigns/"+s.campaigns["orders"]+"/versions", nil, 200)
	s.api.call("GET", "/campaigns/"+s.campaigns["orders"]+"/versions/1", nil, 200)
	s.api.call("GET", "/campaigns/"+s.campaigns["orders"]+"/versions/9", nil, 404)
}

func (s *scan) unitaryEmail(t *testing.T) {
	s.api.call("PUT", "/profiles/email/"+url.PathEscape(email("jane")), map[string]any{"attributes": person,
		"identities": map[string]any{"email": email("jane")}, "consent": map[string]any{"email": "y"}}, 200)
	rule(t, faultproxy.Rule{Operation: "SendEmail", Match: []string{"rejected." + marker}, Fault: faultproxy.Error, Status: 400, Code: "MessageRejected",
		Message: "Email address is not verified. The following identities failed the check in region US-EAST-1: " + email("rejected"), Times: 1})
	rule(t, faultproxy.Rule{Operation: "SendEmail", Match: []string{"throttled." + marker}, Fault: faultproxy.Throttle,
		Message: "Maximum sending rate exceeded while sending to " + email("throttled"), Times: 1})
	rule(t, faultproxy.Rule{Operation: "SendEmail", Match: []string{"ambiguous." + marker}, Fault: faultproxy.Forward5xx, Times: 1})
	rule(t, faultproxy.Rule{Operation: "SendEmail", Match: []string{"paused." + marker}, Fault: faultproxy.Error, Status: 400, Code: "SendingPausedException",
		Message: "Sending paused for this account while sending to " + email("paused"), Times: 1})
	id := s.unitary("pii-email-1", "orders",
		map[string]any{"type": "aep", "namespace": "email", "userId": email("jane"), "context": orderContext},
		external("c-ext", map[string]any{"emailAddress": email("ext")}),
		external("c-rejected", map[string]any{"emailAddress": email("rejected")}),
		external("c-throttled", map[string]any{"emailAddress": email("throttled")}),
		external("c-ambiguous", map[string]any{"emailAddress": email("ambiguous")}),
		external("c-paused", map[string]any{"emailAddress": email("paused")}),
		// SES's simulator bounces it: the Feedback function records the
		// bounce and suppresses the address.
		external("c-bounce", map[string]any{"emailAddress": "bounce+" + marker + "@simulator.amazonses.com"}),
	)
	drain(t)
	want := map[string]string{email("jane"): "sent", "c-ext": "sent", "c-rejected": "failed:MessageRejected", "c-throttled": "sent",
		"c-ambiguous": "ambiguous:5xx", "c-paused": "sent", "c-bounce": "sent"}
	if diff := cmp.Diff(want, s.outcomes(id)); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	s.executions["email"] = id
	// The same request again is answered from its record; another body
	// under its id is a conflict.
	s.unitary("pii-email-1", "orders",
		map[string]any{"type": "aep", "namespace": "email", "userId": email("jane"), "context": orderContext},
		external("c-ext", map[string]any{"emailAddress": email("ext")}),
		external("c-rejected", map[string]any{"emailAddress": email("rejected")}),
		external("c-throttled", map[string]any{"emailAddress": email("throttled")}),
		external("c-ambiguous", map[string]any{"emailAddress": email("ambiguous")}),
		external("c-paused", map[string]any{"emailAddress": email("paused")}),
		// SES's simulator bounces it: the Feedback function records the
		// bounce and suppresses the address.
		external("c-bounce", map[string]any{"emailAddress": "bounce+" + marker + "@simulator.amazonses.com"}),
	)
	s.api.call("POST", "/im/executions/unitary", map[string]any{"requestId": "pii-email-1", "campaignId": s.campaigns["orders"],
		"recipients": []any{external("c-other", map[string]any{"emailAddress": email("other")})}}, 409)
	s.api.call("GET", "/im/health", nil, 200)
	s.api.call("GET", "/openapi.json", nil, 200)
	s.api.call("GET", "/console/", nil, 200)
	s.api.call("GET", "/console/app.js", nil, 200)
}

func (s *scan) highThroughput(t *testing.T) {
	id := s.api.id("POST", "/campaigns", map[string]any{"name": "fast", "type": "transactional", "channel": "email", "highThroughput": true,
		"channelConfigurationId": s.configs["orders"], "audience": map[string]any{"namespace": "email"},
		"content": map[string]any{"email": map[string]any{"subject": "Order {{context.orderId}}", "html": "<p>{{context.card}} {{context.orderId}}</p>"}}}, 201)
	s.api.call("POST", "/campaigns/"+id+"/activate", nil, 200)
	s.campaigns["fast"] = id
	body := map[string]any{"requestId": "pii-ht-1", "campaignId": id, "recipients": []any{
		map[string]any{"type": "external", "namespace": "email", "userId": email("ht"), "context": orderContext},
		map[string]any{"type": "external", "namespace": "crmId", "userId": "c-ht", "channelData": map[string]any{"emailAddress": email("ht2")}, "context": orderContext},
	}}
	var resp struct{ ExecutionID string }
	s.api.decode("POST", "/im/executions/highthroughput", body, 202, &resp)
	drain(t)
	want := map[string]string{email("ht"): "sent", "c-ht": "sent"}
	if diff := cmp.Diff(want, s.outcomes(resp.ExecutionID)); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	s.api.call("POST", "/im/executions/highthroughput", body, 202)
	s.api.call("POST", "/im/executions/highthroughput", map[string]any{"requestId": "pii-ht-2", "campaignId": id, "recipients": []any{
		map[string]any{"type": "aep", "namespace": "email", "userId": email("jane"), "context": orderContext}}}, 400)
	s.api.call("POST", "/im/executions/unitary", map[string]any{"requestId": "pii-ht-3", "campaignId": id, "recipients": []any{
		external("c-ht3", map[string]any{"emailAddress": email("ht3")})}}, 409)
}

func (s *scan) unitaryRefused(t *testing.T) {
	camp := s.campaigns["orders"]
	// An unknown profile of a campaign that does not create profiles.
	s.api.call("POST", "/im/executions/unitary", map[string]any{"requestId": "pii-404", "campaignId": camp,
		"recipients": []any{map[string]any{"type": "aep", "namespace": "email", "userId": email("ghost"), "context": orderContext}}}, 404)
	// Validation: a missing campaign, a duplicate userId, a bad address
	// type, malformed JSON, invalid UTF-8, an oversize body.
	s.api.call("POST", "/im/executions/unitary", map[string]any{"requestId": "pii-400", "recipients": []any{external(email("nocampaign"), nil)}}, 400)
	s.api.call("POST", "/im/executions/unitary", map[string]any{"requestId": "pii-400b", "campaignId": camp,
		"recipients": []any{external(email("twice"), nil), external(email("twice"), nil)}}, 400)
	s.api.call("POST", "/im/executions/unitary", map[string]any{"requestId": "pii-400c", "campaignId": camp,
		"recipients": []any{external("c-1", map[string]any{"emailAddress": 42, "mobilePhoneNumber": phoneBad})}}, 400)
	s.api.call("POST", "/im/executions/unitary", `{"requestId":"pii-400d","campaignId":"`+camp+`","recipients":[{"userId":"`+email("malformed")+`"`, 400)
	s.api.call("POST", "/im/executions/unitary", []byte(`{"requestId":"pii-400e","campaignId":"`+camp+`","recipients":[{"type":"external","namespace":"crmId","userId":"`+email("utf8")+"\xff\xfe"+`"}]}`), 400)
	s.api.call("POST", "/im/executions/unitary", map[string]any{"requestId": "pii-413", "campaignId": camp,
		"recipients": []any{map[string]any{"type": "external", "namespace": "crmId", "userId": "c-big", "context": map[string]any{"blob": strings.Repeat(marker, 30000)}}}}, 413)
	// The store refuses with a message quoting the request.
	rule(t, storeError("pii-500"))
	s.api.call("POST", "/im/executions/unitary", map[string]any{"requestId": "pii-500", "campaignId": camp,
		"recipients": []any{external("c-500", map[string]any{"emailAddress": email("pii-500")})}}, 500)
}

func (s *scan) renderErrors(t *testing.T) {
	s.campaign("receipt", "transactional", "email", "orders", map[string]any{"subject": "Receipt {{context.orderId}}",
		"text": `{{formatNumber context.card 2}} on {{formatDate context.when "yyyy-MM-dd"}}`}, map[string]any{"namespace": "email"}, false)
	bad := external("c-render", map[string]any{"emailAddress": email("render")})
	bad["context"] = map[string]any{"orderId": "ord-" + marker, "card": "4111-" + marker, "when": "jane-" + marker}
	good := external("c-fine", map[string]any{"emailAddress": email("fine")})
	good["context"] = map[string]any{"orderId": "ord-" + marker, "card": 12.5, "when": "2026-01-02T00:00:00Z"}
	id := s.unitary("pii-render", "receipt", bad, good)
	drain(t)
	if diff := cmp.Diff(map[string]string{"c-render": "failed:render_error", "c-fine": "sent"}, s.outcomes(id)); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	found := false
	for _, l := range logs.lines() {
		if strings.Contains(l, `"render failed"`) && strings.Contains(l, `"render_error"`) && strings.Contains(l, `"field"`) && strings.Contains(l, `"line"`) {
			found = true
		}
	}
	if !found {
		t.Error("no render failure was logged with its code, field and position")
	}
}

func (s *scan) smsAndPush(t *testing.T) {
	s.secret(tokenA, tokenB, tokenC)
	t.Run("SMS", func(t *testing.T) {
		rule(t, faultproxy.Rule{Operation: "Publish", Match: []string{url.QueryEscape(phoneRefused)}, Fault: faultproxy.Error, Status: 400, Code: "InvalidParameter",
			Message: "Invalid parameter: PhoneNumber Reason: " + phoneRefused + " is not valid to publish to", Times: 1})
		sms := func(userID, phone string) map[string]any {
			r := external(userID, map[string]any{"mobilePhoneNumber": phone})
			r["context"], r["profile"] = map[string]any{"code": "otp-" + marker}, map[string]any{"name": "Zelda-" + marker}
			return r
		}
		s.api.t = t
		defer func() { s.api.t = s.t }()
		id := s.unitary("pii-sms", "texts", sms("s-sent", phoneSent), sms("s-refused", phoneRefused))
		drain(t)
		if diff := cmp.Diff(map[string]string{"s-sent": "sent", "s-refused": "failed:InvalidParameter"}, s.outcomes(id)); diff != "" {
			t.Errorf("outcomes (-want +got):\n%s", diff)
		}
		s.api.call("POST", "/im/executions/unitary", map[string]any{"requestId": "pii-sms-400", "campaignId": s.campaigns["texts"],
			"recipients": []any{sms("s-bad", phoneBad)}}, 400)
	})
	t.Run("push", func(t *testing.T) {
		s.api.t = t
		defer func() { s.api.t = s.t }()
		owner := "dev-" + marker
		s.api.call("PUT", "/profiles/crmId/"+owner, map[string]any{"attributes": map[string]any{"name": "Zelda-" + marker}, "devices": []any{
			map[string]any{"appId": "shop-ios", "platform": "APNS", "token": tokenA},
			map[string]any{"appId": "shop-ios", "platform": "APNS", "token": tokenB}}}, 200)
		rule(t, faultproxy.Rule{Operation: "CreatePlatformEndpoint", Match: []string{tokenB}, Fault: faultproxy.Error, Status: 400, Code: "InvalidParameter",
			Message: "Invalid parameter: Token Reason: " + tokenB + " is not a valid APNs token", Times: 1})
		id := s.unitary("pii-push", "push", map[string]any{"type": "aep", "namespace": "crmId", "userId": owner, "context": orderContext})
		drain(t)
		if diff := cmp.Diff(map[string]string{owner: "sent,excluded:invalid_token"}, s.outcomes(id)); diff != "" {
			t.Errorf("outcomes (-want +got):\n%s", diff)
		}
		rule(t, faultproxy.Rule{Operation: "Publish", Match: []string{"endpoint%2FAPNS"}, Fault: faultproxy.Error, Status: 400, Code: "EndpointDisabled",
			Message: "Endpoint is disabled: token " + tokenC, Times: 1})
		id = s.unitary("pii-push-2", "push", external("p-ext", map[string]any{"pushInfo": map[string]any{"appID": "shop-ios", "platform": "APNS", "token": tokenC}}))
		drain(t)
		if got := s.outcomes(id)["p-ext"]; got == "" || got == "sent" {
			t.Errorf("outcome of a disabled endpoint = %q, want an exclusion or a failure", got)
		}
	})
}

var (
	tokenA = "tok-" + marker + "-a"
	tokenB = "tok-" + marker + "-b"
	tokenC = "tok-" + marker + "-c"
)

func (s *scan) profiles(t *testing.T) {
	path := "/profiles/email/" + url.PathEscape(email("prof"))
	s.api.call("PUT", path, map[string]any{"attributes": person, "identities": map[string]any{"email": email("prof"), "phone": phoneSent},
		"consent": map[string]any{"email": "y"}, "timeZone": "Europe/Paris"}, 200)
	s.api.call("GET", path, nil, 200)
	s.api.call("PATCH", path, map[string]any{"attributes": map[string]any{"tier": "gold-" + marker}}, 200)
	s.api.call("PATCH", path, map[string]any{"identities": map[string]any{"email": "not-an-address-" + marker}}, 400)
	s.api.call("PUT", path, `{"attributes":{"card":"4111-`+marker+`","n":1e308}}`, 400)
	s.api.call("PUT", path, `{"attributes":{"":"jane-`+marker+`"}}`, 400)
	s.api.call("GET", "/profiles/email/"+url.PathEscape(email("nobody")), nil, 404)
	var batch struct {
		Results []struct{ Status int }
	}
	s.api.decode("POST", "/profiles/batch", map[string]any{"profiles": []any{
		map[string]any{"namespace": "email", "id": email("batch1"), "attributes": person},
		map[string]any{"namespace": "email", "id": email("batch2"), "attributes": map[string]any{"": "x-" + marker}},
	}}, 200, &batch)
	if len(batch.Results) != 2 || batch.Results[1].Status != 400 {
		t.Errorf("batch results = %+v, want the second refused with 400", batch.Results)
	}
	s.api.call("DELETE", path, nil, 200)
	s.api.call("DELETE", path, nil, 200) // an erasure is idempotent
	s.api.call("POST", "/erasures", map[string]any{"channel": "email", "address": email("batch1")}, 200)
	s.api.call("POST", "/erasures", map[string]any{"namespace": "email", "id": email("batch2")}, 200)
	s.api.call("POST", "/erasures", map[string]any{"channel": "email", "address": "not-an-address-" + marker}, 400)
	rule(t, storeError("prof500"))
	s.api.call("PUT", "/profiles/email/"+url.PathEscape(email("prof500")), map[string]any{"attributes": person}, 500)
}

// reputation shows the guard and lifts a pause that is not there (the
// bounces that pause a tenant are a test of e2e/api).
func (s *scan) reputation(t *testing.T) {
	s.api.call("GET", "/reputation", nil, 200)
	s.api.call("DELETE", "/reputation/email", nil, 404)
	s.api.call("DELETE", "/reputation/push", nil, 400)
}

// frequencyCaps sets, reads and removes the tenant's frequency caps,
// through a refused rule set on the way (the scan's other steps run
// without caps).
func (s *scan) frequencyCaps(t *testing.T) {
	s.api.call("PUT", "/frequency-caps", map[string]any{"rules": []any{map[string]any{"channel": marker, "limit": 0, "window": marker}}}, 400)
	s.api.call("PUT", "/frequency-caps", map[string]any{"rules": []any{map[string]any{"channel": "email", "limit": 3, "window": "rolling7d"}}}, 200)
	s.api.call("GET", "/frequency-caps", nil, 200)
	s.api.call("DELETE", "/frequency-caps", nil, 204)
}

func (s *scan) suppressions(t *testing.T) {
	path := "/suppressions/email/" + url.PathEscape(email("sup"))
	s.api.call("PUT", path, map[string]any{"reason": "manual"}, 200)
	s.api.call("GET", path, nil, 200)
	s.api.call("GET", "/suppressions?channel=email", nil, 200)
	s.api.call("PUT", "/suppressions/sms/"+url.PathEscape(phoneSent), nil, 200)
	s.api.call("GET", "/suppressions/sms/"+url.PathEscape(phoneSent), nil, 200)
	s.api.call("DELETE", "/suppressions/sms/"+url.PathEscape(phoneSent), nil, 204)
	s.api.call("PUT", "/suppressions/fax/"+url.PathEscape(email("fax")), nil, 400)
	s.api.call("PUT", path, map[string]any{"reason": "because-" + marker}, 400)
	s.api.call("GET", "/suppressions/email/"+url.PathEscape(email("notlisted")), nil, 404)
	s.api.call("DELETE", path, nil, 204)
	rule(t, storeError("sup500"))
	s.api.call("GET", "/suppressions/email/"+url.PathEscape(email("sup500")), nil, 500)
}

// feedbackWebhook exercises the webhook routes and the Webhook function
// with a secret, a custom header and an identity that carry the marker: a
// receiver that fails once, then accepts.
func (s *scan) feedbackWebhook(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 1 {
			http.Error(w, "receiver down for "+email("hook"), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	hookSecret, apiKey := "whsec-"+marker+"-0123456789", "key-"+marker
	s.secret(hookSecret, apiKey)
	body := map[string]any{"name": "Ops", "url": srv.URL + "/hook", "channels": []string{"email"},
		"headers": map[string]any{"X-Api-Key": apiKey}, "secret": hookSecret}
	s.api.call("POST", "/feedback-webhook", map[string]any{"name": "Ops", "url": "https://user:" + marker + "@127.0.0.1/hook", "channels": []string{"email"}}, 400)
	s.api.call("POST", "/feedback-webhook", body, 201)
	s.api.call("POST", "/feedback-webhook", body, 409)
	s.api.call("GET", "/feedback-webhook", nil, 200)
	s.api.call("PATCH", "/feedback-webhook", map[string]any{"name": "Ops " + marker, "headers": map[string]any{"X-Bad": "a\r\n" + marker}}, 400)
	s.api.call("PATCH", "/feedback-webhook", map[string]any{"name": "Ops 2"}, 200)
	pub, err := cloud.App.WebhookPublisher()
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Publish(context.Background(), []webhook.Message{{ID: "ses-0100018c-pii-webhook", Tenant: s.tenant, Channel: "email", At: time.Now(),
		Payload: webhook.Payload{Feedback: webhook.Feedback{Status: webhook.StatusBounce, Failure: &webhook.Reason{Category: "async", Reason: "550 " + email("hook")}},
			IdentityMap: map[string][]webhook.Identity{"email": {{ID: email("hook")}}}}}}); err != nil {
		t.Fatal(err)
	}
	drain(t)
	mu.Lock()
	defer mu.Unlock()
	if calls != 2 {
		t.Errorf("the receiver got %d requests, want 2 (refused, then accepted)", calls)
	}
	s.api.call("GET", "/feedback-webhook/deliveries?status=delivered", nil, 200)
	s.api.call("POST", "/feedback-webhook/deliveries/redrive", nil, 200)
	s.api.call("DELETE", "/feedback-webhook", nil, 204)
	s.api.call("GET", "/feedback-webhook", nil, 404)
}

func (s *scan) audienceRoutes(t *testing.T) {
	id := s.api.id("POST", "/audiences", map[string]any{"name": "Fans", "description": "everyone"}, 201)
	s.audiences["fans"] = id
	s.api.call("POST", "/audiences/"+id+"/members", map[string]any{"members": []any{
		map[string]any{"namespace": "email", "id": email("m1")}, map[string]any{"namespace": "email", "id": email("m2")},
		map[string]any{"namespace": "email", "id": email("m3")}}}, 200)
	s.api.call("POST", "/audiences/"+id+"/members", map[string]any{"members": []any{map[string]any{"namespace": "", "id": email("m-bad")}}}, 400)
	s.api.call("GET", "/audiences", nil, 200)
	s.api.call("GET", "/audiences/"+id, nil, 200)
	s.api.call("GET", "/audiences/"+id+"/members?limit=10", nil, 200)
	s.api.call("DELETE", "/audiences/"+id+"/members", map[string]any{"members": []any{map[string]any{"namespace": "email", "id": email("m3")}}}, 200)
	s.api.call("GET", "/audiences/unknown-audience", nil, 404)
	for _, m := range []string{email("m1"), email("m2")} {
		s.api.call("PUT", "/profiles/email/"+url.PathEscape(m), map[string]any{"attributes": person, "consent": map[string]any{"email": "y"}}, 200)
	}
	phones := s.api.id("POST", "/audiences", map[string]any{"name": "Texters"}, 201)
	s.audiences["phones"] = phones
	s.api.call("POST", "/audiences/"+phones+"/members", map[string]any{"members": []any{
		map[string]any{"namespace": "phone", "id": phoneSent}, map[string]any{"namespace": "phone", "id": phoneOptedOut},
		map[string]any{"namespace": "phone", "id": phoneCheckFail}}}, 200)
	for _, p := range []string{phoneSent, phoneOptedOut, phoneCheckFail} {
		s.api.call("PUT", "/profiles/phone/"+url.PathEscape(p), map[string]any{"attributes": map[string]any{"name": "Zelda-" + marker}}, 200)
	}
	gone := s.api.id("POST", "/audiences", map[string]any{"name": "Gone"}, 201)
	s.api.call("DELETE", "/audiences/"+gone, nil, 200)
	rule(t, storeError("m500"))
	s.api.call("POST", "/audiences/"+id+"/members", map[string]any{"members": []any{map[string]any{"namespace": "email", "id": email("m500")}}}, 500)
}

func (s *scan) audienceExecutions(t *testing.T) {
	mkt := s.campaign("news", "marketing", "email", "news", map[string]any{"subject": "{{context.offer}} for {{profile.person.name.firstName}}",
		"text": "Hi {{profile.person.name.firstName}}, {{context.offer}}"}, map[string]any{"namespace": "email", "audienceId": s.audiences["fans"]}, false)
	s.campaign("promos", "marketing", "sms", "promos", map[string]any{"body": "{{context.offer}}"},
		map[string]any{"namespace": "phone", "audienceId": s.audiences["phones"]}, false)
	offer := map[string]any{"offer": "offer-" + marker}
	var now struct{ ExecutionID string }
	s.api.decode("POST", "/im/executions/audience", map[string]any{"requestId": "pii-aud-1", "campaignId": mkt, "context": offer}, 202, &now)
	rule(t, faultproxy.Rule{Operation: "CheckIfPhoneNumberIsOptedOut", Match: []string{url.QueryEscape(phoneCheckFail)}, Fault: faultproxy.Throttle,
		Message: "Rate exceeded checking " + phoneCheckFail, Times: 1})
	var texts struct{ ExecutionID string }
	s.api.decode("POST", "/im/executions/audience", map[string]any{"requestId": "pii-aud-sms", "campaignId": s.campaigns["promos"], "context": offer}, 202, &texts)
	drain(t)
	s.api.call("GET", "/im/executions/audience/"+now.ExecutionID, nil, 200)
	want := map[string]string{phoneSent: "sent", phoneOptedOut: "excluded:opted_out", phoneCheckFail: "sent"}
	if diff := cmp.Diff(want, s.outcomes(texts.ExecutionID)); diff != "" {
		t.Errorf("SMS audience outcomes (-want +got):\n%s", diff)
	}
	s.executions["audience"] = now.ExecutionID
	s.api.call("POST", "/im/executions/audience", map[string]any{"requestId": "pii-aud-400", "campaignId": mkt, "context": map[string]any{"system": marker}}, 400)

	at := clock.Now().Add(time.Hour).UTC().Truncate(time.Second)
	var cancelled, later, failing struct{ ScheduleID string }
	s.api.decode("POST", "/im/executions/audience", map[string]any{"requestId": "pii-aud-2", "campaignId": mkt, "context": offer,
		"schedule": map[string]any{"executeAt": at}}, 202, &cancelled)
	s.api.call("GET", "/im/executions/schedules/"+cancelled.ScheduleID, nil, 200)
	s.api.call("DELETE", "/im/executions/schedules/"+cancelled.ScheduleID, nil, 200)
	s.api.call("GET", "/im/executions/schedules/unknown-schedule", nil, 404)
	s.api.decode("POST", "/im/executions/audience", map[string]any{"requestId": "pii-aud-3", "campaignId": mkt, "context": offer,
		"schedule": map[string]any{"executeAt": at}}, 202, &later)
	s.api.decode("POST", "/im/executions/audience", map[string]any{"requestId": "pii-aud-4", "campaignId": mkt, "context": offer,
		"schedule": map[string]any{"executeAt": at}}, 202, &failing)
	rec := s.api.id("POST", "/campaigns/"+mkt+"/recurrences", map[string]any{"expression": "rate(1 hour)", "context": offer}, 201)
	dropped := s.api.id("POST", "/campaigns/"+mkt+"/recurrences", map[string]any{"expression": "rate(1 hour)", "context": offer}, 201)
	s.api.call("POST", "/campaigns/"+mkt+"/recurrences", map[string]any{"expression": "every day at " + marker, "context": offer}, 400)
	s.api.call("GET", "/campaigns/"+mkt+"/recurrences", nil, 200)
	s.api.call("DELETE", "/campaigns/"+mkt+"/recurrences/"+dropped, nil, 200)
	_ = rec
	// A scheduled campaign goes live and ends by its schedules.
	s.campaign("season", "marketing", "email", "news", map[string]any{"subject": "Season", "text": "Hi {{profile.person.name.firstName}}"},
		map[string]any{"namespace": "email", "audienceId": s.audiences["fans"]}, true)
	s.api.call("PATCH", "/campaigns/"+s.campaigns["season"], map[string]any{"schedule": map[string]any{
		"start": clock.Now().Add(30 * time.Minute).UTC().Format(time.RFC3339), "end": clock.Now().Add(100 * time.Minute).UTC().Format(time.RFC3339)}}, 200)
	s.api.call("POST", "/campaigns/"+s.campaigns["season"]+"/activate", nil, 200)

	// The first firing of one execution meets a store refusing with a
	// message that quotes its id; Scheduler retries it.
	rule(t, faultproxy.Rule{Operation: "*", Match: []string{failing.ScheduleID}, Fault: faultproxy.Error, Status: 400, Code: "ValidationException",
		Message: "One or more parameter values were invalid: " + email("sched500"), Times: 1})
	// Time moves in steps, so schedules fire in their order: the
	// campaign's start, the executions and the recurrence, the end.
	fired := 0
	for _, step := range []time.Duration{45 * time.Minute, 30 * time.Minute, 45 * time.Minute, 0} {
		clock.Advance(step)
		f, err := cloud.FireDueSchedules(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		fired += len(f)
	}
	if fired < 6 {
		t.Errorf("%d schedule invocations, want the campaign's start and end, the two executions (one twice) and the recurrence", fired)
	}
	drain(t)
	s.api.call("GET", "/im/executions/audience/"+later.ScheduleID, nil, 200)
	// Inputs the Scheduler function refuses. Execution ids are minted by
	// Herald, never personal data, and logs name them by design: the
	// unknown one has their shape, not the marker.
	for _, in := range []map[string]any{
		{"kind": "execution", "org": eventOrg, "sandbox": eventSandbox, "executionId": "00000000-0000-4000-8000-00000000dead"},
		{"kind": "recurrence", "org": eventOrg, "sandbox": eventSandbox, "campaignId": mkt, "recurrenceId": dropped},
		{"kind": "campaign-start", "org": eventOrg, "sandbox": eventSandbox, "campaignId": s.campaigns["orders"]},
		{"kind": "unknown-" + marker, "org": eventOrg, "sandbox": eventSandbox},
		{"kind": "execution", "org": "bad org " + marker},
	} {
		_, _ = invoke(t, "SchedulerFunction", in)
	}
}

func (s *scan) unsubscribeLinks(t *testing.T) {
	// The one-click link Herald puts in a marketing email (moto drops
	// the List-Unsubscribe header, so it is signed here as Dispatch does).
	signer, err := unsubscribe.New(localcloud.DemoUnsubscribeSecret)
	if err != nil {
		t.Fatal(err)
	}
	tok := signer.Token(unsubscribe.Claims{Tenant: s.tenant, Channel: "email", Address: email("m1"), CampaignID: s.campaigns["news"]})
	s.secret(tok)
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	call := func(method, token string, want int) {
		t.Helper()
		status, _, out, err := cloud.Call(method, "/unsubscribe?token="+url.QueryEscape(token), form, "List-Unsubscribe=One-Click")
		if err != nil || status != want {
			t.Errorf("%s /unsubscribe = %d %s %v, want %d", method, status, out, err, want)
		}
	}
	call("GET", tok, 200)
	call("POST", tok, 200)
	call("POST", tok[:len(tok)-3]+"xyz", 400)
	call("GET", "garbage-"+marker, 400)
	failing := signer.Token(unsubscribe.Claims{Tenant: s.tenant, Channel: "email", Address: email("unsub500"), CampaignID: s.campaigns["news"]})
	s.secret(failing)
	rule(t, storeError("unsub500"))
	call("POST", failing, 500)
}

func (s *scan) previews(t *testing.T) {
	orders := s.campaigns["orders"]
	s.api.call("POST", "/campaigns/"+orders+"/preview", map[string]any{"profile": person, "context": orderContext}, 200)
	s.api.call("POST", "/campaigns/"+orders+"/preview", map[string]any{"userId": email("jane"), "namespace": "email", "context": orderContext}, 200)
	s.api.call("POST", "/campaigns/"+s.campaigns["receipt"]+"/preview", map[string]any{"context": map[string]any{"card": "4111-" + marker, "when": "x-" + marker}}, 422)
	s.api.call("POST", "/campaigns/"+orders+"/preview", map[string]any{"contxt": marker}, 400)
	t.Run("a profile read failing", func(t *testing.T) {
		s.api.t = t
		defer func() { s.api.t = s.t }()
		rule(t, storeError("prev500"))
		s.api.call("POST", "/campaigns/"+orders+"/preview", map[string]any{"userId": email("prev500"), "namespace": "email"}, 500)
	})
	rule(t, faultproxy.Rule{Operation: "SendEmail", Match: []string{"proofrejected." + marker}, Fault: faultproxy.Error, Status: 400, Code: "MessageRejected",
		Message: "Email address is not verified. The following identities failed the check in region US-EAST-1: " + email("proofrejected"), Times: 1})
	var proof struct {
		Results []struct{ Outcome string }
	}
	s.api.decode("POST", "/campaigns/"+orders+"/proofs", map[string]any{"recipients": []string{email("proof"), email("proofrejected")},
		"profile": person, "context": orderContext}, 200, &proof)
	var got []string
	for _, r := range proof.Results {
		got = append(got, r.Outcome)
	}
	if diff := cmp.Diff([]string{"sent", "failed:MessageRejected"}, got); diff != "" {
		t.Errorf("proof outcomes (-want +got):\n%s", diff)
	}
	s.api.call("POST", "/campaigns/"+orders+"/proofs", map[string]any{"recipients": []string{"not-an-address-" + marker}}, 400)
	s.api.call("GET", "/campaigns/"+orders+"/request-sample", nil, 200)
	// A treatment the campaign has no experiment for: its name is the
	// caller's value, refused without being logged.
	s.api.call("POST", "/campaigns/"+orders+"/promote", map[string]any{"treatment": "t-" + marker}, 400)
}

// eventBody is a unitary request as an EventBridge event's detail.
func (s *scan) eventBody(requestID string, recipients ...map[string]any) map[string]any {
	return map[string]any{"requestId": requestID, "campaignId": s.campaigns["orders"], "recipients": recipients}
}

func (s *scan) eventBridge(t *testing.T) {
	ev := func(id string, detail any) map[string]any {
		return map[string]any{"version": "0", "id": id, "detail-type": "order.shipped", "source": "shop.orders", "time": time.Now().UTC(), "detail": detail}
	}
	for _, tc := range []struct {
		name    string
		event   any
		wantErr bool
		rule    *faultproxy.Rule
	}{
		{"an accepted event", ev("ev-1", s.eventBody("pii-ev-1", external("e-1", map[string]any{"emailAddress": email("event")}))), false, nil},
		{"a refused event", ev("ev-2", s.eventBody("pii-ev-2", external("e-2", map[string]any{"mobilePhoneNumber": phoneBad}))), false, nil},
		{"a scheduler input", s.eventBody("pii-ev-3", external("e-3", map[string]any{"emailAddress": email("eventsched")})), false, nil},
		{"a store failure", ev("ev-4", s.eventBody("pii-ev-4", external("e-4", map[string]any{"emailAddress": email("ev500")}))), true, new(storeError("pii-ev-4"))},
		{"not an object", "jane." + marker, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.rule != nil {
				rule(t, *tc.rule)
			}
			_, err := invoke(t, "TriggerFunction", tc.event)
			if (err != nil) != tc.wantErr {
				t.Errorf("error = %v, want one: %v", err != nil, tc.wantErr)
			}
		})
	}
	drain(t)
}

func (s *scan) deadLetters(t *testing.T) {
	s.api.call("GET", "/executions/"+s.executions["email"], nil, 200)
	s.api.call("GET", "/executions/"+s.executions["email"]+"/recipients?outcome=failed", nil, 200)
	s.api.call("GET", "/executions/"+s.executions["email"]+"/report", nil, 200)
	s.api.call("GET", "/campaigns/"+s.campaigns["orders"]+"/report", nil, 200)
	s.api.call("GET", "/executions/unknown-execution", nil, 404)
	s.api.call("GET", "/executions/"+s.executions["email"]+"/recipients?outcome=bogus-"+marker, nil, 400)
	s.api.call("GET", "/campaigns/"+s.campaigns["orders"]+"/executions", nil, 200)
	s.api.call("GET", "/campaigns/"+s.campaigns["orders"]+"/executions?limit=1&cursor="+marker, nil, 400)
	// AJO's base path, and what no route matches (personal data in the path).
	s.api.call("GET", "/ajo/executions/"+s.executions["email"], nil, 200)
	s.api.call("GET", "/ajo/im/executions/audience/unknown-"+marker, nil, 404)
	s.api.call("GET", "/no-such-route/"+email("lost"), nil, 404)
	s.api.call("DELETE", "/im/health", nil, 405)
	s.api.call("GET", "/?who="+email("root"), nil, 404) // the one path $default still gets

	// A job the dispatch queue gave up on: the dead-letter consumer
	// closes its recipients and parks it; a redrive sends it.
	id := s.unitary("pii-dlq", "orders", external("d-1", map[string]any{"emailAddress": email("deadletter")}))
	moveToDeadLetters(t)
	drain(t)
	if got := s.outcomes(id)["d-1"]; !strings.HasPrefix(got, "failed:") {
		t.Errorf("dead-lettered recipient = %q, want failed", got)
	}
	s.api.call("POST", "/executions/"+id+"/redrive", nil, 200)
	drain(t)
	s.api.call("POST", "/executions/unknown-execution/redrive", nil, 404)

	// Messages no consumer can decode, and a job the store will not close.
	job := `{"tenant":{"org":"` + eventOrg + `","sandbox":"` + eventSandbox + `"},"executionId":"pii-dlq-2","campaignId":"` + s.campaigns["orders"] +
		`","version":1,"ledger":2,"recipients":[{"type":"external","namespace":"crmId","userId":"d-2","email":"` + email("dlq500") + `"}]}`
	t.Run("a job the store will not close", func(t *testing.T) {
		rule(t, storeError("dlq500"))
		resp, err := cloud.Handlers.SQS["DeadLetterFunction"](context.Background(), sqsEvent(job))
		if err != nil || len(resp.BatchItemFailures) != 1 {
			t.Errorf("dead-letter consumer = %+v, %v; want the message failed", resp, err)
		}
	})
	for _, body := range []string{`{"recipients":[{"userId":"` + email("truncated"), `{"recipients":[{"userId":"` + email("typed") + `","email":42}]}`} {
		resp, err := cloud.Handlers.SQS["DeadLetterFunction"](context.Background(), sqsEvent(body))
		if err != nil || len(resp.BatchItemFailures) != 1 {
			t.Errorf("dead-letter consumer = %+v, %v; want the message failed", resp, err)
		}
		resp, err = cloud.Handlers.SQS["DispatchFunction"](context.Background(), sqsEvent(body))
		if err != nil || len(resp.BatchItemFailures) != 1 {
			t.Errorf("dispatch = %+v, %v; want the message failed", resp, err)
		}
	}
	// A job whose profile read fails once: Dispatch retries it.
	t.Run("a suppression lookup failing in Dispatch", func(t *testing.T) {
		s.api.t = t
		defer func() { s.api.t = s.t }()
		r := storeError("disp500")
		r.Operation = "GetItem" // the suppression lookup: only Dispatch reads it
		rule(t, r)
		id := s.unitary("pii-disp-500", "orders", external("c-disp500", map[string]any{"emailAddress": email("disp500")}))
		drain(t)
		if got := s.outcomes(id)["c-disp500"]; got != "sent" {
			t.Errorf("outcome = %q, want sent after the retry", got)
		}
	})
}

func sqsEvent(body string) events.SQSEvent {
	return events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m-" + marker[:3], ReceiptHandle: "not-a-receipt-handle", Body: body,
		Attributes: map[string]string{"ApproximateReceiveCount": "1"}}}}
}

// moveToDeadLetters moves every message of the dispatch queue to its
// dead-letter queue, as SQS does after maxReceiveCount.
func moveToDeadLetters(t *testing.T) {
	t.Helper()
	var from, to string
	for _, q := range cloud.Stack.Queues {
		switch q.LogicalID {
		case "DispatchQueue":
			from = q.URL
		case "DispatchDeadLetterQueue":
			to = q.URL
		}
	}
	ctx := context.Background()
	c := awssqs.NewFromConfig(cloud.AWS)
	out, err := c.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: aws.String(from), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
	if err != nil || len(out.Messages) == 0 {
		t.Fatalf("receive from the dispatch queue: %d messages, %v", len(out.Messages), err)
	}
	for _, m := range out.Messages {
		if _, err := c.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(to), MessageBody: m.Body}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: aws.String(from), ReceiptHandle: m.ReceiptHandle}); err != nil {
			t.Fatal(err)
		}
	}
}

func (s *scan) authentication(t *testing.T) {
	bad := "hrld_" + marker + "_0000000000000000000000000000000000"
	s.secret(bad)
	call := func(headers map[string]string, want int) {
		t.Helper()
		status, _, out, err := cloud.Call("GET", "/campaigns", headers, nil)
		if err != nil || status != want {
			t.Errorf("GET /campaigns = %d %s %v, want %d", status, out, err, want)
		}
	}
	call(nil, 401)
	call(map[string]string{"Authorization": "Bearer " + bad}, 401)
	call(map[string]string{"Authorization": "Basic " + email("basic")}, 401)
	h := maps.Clone(s.api.headers)
	h["x-gw-ims-org-id"] = email("org")
	call(h, 403)

	// The token route: a client that is not one, then the demo client.
	ctx := context.Background()
	k, secret, err := auth.Mint(ctx, cloud.App.Keys(), s.tenant, []auth.Scope{auth.ScopeRead}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s.secret(secret, auth.HashSecret(secret))
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	token := func(v url.Values, want int) []byte {
		t.Helper()
		status, _, out, err := cloud.Call("POST", "/ims/token/v3", form, v.Encode())
		if err != nil || status != want {
			t.Fatalf("POST /ims/token/v3 = %d %s %v, want %d", status, out, err, want)
		}
		return out
	}
	token(url.Values{"grant_type": {"client_credentials"}, "client_id": {email("client")}, "client_secret": {bad}}, 401)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(token(url.Values{"grant_type": {"client_credentials"}, "client_id": {k.ID}, "client_secret": {secret},
		"scope": {"openid," + email("scope")}}, 200), &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token answer: %v", err)
	}
	s.secret(tok.AccessToken)
	call(map[string]string{"Authorization": "Bearer " + tok.AccessToken, "x-api-key": k.ID}, 200)

	// The key store fails with a message quoting the key's item: a 503,
	// never a refusal, and nothing of the message in the logs.
	_, other, err := auth.Mint(ctx, cloud.App.Keys(), s.tenant, []auth.Scope{auth.ScopeRead}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s.secret(other, auth.HashSecret(other))
	rule(t, faultproxy.Rule{Operation: "GetItem", Match: []string{auth.HashSecret(other)}, Fault: faultproxy.Error, Status: 400, Code: "ValidationException",
		Message: "One or more parameter values were invalid: key KEY#" + auth.HashSecret(other) + " of " + email("keyowner"), Times: 1})
	call(map[string]string{"Authorization": "Bearer " + other}, 503)
}

func (s *scan) lifecycleEnd(t *testing.T) {
	id := s.campaign("brief", "transactional", "email", "orders", map[string]any{"subject": "Brief", "text": "Hi"}, map[string]any{"namespace": "email"}, false)
	s.api.call("POST", "/campaigns/"+id+"/stop", nil, 200)
	s.api.call("POST", "/campaigns/"+id+"/stop", nil, 409)
	s.api.call("POST", "/campaigns/"+id+"/archive", nil, 200)
	s.api.call("POST", "/campaigns/"+id+"/activate", nil, 409)
	s.api.call("DELETE", "/campaigns/"+id, nil, 409)
	s.api.call("POST", "/im/executions/unitary", map[string]any{"requestId": "pii-stopped", "campaignId": id,
		"recipients": []any{external("x-1", map[string]any{"emailAddress": email("stopped")})}}, 409)
}
