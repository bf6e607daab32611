// Package quiet_test checks quiet hours end to end on simulated time:
// Herald runs as `make run` does (moto, the gateway, every function, the
// local cloud firing due schedules), a channel configuration holds SMS back
// at night in the recipient's zone, and what moto really received is read
// before and after the window ends.
package quiet_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/heraldhq/herald/infra/contract"
	"github.com/heraldhq/herald/infra/localcloud"
	"github.com/heraldhq/herald/internal/tenant"
)

var (
	cloud *localcloud.Cloud
	// clock is the cloud's clock: the tests move it past the end of a
	// window instead of waiting for it.
	clock = &localcloud.Clock{}
)

func TestMain(m *testing.M) {
	os.Exit(localcloud.RunSuite(m, &cloud, localcloud.Options{Timing: &localcloud.FastTiming, Contract: contract.MustLoad(),
		Now: clock.Now, Log: localcloud.TestLog()}))
}

// fixture is one tenant with a live SMS campaign whose configuration has
// quiet hours from an hour ago to about an hour from now in New York.
type fixture struct {
	t        *testing.T
	acct     localcloud.Account
	campaign string
	phone    string
}

func newFixture(t *testing.T, org, action string) *fixture {
	t.Helper()
	ctx := context.Background()
	acct, err := cloud.NewAccount(ctx, tenant.Tenant{Org: org, Sandbox: "prod"}, "quiet."+localcloud.DemoSenderDomain)
	if err != nil {
		t.Fatal(err)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	local := clock.Now().In(ny)
	quiet := map[string]any{"start": local.Add(-time.Hour).Format("15:04"), "end": local.Add(time.Hour).Format("15:04"),
		"timeZone": "America/New_York", "action": action, "transactional": true}
	var cfg, camp struct{ ID string }
	cloud.MustExpect(t, acct, "POST", "/channel-configurations", map[string]any{"name": "Codes", "channel": "sms", "category": "transactional",
		"sms": map[string]any{}, "quietHours": quiet}, 201, &cfg)
	cloud.MustExpect(t, acct, "POST", "/campaigns", map[string]any{"name": "Code", "type": "transactional", "channel": "sms",
		"channelConfigurationId": cfg.ID, "audience": map[string]any{"namespace": "crmId"},
		"content": map[string]any{"sms": map[string]any{"body": "Your code is {{context.code}}"}}}, 201, &camp)
	cloud.MustExpect(t, acct, "POST", "/campaigns/"+camp.ID+"/activate", nil, 200, nil)
	return &fixture{t: t, acct: acct, campaign: camp.ID, phone: fmt.Sprintf("+1202%07d", time.Now().UnixNano()%10_000_000/10*10+1)}
}

// trigger sends the campaign to the fixture's number and returns the
// execution id.
func (f *fixture) trigger(requestID string) string {
	f.t.Helper()
	var accepted struct{ ExecutionID string }
	cloud.MustExpect(f.t, f.acct, "POST", "/im/executions/unitary", map[string]any{"requestId": requestID, "campaignId": f.campaign,
		"recipients": []any{map[string]any{"type": "external", "namespace": "crmId", "userId": "u1",
			"channelData": map[string]any{"mobilePhoneNumber": f.phone}, "context": map[string]any{"code": "4711"}}}}, 202, &accepted)
	drain(f.t)
	return accepted.ExecutionID
}

// received is what moto recorded for the fixture's number.
func (f *fixture) received() []string {
	f.t.Helper()
	all, err := cloud.Moto.SentSMS(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, m := range all {
		if m.PhoneNumber == f.phone {
			out = append(out, m.Message)
		}
	}
	return out
}

type status struct {
	Status   string
	Pending  int64
	Deferred int64
	Outcomes map[string]int64
}

func (f *fixture) status(id string) status {
	f.t.Helper()
	var st status
	cloud.MustExpect(f.t, f.acct, "GET", "/executions/"+id, nil, 200, &st)
	return st
}

func drain(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := cloud.Drain(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestAnSMSInsideQuietHoursLeavesOnceWhenTheWindowEnds(t *testing.T) {
	f := newFixture(t, "QUIET1@AdobeOrg", "defer")
	var preview struct {
		QuietHours struct {
			TimeZone, ZoneFrom string
			Quiet, WouldDefer  bool
			EndsAt             time.Time
		}
	}
	cloud.MustExpect(t, f.acct, "POST", "/campaigns/"+f.campaign+"/preview", map[string]any{"context": map[string]any{"code": "1"}}, 200, &preview)
	q := preview.QuietHours
	if !q.Quiet || !q.WouldDefer || q.TimeZone != "America/New_York" || q.ZoneFrom != "configuration" || !q.EndsAt.After(clock.Now().Add(50*time.Minute)) {
		t.Fatalf("preview quietHours = %+v; want deferred now in America/New_York until about an hour from now", q)
	}

	id := f.trigger("quiet-1")
	if got := f.received(); len(got) != 0 {
		t.Fatalf("moto received %q inside quiet hours", got)
	}
	if st := f.status(id); st.Status != "InProgress" || st.Pending != 1 || st.Deferred != 1 {
		t.Errorf("status inside quiet hours = %+v; want InProgress, 1 pending, 1 deferred", st)
	}
	// Schedules fire at the cloud's clock: nothing is due yet.
	if _, err := cloud.FireDueSchedules(context.Background()); err != nil {
		t.Fatal(err)
	}
	drain(t)
	if got := f.received(); len(got) != 0 {
		t.Fatalf("moto received %q before the window ended", got)
	}

	clock.Advance(q.EndsAt.Sub(clock.Now()) + time.Second)
	fired, err := cloud.FireDueSchedules(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(fired) == 0 {
		t.Fatal("no schedule fired at the end of the window")
	}
	drain(t)
	// A second pass (a firing repeated, the queue drained again) sends
	// nothing more.
	if _, err := cloud.FireDueSchedules(context.Background()); err != nil {
		t.Fatal(err)
	}
	drain(t)
	if got := f.received(); len(got) != 1 || got[0] != "Your code is 4711" {
		t.Errorf("moto received %q after the window; want exactly one message", got)
	}
	if st := f.status(id); st.Status != "Completed" || st.Pending != 0 || st.Deferred != 0 || st.Outcomes["sent"] != 1 {
		t.Errorf("status after the window = %+v; want Completed, sent 1", st)
	}
}

func TestAnSMSInsideQuietHoursThatDropIsExcluded(t *testing.T) {
	f := newFixture(t, "QUIET2@AdobeOrg", "drop")
	id := f.trigger("quiet-2")
	if got := f.received(); len(got) != 0 {
		t.Errorf("moto received %q; want nothing", got)
	}
	if st := f.status(id); st.Status != "Completed" || st.Outcomes["excluded:quiet_hours"] != 1 {
		t.Errorf("status = %+v; want Completed with excluded:quiet_hours 1", st)
	}
	var report struct{ Excluded map[string]int64 }
	cloud.MustExpect(t, f.acct, "GET", "/executions/"+id+"/report", nil, 200, &report)
	if report.Excluded["quiet_hours"] != 1 {
		t.Errorf("execution report excluded = %v; want quiet_hours 1", report.Excluded)
	}
}

func TestQuietHoursWithAnUnknownZoneAreRefused(t *testing.T) {
	acct, err := cloud.NewAccount(context.Background(), tenant.Tenant{Org: "QUIET3@AdobeOrg", Sandbox: "prod"}, "quiet3."+localcloud.DemoSenderDomain)
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Status int
		Errors []struct{ Field, Message string }
	}
	cloud.MustExpect(t, acct, "POST", "/channel-configurations", map[string]any{"name": "Codes", "channel": "sms", "category": "marketing",
		"sms": map[string]any{}, "quietHours": map[string]any{"start": "21:00", "end": "08:00", "timeZone": "Europe/Atlantis"}}, 400, &body)
	if body.Status != 400 || len(body.Errors) != 1 || body.Errors[0].Field != "quietHours.timeZone" {
		t.Errorf("error = %+v; want a 400 naming quietHours.timeZone", body)
	}
}

// A paced audience execution whose members are all inside a 14-hour
// window: they wait past the execution's 12-hour rate window and are
// then all sent, none excluded:rate_window_exceeded.
func TestAudienceMembersDeferredPastTheTwelveHourWindowAreAllSent(t *testing.T) {
	ctx := context.Background()
	acct, err := cloud.NewAccount(ctx, tenant.Tenant{Org: "QUIET4@AdobeOrg", Sandbox: "prod"}, "quiet4."+localcloud.DemoSenderDomain)
	if err != nil {
		t.Fatal(err)
	}
	ny, _ := time.LoadLocation("America/New_York")
	local := clock.Now().In(ny)
	var aud, cfg, camp struct{ ID string }
	cloud.MustExpect(t, acct, "POST", "/audiences", map[string]any{"name": "Night owls", "description": "members in New York"}, 201, &aud)
	cloud.MustExpect(t, acct, "POST", "/channel-configurations", map[string]any{"name": "News", "channel": "sms", "category": "marketing",
		"sms": map[string]any{}, "quietHours": map[string]any{"start": local.Add(-time.Hour).Format("15:04"), "end": local.Add(13 * time.Hour).Format("15:04"),
			"timeZone": "UTC"}}, 201, &cfg)
	cloud.MustExpect(t, acct, "POST", "/campaigns", map[string]any{"name": "Sale", "type": "marketing", "channel": "sms",
		"channelConfigurationId": cfg.ID, "audience": map[string]any{"namespace": "crmId", "audienceId": aud.ID},
		"schedule": map[string]any{"deliveryRate": 2},
		"content":  map[string]any{"sms": map[string]any{"body": "Sale: {{context.discount}}% off"}}}, 201, &camp)
	cloud.MustExpect(t, acct, "POST", "/campaigns/"+camp.ID+"/activate", nil, 200, nil)
	base := time.Now().UnixNano() % 1_000_000 * 10
	phones := map[string]bool{}
	var members []any
	for i := range 3 {
		id, phone := fmt.Sprintf("m%d", i), fmt.Sprintf("+1303%07d", base+int64(i)+1)
		phones[phone] = true
		members = append(members, map[string]any{"namespace": "crmId", "id": id})
		// The profile's zone wins over the configuration's UTC.
		cloud.MustExpect(t, acct, "PUT", "/profiles/crmId/"+id, map[string]any{"timeZone": "America/New_York",
			"attributes": map[string]any{"phone": phone}, "consent": map[string]any{"sms": "y"}}, 200, nil)
	}
	cloud.MustExpect(t, acct, "POST", "/audiences/"+aud.ID+"/members", map[string]any{"members": members}, 200, nil)

	var accepted struct{ ExecutionID string }
	cloud.MustExpect(t, acct, "POST", "/im/executions/audience", map[string]any{"requestId": "owls-1", "campaignId": camp.ID,
		"context": map[string]any{"discount": 30}}, 202, &accepted)
	drain(t)
	received := func() int {
		all, err := cloud.Moto.SentSMS(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, m := range all {
			if phones[m.PhoneNumber] {
				n++
			}
		}
		return n
	}
	if n := received(); n != 0 {
		t.Fatalf("moto received %d SMS inside quiet hours", n)
	}
	var st status
	cloud.MustExpect(t, acct, "GET", "/executions/"+accepted.ExecutionID, nil, 200, &st)
	if st.Pending != 3 || st.Deferred != 3 {
		t.Errorf("status inside quiet hours = %+v; want 3 pending, 3 deferred", st)
	}

	clock.Advance(14 * time.Hour)
	if _, err := cloud.FireDueSchedules(ctx); err != nil {
		t.Fatal(err)
	}
	drain(t)
	if n := received(); n != 3 {
		t.Errorf("moto received %d SMS after the window; want 3, one each", n)
	}
	var ajo struct {
		Status string
		Counts map[string]int64
	}
	cloud.MustExpect(t, acct, "GET", "/im/executions/audience/"+accepted.ExecutionID, nil, 200, &ajo)
	if ajo.Status != "Succeeded" || ajo.Counts["sent"] != 3 || ajo.Counts["excluded:rate_window_exceeded"] != 0 {
		t.Errorf("AJO status after the window = %+v; want Succeeded, 3 sent, none past the rate window", ajo)
	}
}
