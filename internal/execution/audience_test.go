package execution_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/audience"
	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/contextschema"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/metrics"
	"github.com/heraldhq/herald/internal/render"
)

// audienceSetup stores a live marketing campaign "mk" at rate and an
// audience "aud" of n members, and returns a service on memory fakes.
func audienceSetup(t testing.TB, n, rate int, q execution.Queue) (*execution.AudienceExecutions, *memory.Store, *memory.Scheduler) {
	t.Helper()
	store, sched := memory.New(), &memory.Scheduler{}
	putCampaign(t, store, "mk", campaign.StatusLive, campaign.Marketing,
		campaign.Spec{Audience: campaign.Audience{Namespace: "crmId", AudienceID: "aud"}, Schedule: campaign.Schedule{DeliveryRate: rate}})
	addAudience(t, store, n)
	ids := 0
	return &execution.AudienceExecutions{Schemas: contextschema.Compiler{}, Records: store, Executions: store, Campaigns: store, Members: store, Queue: q, Pacer: store,
		Schedules: sched, Now: func() time.Time { return now }, NewID: func() string { ids++; return fmt.Sprintf("ex-%d", ids) },
		InlineBudget: time.Hour}, store, sched
}

func addAudience(t testing.TB, store *memory.Store, n int) {
	t.Helper()
	ctx := context.Background()
	if err := store.CreateAudience(ctx, acme, audience.Audience{ID: "aud", Name: "all"}); err != nil {
		t.Fatal(err)
	}
	for start := 0; start < n; start += audience.MaxMembersPerCall {
		ms := make([]audience.Member, 0, audience.MaxMembersPerCall)
		for i := start; i < min(start+audience.MaxMembersPerCall, n); i++ {
			ms = append(ms, audience.Member{Namespace: "crmId", ID: fmt.Sprintf("u%07d", i)})
		}
		if _, err := store.AddMembers(ctx, acme, "aud", ms); err != nil {
			t.Fatal(err)
		}
	}
}

func recipients(jobs []delivery.Job) map[string]int {
	out := map[string]int{}
	for _, j := range jobs {
		for _, r := range j.Recipients {
			out[r.UserID]++
		}
	}
	return out
}

func TestAnAudienceExecutionEnqueuesEveryMemberOnce(t *testing.T) {
	q := &memory.Queue{}
	svc, _, _ := audienceSetup(t, 2345, 0, q)
	resp, err := svc.Start(context.Background(), acme, "hk", execution.AudienceRequest{RequestID: "r1", CampaignID: "mk", Context: render.MustParseObject(`{"k":"v"}`)})
	if err != nil {
		t.Fatal(err)
	}
	got := recipients(q.Jobs())
	if len(got) != 2345 {
		t.Fatalf("%d members enqueued, want 2345", len(got))
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("%s enqueued %d times", id, n)
		}
	}
	for _, j := range q.Jobs() {
		if len(j.Recipients) > execution.DefaultJobSize || !j.Context.Equal(render.MustParseObject(`{"k":"v"}`)) || j.ExecutionID != resp.(execution.Response).ExecutionID {
			t.Fatalf("job %+v: want at most %d recipients with the execution's context", j, execution.DefaultJobSize)
		}
	}
	// A replay enqueues nothing more.
	if _, err := svc.Start(context.Background(), acme, "hk", execution.AudienceRequest{RequestID: "r1", CampaignID: "mk", Context: render.MustParseObject(`{"k":"v"}`)}); err != nil {
		t.Fatal(err)
	}
	if n := len(q.Jobs()); n != 47 {
		t.Errorf("%d jobs after the replay, want 47", n)
	}
}

func TestARetryAfterAFailedFanOutResumesAtOnce(t *testing.T) {
	// The queue refuses the second page: the call fails after the first
	// page was taken. The client's retry, seconds later, well inside the
	// lease, must find the execution free and finish it from its cursor.
	q := &memory.Queue{}
	svc, store, _ := audienceSetup(t, 2345, 0, q)
	svc.PageSize = 1000
	calls := 0
	inner := svc.Queue
	svc.Queue = queueFunc(func(ctx context.Context, jobs []delivery.Job) error {
		calls++
		if calls == 2 {
			return fmt.Errorf("queue unavailable")
		}
		return inner.Enqueue(ctx, jobs)
	})
	req := execution.AudienceRequest{RequestID: "r1", CampaignID: "mk"}
	if _, err := svc.Start(context.Background(), acme, "hk", req); err == nil {
		t.Fatal("the first call succeeded; want the queue's failure")
	}
	resp, err := svc.Start(context.Background(), acme, "hk", req)
	if err != nil {
		t.Fatalf("the retry: %v", err)
	}
	got := recipients(q.Jobs())
	if len(got) != 2345 {
		t.Fatalf("%d members enqueued after the retry, want 2345", len(got))
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("%s enqueued %d times", id, n)
		}
	}
	ex, err := store.GetAudienceExecution(context.Background(), acme, resp.(execution.Response).ExecutionID)
	if err != nil {
		t.Fatal(err)
	}
	if ex.State != execution.StateFannedOut || ex.Enqueued != 2345 {
		t.Errorf("execution %s with %d enqueued, want %s with 2345", ex.State, ex.Enqueued, execution.StateFannedOut)
	}
}

type queueFunc func(ctx context.Context, jobs []delivery.Job) error

func (f queueFunc) Enqueue(ctx context.Context, jobs []delivery.Job) error { return f(ctx, jobs) }

func TestAudienceExecutionsRefuseWhatCannotRun(t *testing.T) {
	future := now.Add(time.Hour)
	tests := []struct {
		name string
		req  execution.AudienceRequest
		kind derrors.Kind
	}{
		{"an unknown campaign is not found", execution.AudienceRequest{CampaignID: "nope"}, derrors.NotFound},
		{"an unknown audience is not found", execution.AudienceRequest{CampaignID: "mk", Audience: &execution.AudienceRef{ID: "other"}}, derrors.NotFound},
		{"an executeAt in the past is invalid", execution.AudienceRequest{CampaignID: "mk", Schedule: &execution.ScheduleRequest{ExecuteAt: &now}}, derrors.Invalid},
		{"a transactional campaign is a conflict", execution.AudienceRequest{CampaignID: "tx"}, derrors.Conflict},
		{"an executeAt after the campaign's end is a conflict", execution.AudienceRequest{CampaignID: "ends", Schedule: &execution.ScheduleRequest{ExecuteAt: &future}}, derrors.Conflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := &memory.Queue{}
			svc, store, sched := audienceSetup(t, 3, 0, q)
			putCampaign(t, store, "tx", campaign.StatusLive, campaign.Transactional, campaign.Spec{})
			end := now.Add(time.Minute)
			putCampaign(t, store, "ends", campaign.StatusLive, campaign.Marketing, campaign.Spec{Audience: campaign.Audience{AudienceID: "aud"}, Schedule: campaign.Schedule{End: &end}})
			_, err := svc.Start(context.Background(), acme, "hk", tt.req)
			if k := derrors.KindOf(err); k != tt.kind {
				t.Fatalf("error %v (kind %d), want kind %d", err, k, tt.kind)
			}
			if len(q.Jobs()) != 0 || len(sched.Schedules()) != 0 {
				t.Errorf("refused, yet %d jobs and %d schedules were made", len(q.Jobs()), len(sched.Schedules()))
			}
		})
	}
}

func TestAPacedExecutionKeepsToItsRateAndItsWindow(t *testing.T) {
	q := &memory.Queue{}
	// Rate 1/s: SQS delays reach 15 minutes, so the fan-out stops at 900
	// members and hands over to a continuation schedule.
	svc, store, sched := audienceSetup(t, 50_000, 1, q)
	ctx := context.Background()
	resp, err := svc.Start(ctx, acme, "hk", execution.AudienceRequest{RequestID: "slow", CampaignID: "mk"})
	if err != nil {
		t.Fatal(err)
	}
	id := resp.(execution.Response).ExecutionID
	if n := len(recipients(q.Jobs())); n != 900 {
		t.Fatalf("first invocation enqueued %d, want 900 (15 minutes at 1/s)", n)
	}
	for _, d := range q.Delays() {
		if d > execution.MaxDelay {
			t.Fatalf("delay %s over SQS's 15 minutes", d)
		}
	}
	if len(sched.Schedules()) != 1 {
		t.Fatalf("schedules %v, want one continuation", sched.Schedules())
	}
	// Continue as the schedules fire, 14 minutes apart, until done.
	clockAt := now
	svc.Now = func() time.Time { return clockAt }
	for i := 0; i < 100; i++ {
		ex, err := store.GetAudienceExecution(ctx, acme, id)
		if err != nil {
			t.Fatal(err)
		}
		if ex.State == execution.StateFannedOut {
			break
		}
		clockAt = clockAt.Add(14 * time.Minute)
		if err := svc.FanOut(ctx, acme, id, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	st, err := svc.Status(ctx, acme, id)
	if err != nil {
		t.Fatal(err)
	}
	inWindow := int64(execution.MaxWindow / time.Second) // 43,200 at 1/s
	want := map[string]int64{"excluded:rate_window_exceeded": 50_000 - inWindow, "pending": inWindow}
	if diff := cmp.Diff(want, st.Counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	if got := int64(len(recipients(q.Jobs()))); got != inWindow || st.TargetedProfileCount != 50_000 {
		t.Errorf("%d enqueued, %d targeted; want %d and 50000", got, st.TargetedProfileCount, inWindow)
	}
}

func TestConcurrentFanOutsOfOneExecutionEnqueueEachMemberOnce(t *testing.T) {
	q := &memory.Queue{}
	svc, store, _ := audienceSetup(t, 5000, 0, q)
	svc.PageSize = 100
	ctx := context.Background()
	resp, err := svc.Start(ctx, acme, "hk", execution.AudienceRequest{RequestID: "s", CampaignID: "mk",
		Schedule: &execution.ScheduleRequest{ExecuteAt: ptr(now.Add(time.Minute))}})
	if err != nil {
		t.Fatal(err)
	}
	id := resp.(execution.ScheduledResponse).ScheduleID
	svc.Now = func() time.Time { return now.Add(2 * time.Minute) }
	var wg sync.WaitGroup
	var fails atomic.Int32
	for range 8 { // schedule.Scheduler delivering the same firing eight times
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := svc.Fire(ctx, acme, id, time.Hour); err != nil {
				fails.Add(1)
			}
		}()
	}
	wg.Wait()
	if fails.Load() > 0 {
		t.Fatalf("%d firings failed", fails.Load())
	}
	got := recipients(q.Jobs())
	if len(got) != 5000 {
		t.Errorf("%d members enqueued, want 5000", len(got))
	}
	for id, n := range got {
		if n != 1 {
			t.Fatalf("%s enqueued %d times", id, n)
		}
	}
	if ex, _ := store.GetAudienceExecution(ctx, acme, id); ex.State != execution.StateFannedOut {
		t.Errorf("state %s, want fanned-out", ex.State)
	}
}

func TestACancelledScheduleNeverRuns(t *testing.T) {
	q := &memory.Queue{}
	svc, _, sched := audienceSetup(t, 10, 0, q)
	ctx := context.Background()
	resp, err := svc.Start(ctx, acme, "hk", execution.AudienceRequest{CampaignID: "mk", Schedule: &execution.ScheduleRequest{ExecuteAt: ptr(now.Add(time.Hour))}})
	if err != nil {
		t.Fatal(err)
	}
	id := resp.(execution.ScheduledResponse).ScheduleID
	if err := svc.CancelSchedule(ctx, acme, id); err != nil {
		t.Fatal(err)
	}
	if len(sched.Schedules()) != 0 {
		t.Errorf("schedules left: %v", sched.Schedules())
	}
	if err := svc.Fire(ctx, acme, id, time.Hour); err != nil { // a firing already in flight
		t.Fatal(err)
	}
	if len(q.Jobs()) != 0 {
		t.Errorf("%d jobs after cancelling", len(q.Jobs()))
	}
	if err := svc.CancelSchedule(ctx, acme, id); !derrors.Is(err, derrors.NotFound) {
		t.Errorf("cancelling twice: %v, want not found", err)
	}
}

func ptr[T any](v T) *T { return &v }

// countingQueue counts recipients and keeps nothing, so a benchmark's
// memory is the fan-out's own.
type countingQueue struct{ n atomic.Int64 }

func (c *countingQueue) Enqueue(_ context.Context, jobs []delivery.Job) error {
	for _, j := range jobs {
		c.n.Add(int64(len(j.Recipients)))
	}
	return nil
}

// BenchmarkFanOutInMemory fans an audience of 1,000,000 members out with
// in-memory fakes: members/s and the peak heap growth during the fan-out.
func BenchmarkFanOutInMemory(b *testing.B) {
	const members = 1_000_000
	store := memory.New()
	putCampaign(b, store, "mk", campaign.StatusLive, campaign.Marketing, campaign.Spec{Audience: campaign.Audience{Namespace: "crmId", AudienceID: "aud"}})
	addAudience(b, store, members)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q := &countingQueue{}
		svc := &execution.AudienceExecutions{Schemas: contextschema.Compiler{}, Records: store, Executions: store, Campaigns: store, Members: store, Queue: q, Pacer: store,
			Schedules: &memory.Scheduler{}, Now: func() time.Time { return now }, InlineBudget: time.Hour,
			NewID: func() string { return fmt.Sprintf("bench-%d", i) }}
		var before, peak runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		stop := make(chan struct{})
		done := make(chan uint64)
		go func() { // sample the heap while the fan-out runs
			var m runtime.MemStats
			var maxHeap uint64
			for {
				select {
				case <-stop:
					done <- maxHeap
					return
				case <-time.After(5 * time.Millisecond):
					runtime.ReadMemStats(&m)
					maxHeap = max(maxHeap, m.HeapAlloc)
				}
			}
		}()
		start := time.Now()
		if _, err := svc.Start(ctx, acme, "hk", execution.AudienceRequest{RequestID: fmt.Sprintf("b%d", i), CampaignID: "mk"}); err != nil {
			b.Fatal(err)
		}
		elapsed := time.Since(start)
		close(stop)
		maxHeap := <-done
		runtime.ReadMemStats(&peak)
		if q.n.Load() != members {
			b.Fatalf("%d enqueued, want %d", q.n.Load(), members)
		}
		b.ReportMetric(float64(members)/elapsed.Seconds(), "members/s")
		b.ReportMetric(float64(max(maxHeap, peak.HeapAlloc)-min(before.HeapAlloc, max(maxHeap, peak.HeapAlloc)))/(1<<20), "peak-heap-growth-MiB")
	}
}

// rateMetrics keeps the fan-out rates recorded.
type rateMetrics struct{ rates []float64 }

func (m *rateMetrics) Add(metric metrics.Metric, v float64, _ metrics.Dims) {
	if metric == metrics.FanOutRate {
		m.rates = append(m.rates, v)
	}
}

func TestAFanOutRecordsItsMembersPerSecondOnce(t *testing.T) {
	q := &memory.Queue{}
	svc, _, _ := audienceSetup(t, 1200, 0, q)
	m := &rateMetrics{}
	svc.Metrics = m
	if _, err := svc.Start(context.Background(), acme, "hk", execution.AudienceRequest{RequestID: "r1", CampaignID: "mk"}); err != nil {
		t.Fatal(err)
	}
	if len(m.rates) != 1 || m.rates[0] <= 0 {
		t.Errorf("rates %v, want one positive rate for the one fan-out", m.rates)
	}
	// A replay fans nothing out and records nothing.
	if _, err := svc.Start(context.Background(), acme, "hk", execution.AudienceRequest{RequestID: "r1", CampaignID: "mk"}); err != nil {
		t.Fatal(err)
	}
	if len(m.rates) != 1 {
		t.Errorf("rates %v after a replay, want still one", m.rates)
	}
}
