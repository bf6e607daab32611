// Package capping_test checks frequency caps end to end: Herald runs as
// `make run` does (moto, the gateway, every function), a tenant caps
// marketing email, 20 audience executions of one campaign to the same
// profiles are dispatched at once by several Dispatch invocations, and
// what moto's SES really received and what the ledger recorded are read
// back.
package capping_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/infra/contract"
	"github.com/heraldhq/herald/infra/localcloud"
	"github.com/heraldhq/herald/internal/tenant"
)

var cloud *localcloud.Cloud

// roomyTiming leaves a shared two-core machine room for 20 executions'
// sends through one moto: nothing here should be ambiguous.
var roomyTiming = localcloud.Timing{DispatchTimeout: 20 * time.Second, SendTimeout: 2 * time.Second, StaleAttempt: 25 * time.Second,
	RetryFirst: time.Second, RetryMax: 5 * time.Second, RetryDeadline: time.Minute,
	Visibility: 45 * time.Second, MaxReceiveCount: 40, Env: localcloud.FastTiming.Env}

func TestMain(m *testing.M) {
	os.Exit(localcloud.RunSuite(m, &cloud, localcloud.Options{Timing: &roomyTiming, Contract: contract.MustLoad(),
		Log: localcloud.TestLog(), NoSESEvents: true}))
}

const (
	executions = 20
	members    = 6
	limit      = 2
)

// The test: a tenant allows 2 marketing emails per profile per
// rolling 24 hours; 20 executions of a marketing campaign to the same 6
// profiles run at once. Each profile receives exactly 2 emails (moto's
// SES says so), every other recipient is recorded excluded:frequency_cap,
// the reports count them, and preview says the profiles are capped.
// Then an exempt campaign and a transactional one still reach them.
func TestFrequencyCapsUnder20ConcurrentExecutionsAreNeverExceeded(t *testing.T) {
	ctx := context.Background()
	acct, err := cloud.NewAccount(ctx, tenant.Tenant{Org: "CAP1@AdobeOrg", Sandbox: "prod"}, "cap1."+localcloud.DemoSenderDomain)
	if err != nil {
		t.Fatal(err)
	}
	expect := func(method, path string, body any, want int, out any) {
		t.Helper()
		cloud.MustExpect(t, acct, method, path, body, want, out)
	}
	expect("PUT", "/frequency-caps", map[string]any{"rules": []any{
		map[string]any{"channel": "email", "limit": limit, "window": "rolling24h"},
		map[string]any{"channel": "email", "limit": 10, "window": "calendarMonth"},
	}}, 200, nil)

	var aud, cfg, promo struct{ ID string }
	expect("POST", "/audiences", map[string]any{"name": "Players"}, 201, &aud)
	addrs := make([]string, members)
	var ms []map[string]string
	for i := range addrs {
		addrs[i] = fmt.Sprintf("player%d@%s", i, acct.Domain)
		ms = append(ms, map[string]string{"namespace": "email", "id": addrs[i]})
		expect("PUT", "/profiles/email/"+addrs[i], map[string]any{"attributes": map[string]any{"firstName": fmt.Sprintf("P%d", i)}}, 200, nil)
	}
	expect("POST", "/audiences/"+aud.ID+"/members", map[string]any{"members": ms}, 200, nil)
	expect("POST", "/channel-configurations", map[string]any{"name": "News", "channel": "email", "category": "marketing",
		"email": map[string]any{"fromName": "Games", "fromAddress": "news@" + acct.Domain, "listUnsubscribeMailto": "unsubscribe@" + acct.Domain}}, 201, &cfg)
	campaign := func(name string, exempt bool) string {
		var c struct{ ID string }
		expect("POST", "/campaigns", map[string]any{"name": name, "type": "marketing", "channel": "email", "channelConfigurationId": cfg.ID,
			"frequencyCapExempt": exempt,
			"content":            map[string]any{"email": map[string]any{"subject": name + " for {{profile.firstName}}", "text": "Hi"}},
			"audience":           map[string]any{"namespace": "email", "audienceId": aud.ID}}, 201, &c)
		expect("POST", "/campaigns/"+c.ID+"/activate", nil, 200, nil)
		return c.ID
	}
	promo.ID = campaign("Flash sale", false)

	// 20 executions accepted at once.
	ids := make([]string, executions)
	var wg sync.WaitGroup
	errs := make([]error, executions)
	for i := range executions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out struct{ ExecutionID string }
			errs[i] = cloud.Expect(acct, "POST", "/im/executions/audience", map[string]any{"requestId": fmt.Sprintf("cap-%d", i),
				"campaignId": promo.ID, "context": map[string]any{"n": i}}, 202, &out)
			ids[i] = out.ExecutionID
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	dispatchConcurrently(t, 4)

	got := sentPerAddress(t, acct.Domain, "Flash sale")
	for _, a := range addrs {
		if got[a] != limit {
			t.Errorf("%s received %d emails, want %d", a, got[a], limit)
		}
	}
	// Every recipient has one outcome: sent, or excluded:frequency_cap.
	outcomes := map[string]int{}
	excluded := 0
	for _, id := range ids {
		var page struct {
			Recipients []struct{ UserID, Outcome string }
		}
		expect("GET", "/executions/"+id+"/recipients", nil, 200, &page)
		for _, r := range page.Recipients {
			outcomes[r.Outcome]++
		}
		var rep struct{ Excluded map[string]int }
		expect("GET", "/executions/"+id+"/report", nil, 200, &rep)
		excluded += rep.Excluded["frequency_cap"]
	}
	want := map[string]int{"sent": members * limit, "excluded:frequency_cap": members * (executions - limit)}
	if diff := cmp.Diff(want, outcomes); diff != "" {
		t.Errorf("the ledger's outcomes over the 20 executions (-want +got):\n%s", diff)
	}
	if excluded != members*(executions-limit) {
		t.Errorf("the execution reports count %d excluded for frequency_cap, want %d", excluded, members*(executions-limit))
	}
	var rep struct {
		Sent     int
		Excluded map[string]int
	}
	expect("GET", "/campaigns/"+promo.ID+"/report", nil, 200, &rep)
	if rep.Sent != members*limit || rep.Excluded["frequency_cap"] != members*(executions-limit) {
		t.Errorf("the campaign report counts sent %d and excluded %v, want %d sent and %d frequency_cap", rep.Sent, rep.Excluded,
			members*limit, members*(executions-limit))
	}

	var preview struct {
		FrequencyCap struct {
			Applies, Capped bool
			Rules           []struct {
				Window string
				Count  int
				Full   bool
			}
		}
	}
	expect("POST", "/campaigns/"+promo.ID+"/preview", map[string]any{"userId": addrs[0], "namespace": "email"}, 200, &preview)
	if fc := preview.FrequencyCap; !fc.Applies || !fc.Capped || len(fc.Rules) != 2 || fc.Rules[0].Count != limit || !fc.Rules[0].Full || fc.Rules[1].Full {
		t.Errorf("preview's frequencyCap = %+v, want capped by the 24-hour rule at %d", fc, limit)
	}

	// An exempt marketing campaign reaches everyone, capped or not, and
	// counts nothing.
	exempt := campaign("Recall notice", true)
	var out struct{ ExecutionID string }
	expect("POST", "/im/executions/audience", map[string]any{"requestId": "exempt-1", "campaignId": exempt}, 202, &out)
	dispatchConcurrently(t, 1)
	if got := sentPerAddress(t, acct.Domain, "Recall notice"); len(got) != members {
		t.Errorf("the exempt campaign reached %d of %d profiles: %v", len(got), members, got)
	}

	// A transactional campaign is never capped.
	var tcfg, receipt struct{ ID string }
	expect("POST", "/channel-configurations", map[string]any{"name": "Orders", "channel": "email", "category": "transactional",
		"email": map[string]any{"fromName": "Games", "fromAddress": "orders@" + acct.Domain}}, 201, &tcfg)
	expect("POST", "/campaigns", map[string]any{"name": "Receipt", "type": "transactional", "channel": "email", "channelConfigurationId": tcfg.ID,
		"content": map[string]any{"email": map[string]any{"subject": "Receipt", "text": "Thanks"}}, "audience": map[string]any{"namespace": "email"}}, 201, &receipt)
	expect("POST", "/campaigns/"+receipt.ID+"/activate", nil, 200, nil)
	expect("POST", "/im/executions/unitary", map[string]any{"requestId": "receipt-1", "campaignId": receipt.ID, "recipients": []any{
		map[string]any{"type": "aep", "namespace": "email", "userId": addrs[0]}}}, 202, nil)
	dispatchConcurrently(t, 1)
	if got := sentPerAddress(t, acct.Domain, "Receipt"); got[addrs[0]] != 1 {
		t.Errorf("the transactional receipt reached %s %d times, want 1", addrs[0], got[addrs[0]])
	}
}

// dispatchConcurrently drains every queue while n more Dispatch
// invocations poll the dispatch queue alongside (Lambda's concurrency):
// jobs of different executions are delivered at the same time.
func dispatchConcurrently(t *testing.T, n int) {
	t.Helper()
	var dispatch *localcloud.Poller
	for _, p := range cloud.Pollers {
		if p.Function == localcloud.DispatchFunctionID {
			dispatch = p
		}
	}
	if dispatch == nil {
		t.Fatal("no Dispatch poller")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := dispatch.Poll(ctx, 1); err != nil && ctx.Err() != nil {
					return
				}
			}
		}()
	}
	err := cloud.Drain(ctx)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	// A poller may have taken the last messages as Drain looked: once
	// they are all stopped, what is left is drained alone.
	if err := cloud.Drain(ctx); err != nil {
		t.Fatal(err)
	}
}

// sentPerAddress counts the emails moto's SES received per destination
// of domain whose subject starts with prefix.
func sentPerAddress(t *testing.T, domain, prefix string) map[string]int {
	t.Helper()
	all, err := cloud.Moto.SentEmails(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range all {
		if !strings.HasPrefix(e.Subject, prefix) {
			continue
		}
		for _, to := range e.Destinations.To {
			if strings.HasSuffix(to, "@"+domain) {
				out[to]++
			}
		}
	}
	return out
}
