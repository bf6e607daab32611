// Package calls_test counts the AWS calls each Herald operation makes:
// Herald runs as `make run` does, with a proxy between every SDK client
// and moto that records each call's operation, start and end. For each
// operation, done once untimed to warm its function (the key cache, the
// campaign and version caches, as in a busy Lambda) and then again, it
// reports the calls by API and the depth of the critical path — the
// longest chain of calls each made after the one before it had answered
// — and fails when an operation misses its target. `go test -short` skips
// the suite.
//
// Run `go test -v ./e2e/calls/` to print the table docs/performance.md
// shows under "Round trips".
package calls_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/infra/faultproxy"
	"github.com/heraldhq/herald/infra/localcloud"
	"github.com/heraldhq/herald/internal/tenant"
)

var (
	cloud  *localcloud.Cloud
	timing = callsTiming()
)

// callsTiming is FastTiming with a two-minute Dispatch: an invocation
// left with less than a send's time before its timeout puts its open
// recipients back for a redelivery, which costs calls of its own, and
// with FastTiming's 5 s that would happen here for moto's speed on a
// shared machine, not Herald's. On AWS a batch of ten 50-member jobs
// takes about 5 s of the template's 30 s (eight sends of ~60 ms at once).
func callsTiming() localcloud.Timing {
	t := localcloud.FastTiming
	t.DispatchTimeout, t.StaleAttempt, t.Visibility = 2*time.Minute, 2*time.Minute+10*time.Second, 5*time.Minute
	// The template's send timeout: a slow moto answer is not a provider
	// that timed out (whose recipients come back, costing calls).
	t.SendTimeout = 10 * time.Second
	return t
}

func TestMain(m *testing.M) {
	os.Exit(localcloud.RunSuite(m, &cloud, localcloud.Options{Timing: &timing,
		FaultPlan: &faultproxy.Plan{}, NoSESEvents: true, NoStreams: true}))
}

// callDelay holds every measured call this long before it reaches moto,
// so that calls Herald makes in parallel overlap at the proxy however the
// machine schedules their goroutines: a call made after another answered
// still starts after it ended, and the depth stays a count, not a timing.
const callDelay = 25 * time.Millisecond

// pollerOps are the calls Lambda's event source mapping makes around a
// queue consumer (the local cloud's poller), not the function's own.
var pollerOps = map[string]bool{"ReceiveMessage": true, "DeleteMessageBatch": true, "GetQueueAttributes": true}

// measurement is what one operation cost.
type measurement struct {
	name   string
	calls  map[string]int
	depth  int
	target int // the most round trips allowed; 0 is none
	// per divides the calls (dispatch: per recipient).
	per int
	// perTarget is the most calls per recipient allowed (with per); 0 is
	// none.
	perTarget float64
	// want is the calls by API the operation makes: a change shows here
	// and in the docs' table (nil: reported only).
	want calls
}

// measure records the AWS calls op makes: those made before op returned,
// less the poller's.
func measure(t *testing.T, name string, target int, want calls, op func()) measurement {
	t.Helper()
	cloud.Faults.SetPlan(faultproxy.Plan{Rules: []faultproxy.Rule{{Name: "overlap", Operation: "*", Fault: faultproxy.Delay,
		Delay: faultproxy.Duration(callDelay)}}})
	defer cloud.Faults.SetPlan(faultproxy.Plan{})
	return record(name, target, want, op)
}

// record runs op, recording the AWS calls it made: those that ended
// before op returned, less the poller's.
func record(name string, target int, want calls, op func()) measurement {
	cloud.Faults.StartLog()
	op()
	done := time.Now()
	var seen []faultproxy.Call
	for _, c := range cloud.Faults.CallLog() {
		if c.End.After(done) || pollerOps[c.Operation] {
			continue
		}
		seen = append(seen, c)
	}
	m := measurement{name: name, calls: map[string]int{}, depth: faultproxy.Depth(seen), target: target, want: want}
	for _, c := range seen {
		m.calls[c.Operation]++
	}
	return m
}

func (m measurement) String() string {
	var parts []string
	total := 0
	for _, op := range slices.Sorted(maps.Keys(m.calls)) {
		n := m.calls[op]
		total += n
		if m.per > 1 {
			parts = append(parts, fmt.Sprintf("%s %.2f", op, float64(n)/float64(m.per)))
		} else {
			parts = append(parts, fmt.Sprintf("%s %d", op, n))
		}
	}
	target := "—"
	if m.target > 0 {
		target = fmt.Sprintf("≤ %d", m.target)
	}
	if m.perTarget > 0 {
		target = fmt.Sprintf("≤ %.1f per recipient", m.perTarget)
	}
	calls := fmt.Sprint(total)
	if m.per > 1 {
		calls = fmt.Sprintf("%.2f", float64(total)/float64(m.per))
	}
	return fmt.Sprintf("| %s | %s | %s | %d | %s |", m.name, strings.Join(parts, ", "), calls, m.depth, target)
}

// perRecipient is the calls per recipient of a measurement with per.
func (m measurement) perRecipient() float64 {
	total := 0
	for _, n := range m.calls {
		total += n
	}
	return float64(total) / float64(max(m.per, 1))
}

func table(ms []measurement) string {
	var b strings.Builder
	b.WriteString("| Operation | Calls by API | Calls | Depth | Budget |\n|---|---|---:|---:|---|\n")
	for _, m := range ms {
		b.WriteString(m.String() + "\n")
	}
	return b.String()
}

// fixture is a tenant with a live transactional email campaign (aep
// recipients, profiles read), a high-throughput one and 20 profiles.
type fixture struct {
	t *testing.T
	localcloud.Account
	unitaryID, fastID, configID string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	acct, err := cloud.NewAccount(context.Background(), tenant.Tenant{Org: "CALLS@AdobeOrg", Sandbox: "prod"}, "calls."+localcloud.DemoSenderDomain)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, Account: acct}
	var cfg struct{ ID string }
	f.mustDo("POST", "/channel-configurations", map[string]any{"name": "Orders", "channel": "email", "category": "transactional",
		"email": map[string]any{"fromName": "Shop", "fromAddress": "orders@" + f.Domain}}, 201, &cfg)
	f.configID = cfg.ID
	f.unitaryID = f.campaign(false)
	f.fastID = f.campaign(true)
	var profiles []any
	for i := range 20 {
		profiles = append(profiles, map[string]any{"namespace": "email", "id": fmt.Sprintf("p%d@example.com", i),
			"attributes": map[string]any{"name": fmt.Sprintf("P%d", i)}})
	}
	f.mustDo("POST", "/profiles/batch", map[string]any{"profiles": profiles}, 200, nil)
	return f
}

// campaign creates and activates an email campaign.
func (f *fixture) campaign(highThroughput bool) string {
	f.t.Helper()
	id := f.draft(highThroughput)
	f.mustDo("POST", "/campaigns/"+id+"/activate", nil, 200, nil)
	return id
}

// draft creates an email campaign, not activated.
func (f *fixture) draft(highThroughput bool) string {
	f.t.Helper()
	html := "<p>Hi {{profile.name}}, {{context.orderId}} shipped.</p>"
	if highThroughput {
		html = "<p>Hi, {{context.orderId}} shipped.</p>"
	}
	var c struct{ ID string }
	f.mustDo("POST", "/campaigns", map[string]any{"name": "Order shipped", "type": "transactional", "channel": "email",
		"highThroughput": highThroughput, "channelConfigurationId": f.configID, "audience": map[string]any{"namespace": "email"},
		"content": map[string]any{"email": map[string]any{"subject": "Order {{context.orderId}}", "html": html}}}, 201, &c)
	return c.ID
}

// liveMarketingCampaign creates a marketing email configuration and a
// campaign named name on the audience, activates it and returns its id.
func (f *fixture) liveMarketingCampaign(name, audienceID string) string {
	f.t.Helper()
	var cfg struct{ ID string }
	f.mustDo("POST", "/channel-configurations", map[string]any{"name": "News", "channel": "email", "category": "marketing",
		"email": map[string]any{"fromName": "Games", "fromAddress": "news@" + f.Domain, "listUnsubscribeMailto": "unsubscribe@" + f.Domain}}, 201, &cfg)
	var c struct{ ID string }
	f.mustDo("POST", "/campaigns", map[string]any{"name": name, "type": "marketing", "channel": "email", "channelConfigurationId": cfg.ID,
		"content":  map[string]any{"email": map[string]any{"subject": "{{context.discount}}% off", "text": "Hi {{profile.name}}"}},
		"audience": map[string]any{"namespace": "email", "audienceId": audienceID}}, 201, &c)
	f.mustDo("POST", "/campaigns/"+c.ID+"/activate", nil, 200, nil)
	return c.ID
}

func (f *fixture) mustDo(method, path string, body any, want int, out any) {
	f.t.Helper()
	cloud.MustExpect(f.t, f.Account, method, path, body, want, out)
}

// trigger makes a unitary call to n profiles and returns its execution.
func (f *fixture) unitary(requestID string, n int) string {
	f.t.Helper()
	var rs []any
	for i := range n {
		rs = append(rs, map[string]any{"type": "aep", "namespace": "email", "userId": fmt.Sprintf("p%d@example.com", i),
			"context": map[string]any{"orderId": requestID}})
	}
	var resp struct{ ExecutionID string }
	f.mustDo("POST", "/im/executions/unitary", map[string]any{"requestId": requestID, "campaignId": f.unitaryID, "recipients": rs}, http.StatusAccepted, &resp)
	return resp.ExecutionID
}

// highThroughput makes a high-throughput call to n external recipients.
func (f *fixture) highThroughput(requestID string, n int) {
	f.t.Helper()
	var rs []any
	for i := range n {
		rs = append(rs, map[string]any{"type": "external", "namespace": "email", "userId": fmt.Sprintf("ht%d@example.com", i),
			"context": map[string]any{"orderId": requestID}})
	}
	f.mustDo("POST", "/im/executions/highthroughput", map[string]any{"requestId": requestID, "campaignId": f.fastID, "recipients": rs}, http.StatusAccepted, nil)
}

func drain(t *testing.T) {
	t.Helper()
	drainWithin(t, 2*time.Minute)
}

func drainWithin(t *testing.T, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if err := cloud.Drain(ctx); err != nil {
		t.Fatal(err)
	}
}

// Each operation, on a warm function, within its round-trip budget; the
// table it logs is docs/performance.md's.
func TestEachOperationStaysWithinItsRoundTrips(t *testing.T) {
	if testing.Short() || cloud == nil {
		t.Skip("the call-counting suite runs without -short")
	}
	f := newFixture(t)
	var ms []measurement

	// Trigger: everything before the 202 (the gateway answers once the
	// function returned).
	f.unitary("warm-1", 1)
	ms = append(ms, measure(t, "Trigger, unitary, 1 recipient", 5,
		calls{"GetItem": 1, "BatchGetItem": 1, "TransactWriteItems": 1, "SendMessageBatch": 1, "UpdateItem": 1},
		func() { f.unitary("u1", 1) }))
	// A call's recipients travel as one job: one message.
	u20 := measure(t, "Trigger, unitary, 20 recipients", 5,
		calls{"GetItem": 1, "BatchGetItem": 1, "TransactWriteItems": 1, "SendMessageBatch": 1, "UpdateItem": 1},
		func() { f.unitary("u20", 20) })
	ms = append(ms, u20)
	ms = append(ms, measure(t, "Trigger, unitary, a repeat of 1", 0, calls{"GetItem": 1, "BatchGetItem": 1},
		func() { f.unitary("u1", 1) }))
	f.highThroughput("warm-ht", 1)
	ms = append(ms, measure(t, "Trigger, high-throughput, 20 recipients", 3,
		calls{"TransactWriteItems": 1, "SendMessageBatch": 1, "UpdateItem": 1},
		func() { f.highThroughput("ht20", 20) }))
	// The campaign changes (renamed: a new revision): the cached
	// revision fails Begin's check, which stored nothing, and the
	// trigger reads the campaign again.
	f.mustDo("PATCH", "/campaigns/"+f.fastID, map[string]any{"name": "Order shipped, renamed"}, 200, nil)
	ms = append(ms, measure(t, "Trigger, high-throughput, 20 recipients, the campaign changed since cached", 0,
		calls{"TransactWriteItems": 2, "GetItem": 1, "SendMessageBatch": 1, "UpdateItem": 1},
		func() { f.highThroughput("ht20-changed", 20) }))

	// Dispatch, once the queue holds one recipient's job, then twenty's.
	drain(t)
	one := f.unitary("d1", 1)
	// One transaction claims the address and the entry and starts the
	// attempt; one write records the outcome; one counter update per
	// job.
	perRecipient := calls{"GetItem": 1, "BatchGetItem": 1, "TransactWriteItems": 1, "SendEmail": 1, "PutItem": 1, "UpdateItem": 1}
	ms = append(ms, measure(t, "Dispatch, 1 recipient", 0, perRecipient, func() { drain(t) }))
	d20exec := f.unitary("d20", 20)
	// One job: the profiles and the suppression list read once for the
	// twenty.
	d20 := measure(t, "Dispatch, 20 recipients: calls per recipient, depth of the whole drain", 0,
		calls{"BatchGetItem": 2, "TransactWriteItems": 20, "SendEmail": 20, "PutItem": 20, "UpdateItem": 1}, func() { drain(t) })
	d20.per = 20
	ms = append(ms, d20)
	// Every AWS call from a 20-recipient trigger to its outcomes, per
	// recipient: at most 3.6.
	whole := measurement{name: "Unitary, 20 recipients, from the trigger to every outcome: calls per recipient",
		calls: map[string]int{}, per: 20, depth: u20.depth + d20.depth, perTarget: 3.6}
	for _, m := range []measurement{u20, d20} {
		for op, n := range m.calls {
			whole.calls[op] += n
		}
	}
	ms = append(ms, whole)
	t.Logf("items one 20-recipient execution left, by kind (DynamoDB's item size: names and values):\n%s", itemSizes(t, d20exec))

	// Management and status.
	f.mustDo("GET", "/executions/"+one, nil, 200, nil)
	ms = append(ms, measure(t, "Status, GET /executions/{id}", 0, calls{"GetItem": 1, "Query": 2},
		func() { f.mustDo("GET", "/executions/"+one, nil, 200, nil) }))
	preview := map[string]any{"profile": map[string]any{"name": "Ada"}, "context": map[string]any{"orderId": "A-1"}}
	f.mustDo("POST", "/campaigns/"+f.unitaryID+"/preview", preview, 200, nil)
	// The campaign, its version and its configuration (default locale,
	// quiet hours).
	ms = append(ms, measure(t, "Preview", 0, calls{"GetItem": 3},
		func() { f.mustDo("POST", "/campaigns/"+f.unitaryID+"/preview", preview, 200, nil) }))
	f.campaign(false)
	draft := f.draft(false)
	ms = append(ms, measure(t, "Activation", 0, calls{"GetItem": 3, "EmailIdentity": 2, "TransactWriteItems": 1},
		func() { f.mustDo("POST", "/campaigns/"+draft+"/activate", nil, 200, nil) }))

	ms = append(ms, measureAudience(t, f)...)

	t.Logf("AWS calls and round trips (depth) per operation, warm:\n%s", table(ms))
	var missed []string
	for _, m := range ms {
		if m.target > 0 && m.depth > m.target {
			missed = append(missed, fmt.Sprintf("%s: %d round trips one after another, want at most %d", m.name, m.depth, m.target))
		}
		if per := m.perRecipient(); m.perTarget > 0 && per > m.perTarget {
			missed = append(missed, fmt.Sprintf("%s: %.2f calls per recipient, want at most %.1f", m.name, per, m.perTarget))
		}
		if m.want == nil {
			continue
		}
		if diff := cmp.Diff(map[string]int(m.want), m.calls); diff != "" {
			missed = append(missed, fmt.Sprintf("%s: calls by API (-want +got):\n%s", m.name, diff))
		}
	}
	if len(missed) > 0 {
		t.Errorf("%s\n\n%s", strings.Join(missed, "\n"), table(ms))
	}
}

// calls are AWS calls by API.
type calls map[string]int

func (c calls) times(n int) calls {
	out := calls{}
	for k, v := range c {
		out[k] = v * n
	}
	return out
}

// audienceSize is the audience the marketing rows send to.
const audienceSize = 1000

// measureAudience measures a marketing trigger to an audience of 1,000
// members with profiles: the Trigger function fans the first pages out
// before its 202. What Dispatch does per member is measured above; at
// volume its calls also depend on timing (visibility extensions of slow
// batches), so the queue is left undrained.
func measureAudience(t *testing.T, f *fixture) []measurement {
	t.Helper()
	var a struct{ ID string }
	f.mustDo("POST", "/audiences", map[string]any{"name": "Players"}, 201, &a)
	var members, profiles []any
	for i := range audienceSize {
		addr := fmt.Sprintf("player%04d@example.com", i)
		members = append(members, map[string]string{"namespace": "email", "id": addr})
		profiles = append(profiles, map[string]any{"namespace": "email", "id": addr, "attributes": map[string]any{"name": fmt.Sprint("P", i)}})
	}
	f.mustDo("POST", "/audiences/"+a.ID+"/members", map[string]any{"members": members}, 200, nil)
	f.mustDo("POST", "/profiles/batch", map[string]any{"profiles": profiles}, 200, nil)
	campaignID := f.liveMarketingCampaign("Flash sale", a.ID)
	trigger := func(requestID string) {
		f.mustDo("POST", "/im/executions/audience", map[string]any{"requestId": requestID, "campaignId": campaignID,
			"context": map[string]any{"discount": 30}}, 202, nil)
	}
	// The campaign's first trigger (its campaign and version not yet
	// cached): reported, not asserted.
	tr := measure(t, "Trigger, audience of 1,000", 0, nil, func() { trigger("sale") })
	// Then everything else until every member's outcome, without the
	// proxy's delay (a thousand sends): at most 3.2 calls per member
	// from the trigger on.
	rest := record("", 0, nil, func() { drainWithin(t, 5*time.Minute) })
	whole := measurement{name: "Audience of 1,000, from the trigger to every outcome: calls per member",
		calls: map[string]int{}, per: audienceSize, perTarget: 3.2}
	for _, m := range []measurement{tr, rest} {
		for op, n := range m.calls {
			whole.calls[op] += n
		}
	}
	return []measurement{tr, whole, measureCapped(t)}
}

// cappedSize is the audience the frequency-capped row sends to.
const cappedSize = 50

// measureCapped measures a marketing audience of 50 (members of the
// audience above) with a frequency cap rule on the channel, from the
// trigger to every outcome: each member's slot is read and written with
// its claim (reported; the budgets are with capping off).
func measureCapped(t *testing.T) measurement {
	t.Helper()
	// An account of its own: Dispatch trusts a tenant's rule set it read
	// for 30 s, and the audience above read none.
	acct, err := cloud.NewAccount(context.Background(), tenant.Tenant{Org: "CAPPED@AdobeOrg", Sandbox: "prod"}, "capped."+localcloud.DemoSenderDomain)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, Account: acct}
	var members, profiles []any
	for i := range cappedSize {
		addr := fmt.Sprintf("capped%04d@example.com", i)
		members = append(members, map[string]string{"namespace": "email", "id": addr})
		profiles = append(profiles, map[string]any{"namespace": "email", "id": addr, "attributes": map[string]any{"name": fmt.Sprint("C", i)}})
	}
	f.mustDo("POST", "/profiles/batch", map[string]any{"profiles": profiles}, 200, nil)
	var a struct{ ID string }
	f.mustDo("POST", "/audiences", map[string]any{"name": "Capped players"}, 201, &a)
	f.mustDo("POST", "/audiences/"+a.ID+"/members", map[string]any{"members": members}, 200, nil)
	f.mustDo("PUT", "/frequency-caps", map[string]any{"rules": []any{
		map[string]any{"channel": "email", "limit": 5, "window": "rolling24h"}}}, 200, nil)
	campaignID := f.liveMarketingCampaign("Capped sale", a.ID)
	m := record("Audience of 50, frequency caps on, from the trigger to every outcome: calls per member", 0, nil, func() {
		f.mustDo("POST", "/im/executions/audience", map[string]any{"requestId": "capped", "campaignId": campaignID,
			"context": map[string]any{"discount": 30}}, 202, nil)
		drain(t)
	})
	m.per = cappedSize
	// Each member's counter read: the caps applied.
	if m.calls["GetItem"] < cappedSize {
		t.Errorf("%s: %d GetItem for %d members, want one counter read each at least", m.name, m.calls["GetItem"], cappedSize)
	}
	return m
}

// itemSizes reports the items of execution exec's partition by kind
// (sort-key prefix) with their sizes as DynamoDB bills them (attribute
// names and values), for the write units per message in the docs.
func itemSizes(t *testing.T, exec string) string {
	t.Helper()
	ctx := context.Background()
	db := dynamodb.NewFromConfig(cloud.AWS)
	kinds := map[string][]int{}
	var start map[string]types.AttributeValue
	for {
		out, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(cloud.Config.Table), ExclusiveStartKey: start})
		if err != nil {
			t.Fatal(err)
		}
		for _, item := range out.Items {
			pk, _ := item["pk"].(*types.AttributeValueMemberS)
			sk, _ := item["sk"].(*types.AttributeValueMemberS)
			if pk == nil || sk == nil || !strings.HasSuffix(pk.Value, "#"+exec) {
				continue
			}
			kind, _, _ := strings.Cut(sk.Value, "#")
			kinds[kind] = append(kinds[kind], itemSize(item))
		}
		if start = out.LastEvaluatedKey; len(start) == 0 {
			break
		}
	}
	var b strings.Builder
	b.WriteString("| Kind (sk) | Items | Bytes, largest |\n|---|---:|---:|\n")
	for _, k := range slices.Sorted(maps.Keys(kinds)) {
		fmt.Fprintf(&b, "| %s# | %d | %d |\n", k, len(kinds[k]), slices.Max(kinds[k]))
	}
	return b.String()
}

// itemSize is an item's size by DynamoDB's rules, near enough for units:
// each attribute's name plus its value (numbers about one byte per two
// digits plus one).
func itemSize(item map[string]types.AttributeValue) int {
	n := 0
	for name, v := range item {
		n += len(name) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return (len(strings.TrimLeft(v.Value, "-0"))+1)/2 + 1
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range v.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range v.Value {
			n += len(k) + valueSize(e) + 1
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += valueSize(e) + 1
		}
		return n
	}
	return 1
}
