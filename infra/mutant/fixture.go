package mutant

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

//go:embed testdata/seeds.json
var seedsJSON []byte

// Prepare sends seed's Before requests through call and fails unless
// each succeeds.
func (f *Fixture) Prepare(call Caller, seed Request) error {
	for _, b := range seed.Before {
		r := f.Bind(b)
		status, body, err := call(r)
		if err != nil {
			return fmt.Errorf("before %s: %w", seed.Route, err)
		}
		if status < 200 || status > 299 {
			return fmt.Errorf("before %s: %s = %d %.300s", seed.Route, r.Route, status, body)
		}
	}
	return nil
}

// Seeds returns the fixed seed corpus: one valid request (or more) for
// every management and execution route, naming fixture resources with
// placeholders ($live, $audience, $requestId...) that Fixture.Bind fills.
func Seeds() ([]Request, error) {
	var out []Request
	if err := json.Unmarshal(seedsJSON, &out); err != nil {
		return nil, fmt.Errorf("seed corpus: %w", err)
	}
	return out, nil
}

// Caller sends one request as one tenant and returns the HTTP status and
// body.
type Caller func(r Request) (status int, body []byte, err error)

// Fixture holds the ids of the resources the seed requests name, created
// through the API for one tenant.
type Fixture struct {
	values map[string]string
	seq    int
}

// FixtureWebhookURL is the endpoint of the fixture's feedback webhook: on
// loopback, which the targets allow (as the local cloud does), and
// nothing listens there.
const FixtureWebhookURL = "http://127.0.0.1:9/herald"

// FixtureDomain is the From domain of the fixture's configurations (an SES
// identity must exist for it where review checks identities).
const FixtureDomain = "acme.example"

// NewFixture creates, through call: three email configurations ($config,
// $mconfig for marketing, $spareConfig unused), profiles crmId/p-1 and
// p-2, an audience of both ($audience), a live transactional campaign
// ($live) creating profiles, a live high-throughput one ($fast), a draft ($draft), a live marketing campaign
// on the audience ($market) with a recurrence ($recurrence), a stopped
// campaign ($stopped), an audience
// execution ($audienceExecution) and a scheduled one ($schedule), a
// suppressed address and a feedback webhook (FixtureWebhookURL). extra adds values the API cannot make ($token);
// now sets $future.
func NewFixture(call Caller, now time.Time, extra map[string]string) (*Fixture, error) {
	f := &Fixture{values: maps.Clone(extra)}
	if f.values == nil {
		f.values = map[string]string{}
	}
	f.values["$future"] = now.Add(24 * time.Hour).UTC().Format(time.RFC3339)
	step := func(name string, r Request, field string) error {
		r = f.Bind(r)
		status, body, err := call(r)
		if err != nil {
			return fmt.Errorf("fixture %s: %w", r.Route, err)
		}
		if status < 200 || status > 299 {
			return fmt.Errorf("fixture %s: %d %s", r.Route, status, body)
		}
		if name == "" {
			return nil
		}
		var out map[string]any
		if err := json.Unmarshal(body, &out); err != nil {
			return fmt.Errorf("fixture %s: %w", r.Route, err)
		}
		id, _ := out[field].(string)
		if id == "" {
			return fmt.Errorf("fixture %s: no %s in %s", r.Route, field, body)
		}
		f.values[name] = id
		return nil
	}
	config := func(category string) Request {
		return Request{Route: "POST /channel-configurations", Body: json.RawMessage(`{"name":"Orders","channel":"email","category":"` + category +
			`","email":{"fromName":"Acme","fromAddress":"orders@` + FixtureDomain + `","replyTo":["help@` + FixtureDomain + `"],` +
			`"listUnsubscribeUrl":"https://` + FixtureDomain + `/unsubscribe"}}`)}
	}
	// A high-throughput campaign's content reads only the context.
	contextEmail := `{"subject":"Order {{context.orderId}}","html":"<p>Hi {{context.firstName}}</p>","text":"Hi {{context.firstName}}"}`
	email := `{"subject":"Order {{context.orderId}}, {{profile.firstName}}","html":"<p>Hi {{profile.firstName}}</p>{{#each context.items}}<li>{{name}}</li>{{/each}}","text":"Hi {{profile.firstName}}"}`
	profile := func(id string) Request {
		return Request{Route: "PUT /profiles/{namespace}/{id}", Params: map[string]string{"namespace": "crmId", "id": id},
			Body: json.RawMessage(`{"attributes":{"firstName":"Jane","email":"` + id + `@` + FixtureDomain + `"},"consent":{"email":"y"}}`)}
	}
	steps := []struct {
		name, field string
		r           Request
	}{
		{"$config", "id", config("transactional")},
		{"$mconfig", "id", config("marketing")},
		{"$spareConfig", "id", config("transactional")},
		{"", "", profile("p-1")},
		{"", "", profile("p-2")},
		{"$audience", "id", Request{Route: "POST /audiences", Body: json.RawMessage(`{"name":"All"}`)}},
		{"", "", Request{Route: "POST /audiences/{id}/members", Params: map[string]string{"id": "$audience"},
			Body: json.RawMessage(`{"members":[{"namespace":"crmId","id":"p-1"},{"namespace":"crmId","id":"p-2"}]}`)}},
		{"$live", "id", Request{Route: "POST /campaigns", Body: json.RawMessage(`{"name":"Order","type":"transactional","channel":"email",` +
			`"channelConfigurationId":"$config","content":{"email":` + email + `},"audience":{"namespace":"crmId","createProfiles":true}}`)}},
		{"", "", Request{Route: "POST /campaigns/{id}/activate", Params: map[string]string{"id": "$live"}}},
		{"$fast", "id", Request{Route: "POST /campaigns", Body: json.RawMessage(`{"name":"Fast","type":"transactional","channel":"email",` +
			`"highThroughput":true,"channelConfigurationId":"$config","content":{"email":` + contextEmail + `},"audience":{"namespace":"email"}}`)}},
		{"", "", Request{Route: "POST /campaigns/{id}/activate", Params: map[string]string{"id": "$fast"}}},
		{"$draft", "id", Request{Route: "POST /campaigns", Body: json.RawMessage(`{"name":"Draft","type":"transactional","channel":"email",` +
			`"channelConfigurationId":"$config","content":{"email":` + email + `},"audience":{"namespace":"crmId"}}`)}},
		{"$market", "id", Request{Route: "POST /campaigns", Body: json.RawMessage(`{"name":"Sale","type":"marketing","channel":"email",` +
			`"channelConfigurationId":"$mconfig","content":{"email":` + email + `},"audience":{"namespace":"crmId","audienceId":"$audience"}}`)}},
		{"", "", Request{Route: "POST /campaigns/{id}/activate", Params: map[string]string{"id": "$market"}}},
		{"$stopped", "id", Request{Route: "POST /campaigns", Body: json.RawMessage(`{"name":"Old","type":"transactional","channel":"email",` +
			`"channelConfigurationId":"$config","content":{"email":` + email + `},"audience":{"namespace":"crmId"}}`)}},
		{"", "", Request{Route: "POST /campaigns/{id}/activate", Params: map[string]string{"id": "$stopped"}}},
		{"", "", Request{Route: "POST /campaigns/{id}/stop", Params: map[string]string{"id": "$stopped"}}},
		{"", "", Request{Route: "PUT /suppressions/{channel}/{address}", Params: map[string]string{"channel": "email", "address": "blocked@" + FixtureDomain},
			Body: json.RawMessage(`{"reason":"manual"}`)}},
		{"", "", Request{Route: "POST /feedback-webhook", Body: json.RawMessage(`{"name":"Ops","url":"` + FixtureWebhookURL + `","channels":["email","sms"],` +
			`"headers":{"X-Api-Key":"k-1"},"secret":"fixture-webhook-secret-0000"}`)}},
		{"$recurrence", "id", Request{Route: "POST /campaigns/{id}/recurrences", Params: map[string]string{"id": "$market"},
			Body: json.RawMessage(`{"expression":"rate(1 day)","context":{"pct":10}}`)}},
		{"$audienceExecution", "executionId", Request{Route: "POST /im/executions/audience",
			Body: json.RawMessage(`{"requestId":"$requestId","campaignId":"$market","context":{"pct":10}}`)}},
		{"$schedule", "scheduleId", Request{Route: "POST /im/executions/audience",
			Body: json.RawMessage(`{"requestId":"$requestId","campaignId":"$market","schedule":{"executeAt":"$future"}}`)}},
	}
	for _, s := range steps {
		if err := step(s.name, s.r, s.field); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// Bind fills r's placeholders with the fixture's values; each call gives
// $requestId a new value, so mutants are not answered as replays.
func (f *Fixture) Bind(r Request) Request {
	r = r.Clone()
	f.seq++
	vals := maps.Clone(f.values)
	vals["$requestId"] = fmt.Sprintf("mutant-%d", f.seq)
	names := slices.SortedFunc(maps.Keys(vals), func(a, b string) int { return len(b) - len(a) })
	fill := func(s string) string {
		if !strings.Contains(s, "$") {
			return s
		}
		for _, n := range names {
			s = strings.ReplaceAll(s, n, vals[n])
		}
		return s
	}
	for k, v := range r.Params {
		r.Params[k] = fill(v)
	}
	for k, v := range r.Query {
		r.Query[k] = fill(v)
	}
	if len(r.Body) > 0 {
		r.Body = json.RawMessage(fill(string(r.Body)))
	}
	return r
}
