package delivery_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/schedule"
)

// quietFixture is an SMS campaign of type typ whose configuration has
// quiet hours q, a simulated calendar and a memory queue for deferred
// jobs.
type quietFixture struct {
	*channelFixture
	queue *memory.Queue
	mu    sync.Mutex
	now   time.Time
}

func newQuietFixture(t *testing.T, typ campaign.Type, q campaign.QuietHours, now time.Time) *quietFixture {
	t.Helper()
	cfg := campaign.ChannelConfig{Channel: campaign.SMS, SMS: &campaign.SMSSettings{}, QuietHours: &q}
	f := &quietFixture{channelFixture: newChannelFixture(t, typ, cfg, campaign.Content{SMS: &campaign.SMSContent{Body: "Flash sale"}}),
		queue: &memory.Queue{}, now: now}
	f.d.Calendar, f.d.Requeue = f.clock, f.queue
	return f
}

func (f *quietFixture) clock() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }
func (f *quietFixture) set(t time.Time)  { f.mu.Lock(); defer f.mu.Unlock(); f.now = t }

// person stores a profile with a phone number, SMS consent and a zone.
func (f *quietFixture) person(t *testing.T, id, zone string) delivery.Recipient {
	t.Helper()
	p := profile.Profile{Namespace: "crmId", ID: id, Attributes: map[string]any{"phone": "+1415555" + id}, TimeZone: zone,
		Consent: map[string]string{"sms": "y"}}
	if err := f.store.Put(context.Background(), acme, p); err != nil {
		t.Fatal(err)
	}
	return delivery.Recipient{Type: delivery.TypeAEP, Namespace: "crmId", UserID: id}
}

func (f *quietFixture) job(rs ...delivery.Recipient) delivery.Job {
	return delivery.Job{Tenant: acme, ExecutionID: "ex", CampaignID: "c", Version: 1, Channel: campaign.SMS, Ledger: delivery.LedgerV2, Recipients: rs}
}

// deliverQueued takes the queue's jobs from the n-th on, moving the clock
// to when each is due on the queue and dispatching it, until the queue
// has nothing new; it returns the instants at which an SMS was sent.
func (f *quietFixture) deliverQueued(t *testing.T, n int) []time.Time {
	t.Helper()
	var sentAt []time.Time
	for hops := 0; ; hops++ {
		jobs := f.queue.Jobs()
		if n >= len(jobs) {
			return sentAt
		}
		if hops > 100 {
			t.Fatal("the deferred job never came due")
		}
		j := jobs[n]
		n++
		f.set(f.clock().Add(j.Delay))
		before := len(f.sms.Sent())
		if err := f.d.Dispatch(context.Background(), j); err != nil {
			t.Fatalf("Dispatch of the queued job at %s: %v", f.clock().Format(time.RFC3339), err)
		}
		for range len(f.sms.Sent()) - before {
			sentAt = append(sentAt, f.clock())
		}
	}
}

func TestQuietHoursDeferToTheWindowsEndAcrossDaylightSavingChanges(t *testing.T) {
	night := campaign.QuietHours{Start: "21:00", End: "08:00"}
	tests := []struct {
		name, zone string
		now, due   time.Time
	}{
		{"Paris, spring-forward night (CET to CEST)", "Europe/Paris", utc("2026-03-28T21:30:00Z"), utc("2026-03-29T06:00:00Z")},
		{"Paris, fall-back night (CEST to CET)", "Europe/Paris", utc("2026-10-24T20:30:00Z"), utc("2026-10-25T07:00:00Z")},
		{"New York, spring-forward night (EST to EDT)", "America/New_York", utc("2026-03-08T03:00:00Z"), utc("2026-03-08T12:00:00Z")},
		{"New York, fall-back night (EDT to EST)", "America/New_York", utc("2026-11-01T02:00:00Z"), utc("2026-11-01T13:00:00Z")},
		{"New York, inside the repeated hour of fall back", "America/New_York", utc("2026-11-01T06:15:00Z"), utc("2026-11-01T13:00:00Z")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newQuietFixture(t, campaign.Marketing, night, tt.now)
			r := f.person(t, "0100", tt.zone)
			if err := f.d.Dispatch(context.Background(), f.job(r)); err != nil {
				t.Fatalf("Dispatch: %v", err)
			}
			if n := len(f.sms.Sent()); n != 0 {
				t.Fatalf("%d SMS sent inside quiet hours", n)
			}
			if got := f.outcomes(); len(got) != 0 {
				t.Errorf("ledger holds %v for a deferred recipient; want nothing (no claim, pending)", got)
			}
			jobs := f.queue.Jobs()
			if len(jobs) != 1 || !jobs[0].DeferUntil.Equal(tt.due) || jobs[0].Delay != delivery.MaxDelay || len(jobs[0].Recipients) != 1 {
				t.Fatalf("queued %+v; want one job of the recipient due at %s, delayed %s", jobs, tt.due.Format(time.RFC3339), delivery.MaxDelay)
			}
			sentAt := f.deliverQueued(t, 0)
			if diff := cmp.Diff([]time.Time{tt.due}, sentAt); diff != "" {
				t.Errorf("SMS sent at (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"0100 sent"}, f.outcomes()); diff != "" {
				t.Errorf("ledger (-want +got):\n%s", diff)
			}
			// The deferred job delivered once more (a duplicate message)
			// sends nothing.
			last := f.queue.Jobs()[len(f.queue.Jobs())-1]
			if err := f.d.Dispatch(context.Background(), last); err != nil {
				t.Fatal(err)
			}
			if n := len(f.sms.Sent()); n != 1 {
				t.Errorf("%d SMS sent after a duplicate delivery; want 1", n)
			}
		})
	}
}

func TestQuietHoursDropRecordsExcludedQuietHours(t *testing.T) {
	f := newQuietFixture(t, campaign.Marketing, campaign.QuietHours{Start: "21:00", End: "08:00", TimeZone: "Europe/Paris", Action: campaign.QuietDrop},
		utc("2026-06-01T22:00:00Z")) // midnight in Paris
	if err := f.d.Dispatch(context.Background(), f.job(f.person(t, "0100", ""))); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"0100 excluded:quiet_hours"}, f.outcomes()); diff != "" {
		t.Errorf("ledger (-want +got):\n%s", diff)
	}
	counts, err := f.store.Counts(context.Background(), acme, "ex")
	if err != nil || counts[delivery.ExcludedQuietHours] != 1 {
		t.Errorf("counts = %v, %v; want excluded:quiet_hours 1", counts, err)
	}
	if len(f.sms.Sent()) != 0 || len(f.queue.Jobs()) != 0 {
		t.Errorf("sent %d, queued %d; want nothing", len(f.sms.Sent()), len(f.queue.Jobs()))
	}
}

func TestQuietHoursLeaveTransactionalCampaignsAloneUnlessConfigured(t *testing.T) {
	night := utc("2026-06-01T22:00:00Z") // midnight in Paris
	for _, obey := range []bool{false, true} {
		f := newQuietFixture(t, campaign.Transactional, campaign.QuietHours{Start: "21:00", End: "08:00", TimeZone: "Europe/Paris", Transactional: obey}, night)
		if err := f.d.Dispatch(context.Background(), f.job(f.person(t, "0100", ""))); err != nil {
			t.Fatal(err)
		}
		sent, queued := len(f.sms.Sent()), len(f.queue.Jobs())
		if !obey && (sent != 1 || queued != 0) {
			t.Errorf("transactional without the opt-in: sent %d, deferred %d; want sent at once", sent, queued)
		}
		if obey && (sent != 0 || queued != 1) {
			t.Errorf("transactional with transactional: true: sent %d, deferred %d; want deferred", sent, queued)
		}
	}
}

func TestQuietHoursUseTheProfilesZoneElseTheConfigurations(t *testing.T) {
	// 22:00 UTC: midnight in Paris (the default), 07:00 in Tokyo, 18:00
	// in New York.
	f := newQuietFixture(t, campaign.Marketing, campaign.QuietHours{Start: "21:00", End: "08:00", TimeZone: "Europe/Paris"}, utc("2026-06-01T22:00:00Z"))
	paris1, paris2 := f.person(t, "0101", ""), f.person(t, "0102", "Europe/Paris")
	tokyo, newYork := f.person(t, "0103", "Asia/Tokyo"), f.person(t, "0104", "America/New_York")
	if err := f.d.Dispatch(context.Background(), f.job(paris1, tokyo, paris2, newYork)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"0104 sent"}, f.outcomes()); diff != "" {
		t.Errorf("ledger (-want +got):\n%s", diff)
	}
	type deferred struct {
		Due   time.Time
		Users []string
	}
	var got []deferred
	for _, j := range f.queue.Jobs() {
		d := deferred{Due: j.DeferUntil}
		for _, r := range j.Recipients {
			d.Users = append(d.Users, r.UserID)
		}
		got = append(got, d)
	}
	want := []deferred{
		{utc("2026-06-01T23:00:00Z"), []string{"0103"}},         // 08:00 in Tokyo
		{utc("2026-06-02T06:00:00Z"), []string{"0101", "0102"}}, // 08:00 in Paris
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("deferred jobs, grouped by due time (-want +got):\n%s", diff)
	}
}

func TestQuietHoursDeferralTheQueueRefusesIsRetried(t *testing.T) {
	f := newQuietFixture(t, campaign.Marketing, campaign.QuietHours{Start: "21:00", End: "08:00", TimeZone: "Europe/Paris"}, utc("2026-06-01T22:00:00Z"))
	f.queue.Err = errors.New("queue down")
	err := f.d.Dispatch(context.Background(), f.job(f.person(t, "0100", "")))
	if !errors.Is(err, delivery.ErrRetry) {
		t.Fatalf("Dispatch = %v; want a retry", err)
	}
	if len(f.outcomes()) != 0 || len(f.sms.Sent()) != 0 {
		t.Errorf("ledger %v, sent %d; want nothing: the retry defers again", f.outcomes(), len(f.sms.Sent()))
	}
	f.queue.Err = nil
	if err := f.d.Dispatch(context.Background(), f.job(f.person(t, "0100", ""))); err != nil || len(f.queue.Jobs()) != 1 {
		t.Errorf("retry: %v, queued %d; want one deferred job", err, len(f.queue.Jobs()))
	}
}

func TestQuietHoursNeverHoldProofs(t *testing.T) {
	f := newQuietFixture(t, campaign.Marketing, campaign.QuietHours{Start: "00:00", End: "23:59", TimeZone: "UTC"}, utc("2026-06-01T12:00:00Z"))
	r := f.person(t, "0100", "")
	v, err := f.store.GetVersion(context.Background(), acme, "c", 1)
	if err != nil {
		t.Fatal(err)
	}
	out, err := f.d.DispatchProof(context.Background(), delivery.Job{Tenant: acme, ExecutionID: "proof-1", CampaignID: "c", Recipients: []delivery.Recipient{r}}, v)
	if err != nil || len(out) != 1 || out[0] != delivery.Sent {
		t.Errorf("proof inside quiet hours = %v, %v; want sent", out, err)
	}
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestQuietHoursPastFifteenMinutesWaitForASchedule(t *testing.T) {
	ctx := context.Background()
	due := utc("2026-03-29T06:00:00Z") // 08:00 CEST, after spring forward
	f := newQuietFixture(t, campaign.Marketing, campaign.QuietHours{Start: "21:00", End: "08:00", TimeZone: "Europe/Paris"}, utc("2026-03-28T21:30:00Z"))
	sched := &memory.Scheduler{}
	deferrals := &delivery.ScheduledDeferrals{Parking: f.store, Jobs: f.store, Schedules: sched, Queue: f.queue, Now: f.clock}
	f.d.Deferrals = deferrals
	r := f.person(t, "0100", "")
	if err := f.d.Dispatch(ctx, f.job(r)); err != nil {
		t.Fatal(err)
	}
	if len(f.queue.Jobs()) != 0 || len(f.sms.Sent()) != 0 || len(f.outcomes()) != 0 {
		t.Fatalf("queued %d, sent %d, ledger %v; want the recipient parked, nothing else", len(f.queue.Jobs()), len(f.sms.Sent()), f.outcomes())
	}
	parked, err := f.store.Parked(ctx, acme, "ex")
	if err != nil || len(parked) != 1 || parked[0].Reason != delivery.ReasonQuietHours || !parked[0].Job.DeferUntil.Equal(due) {
		t.Fatalf("parked = %+v, %v; want one job deferred until %s", parked, err, due)
	}
	schedules := sched.Schedules()
	if len(schedules) != 1 {
		t.Fatalf("schedules = %v; want one", schedules)
	}
	for _, s := range schedules {
		var in schedule.Input
		if err := json.Unmarshal(s.Input, &in); err != nil {
			t.Fatal(err)
		}
		want := schedule.Input{Kind: schedule.KindDeferred, Org: acme.Org, Sandbox: acme.Sandbox, ExecutionID: "ex", CampaignID: "c", JobID: parked[0].ID}
		if s.Expression != "at(2026-03-29T06:00:00)" || !s.OneTime || in != want {
			t.Errorf("schedule %s %+v; want at(2026-03-29T06:00:00), one time, input %+v", s.Expression, in, want)
		}
	}
	// A redelivery of the original job defers to the same parked job and
	// schedule.
	if err := f.d.Dispatch(ctx, f.job(r)); err != nil {
		t.Fatal(err)
	}
	if p, _ := f.store.Parked(ctx, acme, "ex"); len(p) != 1 || len(sched.Schedules()) != 1 {
		t.Errorf("after a redelivery: %d parked, %d schedules; want 1 and 1", len(p), len(sched.Schedules()))
	}
	// A redrive leaves it alone: it is not given up on.
	res, err := (&delivery.Redriver{Ledger: f.store, Parking: f.store, Queue: f.queue}).Redrive(ctx, acme, "ex")
	if err != nil || res.Jobs != 0 || len(f.queue.Jobs()) != 0 {
		t.Errorf("redrive = %+v, %v, queued %d; want nothing redriven", res, err, len(f.queue.Jobs()))
	}

	f.set(due)
	if err := deferrals.Wake(ctx, acme, "ex", parked[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := deferrals.Wake(ctx, acme, "ex", parked[0].ID); err != nil {
		t.Errorf("a repeated firing: %v; want nothing to do", err)
	}
	jobs := f.queue.Jobs()
	if len(jobs) != 1 || jobs[0].Delay != 0 {
		t.Fatalf("woken jobs = %+v; want one, not delayed", jobs)
	}
	if p, _ := f.store.Parked(ctx, acme, "ex"); len(p) != 0 {
		t.Errorf("%d jobs still parked after the wake", len(p))
	}
	if err := f.d.Dispatch(ctx, jobs[0]); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"0100 sent"}, f.outcomes()); diff != "" || len(f.sms.Sent()) != 1 {
		t.Errorf("after the window: sent %d, ledger (-want +got):\n%s", len(f.sms.Sent()), diff)
	}
}

func TestQuietHoursWithinFifteenMinutesOfTheEndWaitOnTheQueue(t *testing.T) {
	f := newQuietFixture(t, campaign.Marketing, campaign.QuietHours{Start: "21:00", End: "08:00", TimeZone: "Europe/Paris"}, utc("2026-06-02T05:50:00.5Z"))
	sched := &memory.Scheduler{}
	f.d.Deferrals = &delivery.ScheduledDeferrals{Parking: f.store, Jobs: f.store, Schedules: sched, Queue: f.queue, Now: f.clock}
	if err := f.d.Dispatch(context.Background(), f.job(f.person(t, "0100", ""))); err != nil {
		t.Fatal(err)
	}
	jobs := f.queue.Jobs()
	if len(sched.Schedules()) != 0 || len(jobs) != 1 || jobs[0].Delay != 10*time.Minute {
		t.Errorf("schedules %d, queued %+v; want one job delayed 10m (9m59.5s rounded up)", len(sched.Schedules()), jobs)
	}
}

// pacedCampaign adds campaign "p" of f's configuration, marketing, with a
// delivery rate.
func (f *quietFixture) pacedCampaign(t *testing.T, rate int) {
	t.Helper()
	ctx := context.Background()
	spec := campaign.Spec{ChannelConfigID: "cfg", Content: campaign.Content{SMS: &campaign.SMSContent{Body: "Flash sale"}},
		Audience: campaign.Audience{Namespace: "crmId"}, Schedule: campaign.Schedule{DeliveryRate: rate}}
	c := campaign.Campaign{ID: "p", Name: "p", Type: campaign.Marketing, Channel: campaign.SMS, Status: campaign.StatusDraft, Draft: spec, Revision: 1}
	if err := f.store.CreateCampaign(ctx, acme, c); err != nil {
		t.Fatal(err)
	}
	c.Status, c.LiveVersion, c.Revision = campaign.StatusLive, 1, 2
	v := campaign.Version{CampaignID: "p", Number: 1, Type: campaign.Marketing, Channel: campaign.SMS, Spec: spec, ActivatedAt: t0}
	if err := f.store.Activate(ctx, acme, c, v, 1); err != nil {
		t.Fatal(err)
	}
}

func TestDeferredRecipientsOfAPacedCampaignAreReleasedAtItsRate(t *testing.T) {
	ctx := context.Background()
	due := utc("2026-11-01T13:00:00Z") // 08:00 EST, after fall back
	f := newQuietFixture(t, campaign.Marketing, campaign.QuietHours{Start: "21:00", End: "08:00", TimeZone: "America/New_York"}, due.Add(-5*time.Minute))
	f.pacedCampaign(t, 1)
	sched := &memory.Scheduler{}
	deferrals := &delivery.ScheduledDeferrals{Parking: f.store, Jobs: f.store, Schedules: sched, Queue: f.queue,
		Campaigns: f.store, Pacer: f.store, Now: f.clock}
	f.d.Deferrals = deferrals

	// 1000 members in one job, due in five minutes: a paced campaign's
	// deferral goes through the schedule however soon it is due.
	const n = 1000
	j := delivery.Job{Tenant: acme, ExecutionID: "ex", CampaignID: "p", Version: 1, Channel: campaign.SMS, Ledger: delivery.LedgerV2}
	for i := range n {
		j.Recipients = append(j.Recipients, delivery.Recipient{Type: delivery.TypeAEP, Namespace: "crmId", UserID: fmt.Sprintf("%04d", i)})
		f.person(t, fmt.Sprintf("%04d", i), "")
	}
	if err := f.d.Dispatch(ctx, j); err != nil {
		t.Fatal(err)
	}
	if len(f.queue.Jobs()) != 0 || len(sched.Schedules()) != 1 {
		t.Fatalf("queued %d jobs, %d schedules; want the job parked with one schedule", len(f.queue.Jobs()), len(sched.Schedules()))
	}

	// Fire each schedule when due, in order, until none is left.
	fired := map[string]bool{}
	release := map[string]time.Time{} // userId → when the queue lets it go
	for range 50 {
		var next schedule.Schedule
		var at time.Time
		for name, s := range sched.Schedules() {
			if fired[name] {
				continue
			}
			when, err := time.Parse("2006-01-02T15:04:05", strings.TrimSuffix(strings.TrimPrefix(s.Expression, "at("), ")"))
			if err != nil {
				t.Fatal(err)
			}
			if next.Name == "" || when.Before(at) {
				next, at = s, when
			}
		}
		if next.Name == "" {
			break
		}
		fired[next.Name] = true
		var in schedule.Input
		if err := json.Unmarshal(next.Input, &in); err != nil {
			t.Fatal(err)
		}
		f.set(at)
		before := len(f.queue.Jobs())
		if err := deferrals.Wake(ctx, acme, in.ExecutionID, in.JobID); err != nil {
			t.Fatal(err)
		}
		for _, q := range f.queue.Jobs()[before:] {
			for _, r := range q.Recipients {
				if _, dup := release[r.UserID]; dup {
					t.Fatalf("%s released twice", r.UserID)
				}
				release[r.UserID] = at.Add(q.Delay)
			}
		}
	}
	if len(release) != n {
		t.Fatalf("%d of %d recipients released", len(release), n)
	}
	perSecond := map[time.Time]int{}
	last := due
	for _, at := range release {
		if at.Before(due) {
			t.Fatalf("a recipient released at %s, before the window's end", at)
		}
		perSecond[at.Truncate(time.Second)]++
		last = maxT(last, at)
	}
	for sec, c := range perSecond {
		if c > 1 {
			t.Errorf("%d recipients released in the second %s; the rate is 1/s", c, sec.Format(time.RFC3339))
		}
	}
	if want := due.Add((n - 1) * time.Second); !last.Equal(want) {
		t.Errorf("last release at %s; want %s (one a second from the window's end)", last.Format(time.RFC3339), want.Format(time.RFC3339))
	}
	if p, _ := f.store.Parked(ctx, acme, "ex"); len(p) != 0 {
		t.Errorf("%d jobs still parked", len(p))
	}
}

func maxT(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Dispatch, which links no Scheduler client, hands a job deferred past
// SQS's 15 minutes to the deferral queue as it is; the Scheduler
// function's ScheduledDeferrals then parks and schedules it exactly as
// Dispatch did itself, once however often the job comes.
func TestQuietHoursPastFifteenMinutesGoThroughTheDeferralQueue(t *testing.T) {
	ctx := context.Background()
	due := utc("2026-03-29T06:00:00Z")
	f := newQuietFixture(t, campaign.Marketing, campaign.QuietHours{Start: "21:00", End: "08:00", TimeZone: "Europe/Paris"}, utc("2026-03-28T21:30:00Z"))
	deferralQueue := &memory.Queue{}
	f.d.Deferrals = delivery.QueuedDeferrals{Queue: deferralQueue}
	r := f.person(t, "0100", "")
	job := f.job(r)
	job.Receipt = delivery.Receipt{Count: 2}
	for range 2 { // the job and its redelivery
		if err := f.d.Dispatch(ctx, job); err != nil {
			t.Fatal(err)
		}
	}
	if len(f.queue.Jobs()) != 0 || len(f.sms.Sent()) != 0 || len(f.outcomes()) != 0 {
		t.Fatalf("dispatch queue %d, sent %d, ledger %v; want the recipient handed on, nothing else", len(f.queue.Jobs()), len(f.sms.Sent()), f.outcomes())
	}
	handed := deferralQueue.Jobs()
	if len(handed) != 2 {
		t.Fatalf("deferral queue holds %d jobs; want the job and its redelivery", len(handed))
	}
	for _, j := range handed {
		if !j.DeferUntil.Equal(due) || j.Delay != 0 || j.Receipt != (delivery.Receipt{}) || len(j.Recipients) != 1 || j.Recipients[0] != r {
			t.Fatalf("handed on %+v; want the recipient deferred until %s, undelayed, without the receipt", j, due)
		}
	}
	if p, _ := f.store.Parked(ctx, acme, "ex"); len(p) != 0 {
		t.Fatalf("Dispatch parked %d jobs itself", len(p))
	}

	sched := &memory.Scheduler{}
	deferrals := &delivery.ScheduledDeferrals{Parking: f.store, Jobs: f.store, Schedules: sched, Queue: f.queue, Now: f.clock}
	for _, j := range handed {
		if err := deferrals.Defer(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	parked, err := f.store.Parked(ctx, acme, "ex")
	if err != nil || len(parked) != 1 || !parked[0].Job.DeferUntil.Equal(due) {
		t.Fatalf("parked = %+v, %v; want one job deferred until %s", parked, err, due)
	}
	if s := sched.Schedules(); len(s) != 1 {
		t.Fatalf("schedules = %v; want one", s)
	}
	for _, s := range sched.Schedules() {
		if s.Expression != "at(2026-03-29T06:00:00)" || !s.OneTime {
			t.Errorf("schedule %s; want at(2026-03-29T06:00:00), one time", s.Expression)
		}
	}
	deferralQueue.Err = errors.New("SQS is down")
	if err := f.d.Dispatch(ctx, job); err == nil || !errors.Is(err, delivery.ErrRetry) {
		t.Errorf("Dispatch with the deferral queue down = %v; want a retry", err)
	}
}

// A job deferred late (its deferral retried past the window's end, or
// about to reach it) is not scheduled in the past: a minute from now at
// the earliest, and its wake sends it at once.
func TestADeferralDueAlreadyIsScheduledAMinuteAhead(t *testing.T) {
	ctx := context.Background()
	now := utc("2026-03-29T06:20:00Z")
	f := newQuietFixture(t, campaign.Marketing, campaign.QuietHours{Start: "21:00", End: "08:00", TimeZone: "Europe/Paris"}, now)
	sched := &memory.Scheduler{}
	deferrals := &delivery.ScheduledDeferrals{Parking: f.store, Jobs: f.store, Schedules: sched, Queue: f.queue, Now: f.clock}
	job := f.job(f.person(t, "0100", ""))
	job.DeferUntil = utc("2026-03-29T06:00:00Z")
	if err := deferrals.Defer(ctx, job); err != nil {
		t.Fatal(err)
	}
	for _, s := range sched.Schedules() {
		if s.Expression != "at(2026-03-29T06:21:00)" {
			t.Errorf("schedule %s; want at(2026-03-29T06:21:00), a minute from now", s.Expression)
		}
	}
	if len(sched.Schedules()) != 1 {
		t.Fatalf("schedules = %v; want one", sched.Schedules())
	}
}
