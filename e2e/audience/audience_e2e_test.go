package audience_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsscheduler "github.com/aws/aws-sdk-go-v2/service/scheduler"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/infra/localcloud"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/internal/schedule"
	"github.com/heraldhq/herald/internal/sqs"
)

// clock is the local cloud's clock: the wall clock plus an offset the
// schedule tests move forward instead of sleeping.
var clock = &localcloud.Clock{}

// marketing is a fixture with a live (or scheduled) marketing campaign
// sending to an audience.
type marketing struct {
	*fixture
	audienceID string
}

// newMarketing creates a tenant with a marketing email campaign on a new
// audience; schedule is the campaign's schedule (start, end,
// deliveryRate), nil for none.
func newMarketing(t testing.TB, schedule map[string]any) *marketing {
	t.Helper()
	f := newFixture(t)
	m := &marketing{fixture: f}
	var a struct{ ID string }
	f.mustDo("POST", "/audiences", map[string]any{"name": "Players", "description": "Everyone who played this week"}, 201, &a)
	m.audienceID = a.ID
	var cfg struct{ ID string }
	f.mustDo("POST", "/channel-configurations", map[string]any{"name": "News", "channel": "email", "category": "marketing",
		"email": map[string]any{"fromName": "Games", "fromAddress": "news@" + f.Domain, "listUnsubscribeMailto": "unsubscribe@" + f.Domain}}, 201, &cfg)
	body := map[string]any{"name": "Flash sale", "type": "marketing", "channel": "email", "channelConfigurationId": cfg.ID,
		"content":  map[string]any{"email": map[string]any{"subject": "{{context.discount}}% off, {{profile.person.name.firstName}}", "text": "Hi {{profile.person.name.firstName}}"}},
		"audience": map[string]any{"namespace": "email", "audienceId": a.ID}}
	if schedule != nil {
		body["schedule"] = schedule
	}
	var c struct{ ID string }
	f.mustDo("POST", "/campaigns", body, 201, &c)
	f.mustDo("POST", "/campaigns/"+c.ID+"/activate", nil, 200, nil)
	f.campaignID = c.ID
	return m
}

func (m *marketing) address(i int) string { return fmt.Sprintf("player%05d@%s", i, m.Domain) }

// addMembers adds members 0..n-1 through the API and stores profiles for
// those profiled says, with consent "n" for those refused says.
func (m *marketing) addMembers(n int, profiled, refused func(i int) bool) {
	m.t.Helper()
	for start := 0; start < n; start += 10000 {
		var ms []map[string]string
		for i := start; i < min(start+10000, n); i++ {
			ms = append(ms, map[string]string{"namespace": "email", "id": m.address(i)})
		}
		m.mustDo("POST", "/audiences/"+m.audienceID+"/members", map[string]any{"members": ms}, 200, nil)
	}
	// Profiles are stored in batches (BatchWriteItem), as an import
	// would: a transaction per profile makes moto copy the whole table
	// each time.
	ctx := context.Background()
	var batch []profile.Profile
	flush := func() {
		for _, err := range cloud.App.Store().PutBatch(ctx, m.Tenant, batch) {
			if err != nil {
				m.t.Fatalf("store profiles: %v", err)
			}
		}
		batch = batch[:0]
	}
	for i := range n {
		if !profiled(i) {
			continue
		}
		p := profile.Profile{Namespace: "email", ID: m.address(i), Identities: map[string]string{"email": m.address(i)},
			Attributes: map[string]any{"person": map[string]any{"name": map[string]any{"firstName": fmt.Sprintf("P%d", i)}}},
			CreatedAt:  clock.Now(), UpdatedAt: clock.Now()}
		if refused(i) {
			p.Consent = map[string]string{"email": "n"}
		}
		if batch = append(batch, p); len(batch) == 1000 {
			flush()
		}
	}
	flush()
}

// sentPerAddress counts moto's sent email per destination of the domain.
func (m *marketing) sentPerAddress() map[string]int {
	m.t.Helper()
	all, err := cloud.Moto.SentEmails(context.Background())
	if err != nil {
		m.t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range all {
		for _, to := range e.Destinations.To {
			if strings.HasSuffix(to, "@"+m.Domain) {
				out[to]++
			}
		}
	}
	return out
}

func (m *marketing) status(executionID string) execution.StatusResponse {
	m.t.Helper()
	var st execution.StatusResponse
	m.mustDo("GET", "/im/executions/audience/"+executionID, nil, 200, &st)
	return st
}

// drainLong drains for up to five minutes: thousands of sends take moto
// a while, longer on a busy machine.
func drainLong(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	if err := cloud.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("drained in %s", time.Since(start).Round(time.Millisecond))
}

func all(int) bool  { return true }
func none(int) bool { return false }

func TestAnAudienceOf2500SendsToEveryConsentingProfiledMemberOnce(t *testing.T) {
	m := newMarketing(t, nil)
	// Members 0-4 have no profile; members 5-14 refused marketing email.
	m.addMembers(2500, func(i int) bool { return i >= 5 }, func(i int) bool { return i >= 5 && i < 15 })
	var a struct{ MemberCount int }
	m.mustDo("GET", "/audiences/"+m.audienceID, nil, 200, &a)
	if a.MemberCount != 2500 {
		t.Fatalf("memberCount = %d, want 2500", a.MemberCount)
	}

	var resp execution.Response
	m.mustDo("POST", "/im/executions/audience", map[string]any{"requestId": "sale-1", "campaignId": m.campaignID,
		"context": map[string]any{"discount": 30}}, 202, &resp)
	drainLong(t)

	sent := m.sentPerAddress()
	if len(sent) != 2485 {
		t.Errorf("%d addresses got email, want 2485", len(sent))
	}
	for addr, n := range sent {
		if n != 1 {
			t.Errorf("%s got %d messages", addr, n)
		}
	}
	for i := range 15 {
		if sent[m.address(i)] != 0 {
			t.Errorf("member %d (no profile or no consent) was sent to", i)
		}
	}
	st := m.status(resp.ExecutionID)
	want := execution.StatusResponse{ExecutionID: resp.ExecutionID, CampaignID: m.campaignID, AudienceID: m.audienceID,
		Status: execution.StatusSucceeded, TargetedProfileCount: 2500, CreatedAt: st.CreatedAt,
		Counts: map[string]int64{"sent": 2485, "excluded:no_consent": 10, "excluded:no_profile": 5}}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}

	// The same request again sends nothing more and answers the same.
	var again execution.Response
	m.mustDo("POST", "/im/executions/audience", map[string]any{"requestId": "sale-1", "campaignId": m.campaignID,
		"context": map[string]any{"discount": 30}}, 202, &again)
	drain(t)
	if again.ExecutionID != resp.ExecutionID {
		t.Errorf("replay executionId = %s, want %s", again.ExecutionID, resp.ExecutionID)
	}
	if n := len(m.sentPerAddress()); n != 2485 {
		t.Errorf("after the replay %d addresses got email, want 2485", n)
	}
}

// recordingQueue records every recipient it is asked to enqueue, and can
// crash (fail) on its nth call, as a fan-out killed mid-way.
type recordingQueue struct {
	inner   execution.Queue
	mu      sync.Mutex
	calls   int
	crashOn int
	got     map[string]int
}

func (q *recordingQueue) Enqueue(ctx context.Context, jobs []delivery.Job) error {
	q.mu.Lock()
	q.calls++
	crash := q.calls == q.crashOn
	q.mu.Unlock()
	if crash {
		return fmt.Errorf("killed")
	}
	if err := q.inner.Enqueue(ctx, jobs); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, j := range jobs {
		for _, r := range j.Recipients {
			q.got[r.UserID]++
		}
	}
	return nil
}

func TestAFanOutKilledAfterItsFirstPageResumesWithoutSendingTwice(t *testing.T) {
	m := newMarketing(t, nil)
	m.addMembers(300, all, none)
	ctx := context.Background()
	q := &recordingQueue{inner: sqs.New(awssqs.NewFromConfig(cloud.AWS), cloud.Config.DispatchQueueURL), crashOn: 2, got: map[string]int{}}
	aud := cloud.App.AudienceExecutions()
	aud.Queue, aud.PageSize = q, 100
	req := execution.AudienceRequest{RequestID: "crash-1", CampaignID: m.campaignID, Context: render.MustParseObject(`{"discount":10}`)}
	if _, err := aud.Start(ctx, m.Tenant, m.KeyID, req); err == nil {
		t.Fatal("the killed fan-out reported success")
	}
	if len(q.got) != 100 {
		t.Fatalf("before the crash %d members were enqueued, want the first page of 100", len(q.got))
	}

	// The replay (a client retrying) finds the execution's lease still
	// held by the dead fan-out until it expires.
	clock.Advance(execution.LeaseDuration + time.Second)
	q.crashOn = 0
	aud.Now = clock.Now
	if _, err := aud.Start(ctx, m.Tenant, m.KeyID, req); err != nil {
		t.Fatal(err)
	}
	drain(t)
	if len(q.got) != 300 {
		t.Errorf("%d members enqueued in all, want 300", len(q.got))
	}
	for id, n := range q.got {
		if n != 1 {
			t.Errorf("%s enqueued %d times", id, n)
		}
	}
	sent := m.sentPerAddress()
	if len(sent) != 300 {
		t.Errorf("%d members got email, want 300", len(sent))
	}
	for addr, n := range sent {
		if n != 1 {
			t.Errorf("%s got %d messages", addr, n)
		}
	}
}

func fire(t *testing.T) []string {
	t.Helper()
	fired, err := cloud.FireDueSchedules(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range fired {
		if f.Err != nil {
			t.Errorf("schedule %s failed: %v", f.Name, f.Err)
		}
		names = append(names, f.Name)
	}
	return names
}

func scheduleExists(t *testing.T, name string) bool {
	t.Helper()
	_, err := awsscheduler.NewFromConfig(cloud.AWS).GetSchedule(context.Background(), &awsscheduler.GetScheduleInput{
		GroupName: aws.String(cloud.Config.Scheduler.Group), Name: aws.String(name)})
	return err == nil
}

func TestAScheduledExecutionFiresOnceAtItsTime(t *testing.T) {
	m := newMarketing(t, nil)
	m.addMembers(20, all, none)
	at := clock.Now().Add(time.Hour).Truncate(time.Second)
	var sr execution.ScheduledResponse
	m.mustDo("POST", "/im/executions/audience", map[string]any{"requestId": "later-1", "campaignId": m.campaignID,
		"context": map[string]any{"discount": 5}, "schedule": map[string]any{"executeAt": at.Format(time.RFC3339)}}, 202, &sr)
	if sr.ScheduleStatus != execution.ScheduleScheduled || sr.ScheduleID == "" {
		t.Fatalf("response %+v, want a Scheduled schedule", sr)
	}
	name := schedule.Name(m.Tenant, "x", sr.ScheduleID)
	if !scheduleExists(t, name) {
		t.Fatalf("no schedule %s in moto", name)
	}
	fire(t)
	drain(t)
	if n := len(m.sentPerAddress()); n != 0 {
		t.Fatalf("%d sent before the schedule's time", n)
	}
	var got execution.ScheduledResponse
	m.mustDo("GET", "/im/executions/schedules/"+sr.ScheduleID, nil, 200, &got)
	if got.ScheduleStatus != execution.ScheduleScheduled {
		t.Errorf("before its time the schedule is %s", got.ScheduleStatus)
	}

	clock.Advance(time.Hour + time.Second)
	if names := fire(t); !containsName(names, name) {
		t.Fatalf("fired %v; want %s", names, name)
	}
	drain(t)
	if scheduleExists(t, name) {
		t.Error("the one-time schedule was not deleted after it fired")
	}
	clock.Advance(time.Hour)
	fire(t)
	drain(t)
	sent := m.sentPerAddress()
	if len(sent) != 20 {
		t.Errorf("%d members got email, want 20", len(sent))
	}
	for addr, n := range sent {
		if n != 1 {
			t.Errorf("%s got %d messages", addr, n)
		}
	}
	m.mustDo("GET", "/im/executions/schedules/"+sr.ScheduleID, nil, 200, &got)
	if got.ScheduleStatus != execution.ScheduleTriggered || got.ExecutionDetails == nil || got.ExecutionDetails.Status != execution.StatusSucceeded {
		t.Errorf("after firing: %+v, want Triggered with a Succeeded execution", got)
	}
	status, body := do(t, "DELETE", "/im/executions/schedules/"+sr.ScheduleID, m.Headers(), nil)
	checkErrorShape(t, body, 409)
	if status != 409 {
		t.Errorf("DELETE after firing = %d, want 409", status)
	}
}

func containsName(names []string, name string) bool {
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

func TestADeletedScheduleNeverFires(t *testing.T) {
	m := newMarketing(t, nil)
	m.addMembers(10, all, none)
	at := clock.Now().Add(30 * time.Minute)
	var sr execution.ScheduledResponse
	m.mustDo("POST", "/im/executions/audience", map[string]any{"campaignId": m.campaignID,
		"schedule": map[string]any{"executeAt": at.Format(time.RFC3339Nano)}}, 202, &sr)
	m.mustDo("DELETE", "/im/executions/schedules/"+sr.ScheduleID, nil, 200, nil)
	if scheduleExists(t, schedule.Name(m.Tenant, "x", sr.ScheduleID)) {
		t.Error("the schedule is still in EventBridge Scheduler")
	}
	clock.Advance(time.Hour)
	fire(t)
	drain(t)
	if n := len(m.sentPerAddress()); n != 0 {
		t.Errorf("%d sent after the schedule was deleted", n)
	}
	status, _ := do(t, "GET", "/im/executions/schedules/"+sr.ScheduleID, m.Headers(), nil)
	if status != 404 {
		t.Errorf("GET of a deleted schedule = %d, want 404", status)
	}
}

func TestAScheduleDeliveredTwiceSendsOnce(t *testing.T) {
	m := newMarketing(t, nil)
	m.addMembers(15, all, none)
	var sr execution.ScheduledResponse
	m.mustDo("POST", "/im/executions/audience", map[string]any{"campaignId": m.campaignID,
		"schedule": map[string]any{"executeAt": clock.Now().Add(time.Minute).Format(time.RFC3339Nano)}}, 202, &sr)
	s, err := awsscheduler.NewFromConfig(cloud.AWS).GetSchedule(context.Background(), &awsscheduler.GetScheduleInput{
		GroupName: aws.String(cloud.Config.Scheduler.Group), Name: aws.String(schedule.Name(m.Tenant, "x", sr.ScheduleID))})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Minute)
	h := cloud.Handlers.Events["SchedulerFunction"]
	var wg sync.WaitGroup
	for range 2 { // Scheduler's at-least-once delivery, concurrently
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := h(context.Background(), json.RawMessage(aws.ToString(s.Target.Input))); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if _, err := h(context.Background(), json.RawMessage(aws.ToString(s.Target.Input))); err != nil { // and once more, later
		t.Fatal(err)
	}
	drain(t)
	sent := m.sentPerAddress()
	if len(sent) != 15 {
		t.Errorf("%d members got email, want 15", len(sent))
	}
	for addr, n := range sent {
		if n != 1 {
			t.Errorf("%s got %d messages", addr, n)
		}
	}
}

func TestCampaignStartAndEndHappenBySchedule(t *testing.T) {
	start := clock.Now().Add(time.Hour).Truncate(time.Second)
	end := start.Add(time.Hour)
	m := newMarketing(t, map[string]any{"start": start.Format(time.RFC3339), "end": end.Format(time.RFC3339)})
	m.addMembers(3, all, none)
	campaignStatus := func() string {
		var c struct{ Status string }
		m.mustDo("GET", "/campaigns/"+m.campaignID, nil, 200, &c)
		return c.Status
	}
	trigger := func(id string) (int, []byte) {
		return do(t, "POST", "/im/executions/audience", m.Headers(), map[string]any{"requestId": id, "campaignId": m.campaignID})
	}
	if s := campaignStatus(); s != "scheduled" {
		t.Fatalf("after activation the campaign is %s, want scheduled", s)
	}
	status, body := trigger("early")
	if status != 409 || !strings.Contains(string(body), start.UTC().Format(time.RFC3339)) {
		t.Errorf("a trigger before the start = %d %s, want 409 naming the window", status, body)
	}
	checkErrorShape(t, body, 409)

	clock.Advance(time.Hour + time.Second)
	fire(t)
	if s := campaignStatus(); s != "live" {
		t.Errorf("after the start schedule the campaign is %s, want live", s)
	}
	if status, body := trigger("inside"); status != 202 {
		t.Errorf("a trigger inside the window = %d %s, want 202", status, body)
	}
	drain(t)
	if n := len(m.sentPerAddress()); n != 3 {
		t.Errorf("%d sent inside the window, want 3", n)
	}

	clock.Advance(time.Hour)
	fire(t)
	if s := campaignStatus(); s != "completed" {
		t.Errorf("after the end schedule the campaign is %s, want completed", s)
	}
	if status, body := trigger("late"); status != 409 {
		t.Errorf("a trigger after the end = %d %s, want 409", status, body)
	}
	refs, err := cloud.App.Store().ScheduleRefs(context.Background(), m.Tenant, m.campaignID)
	if err != nil || len(refs) != 0 {
		t.Errorf("pending schedules after the end: %v %v", refs, err)
	}
}

func TestATransactionalCampaignCannotBeSentToAnAudience(t *testing.T) {
	f := newFixture(t)
	var cfg, c struct{ ID string }
	f.mustDo("POST", "/channel-configurations", map[string]any{"name": "Orders", "channel": "email", "category": "transactional",
		"email": map[string]any{"fromName": "Shop", "fromAddress": "orders@" + f.Domain}}, 201, &cfg)
	f.mustDo("POST", "/campaigns", map[string]any{"name": "Receipt", "type": "transactional", "channel": "email", "channelConfigurationId": cfg.ID,
		"content": map[string]any{"email": map[string]any{"subject": "Receipt", "text": "Thanks"}}}, 201, &c)
	f.mustDo("POST", "/campaigns/"+c.ID+"/activate", nil, 200, nil)
	status, body := do(t, "POST", "/im/executions/audience", f.Headers(), map[string]any{"campaignId": c.ID, "audience": map[string]any{"id": "x"}})
	checkErrorShape(t, body, 409)
	if status != 409 || !strings.Contains(string(body), "transactional") {
		t.Errorf("= %d %s, want 409 explaining the campaign is transactional", status, body)
	}
}

// An audience execution's context travels from the call to every member's
// message in the call's member order — through the stored execution, the
// fan-out's jobs and Dispatch — so #each over one of its objects iterates
// as Handlebars does, not in sorted order (issue 17's target 6).
func TestAnAudienceContextsObjectsIterateInTheCallsOrder(t *testing.T) {
	m := newMarketing(t, nil)
	var c struct{ ID string }
	var cfg struct{ Items []struct{ ID string } }
	m.mustDo("GET", "/channel-configurations", nil, 200, &cfg)
	m.mustDo("POST", "/campaigns", map[string]any{"name": "Sizes", "type": "marketing", "channel": "email", "channelConfigurationId": cfg.Items[0].ID,
		"content":  map[string]any{"email": map[string]any{"subject": "Sizes", "text": "{{#each context.sizes}}{{@key}}={{this}};{{/each}}"}},
		"audience": map[string]any{"namespace": "email", "audienceId": m.audienceID}}, 201, &c)
	m.mustDo("POST", "/campaigns/"+c.ID+"/activate", nil, 200, nil)
	m.addMembers(1, all, none)
	// A raw body: a map would be marshalled in sorted order.
	body := `{"requestId":"sizes-1","campaignId":"` + c.ID + `","context":{"sizes":{"zebra":1,"apple":2,"mango":{"x":1}}}}`
	m.mustDo("POST", "/im/executions/audience", body, 202, nil)
	drain(t)
	all, err := cloud.Moto.SentEmails(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range all {
		if len(e.Destinations.To) == 1 && e.Destinations.To[0] == m.address(0) {
			got = append(got, e.Body)
		}
	}
	if len(got) != 1 || !strings.Contains(got[0], "zebra=1;apple=2;mango=[object Object];") {
		t.Errorf("moto received %q for the member; want one message iterating zebra, apple, mango in the call's order", got)
	}
}
