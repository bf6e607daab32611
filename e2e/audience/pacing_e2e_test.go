package audience_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/recurrence"
	"github.com/heraldhq/herald/internal/schedule"
	"github.com/heraldhq/herald/internal/sqs"
)

// timeline is the dispatch queue's port as the pacing tests see it: for
// each job, the simulated time its DelaySeconds releases it at. The
// slots come from the campaign's PACE item in moto's DynamoDB; moto's SQS
// delays are real time, so the tests read the delays asked for, on the
// simulated clock, and (when inner is set) pass the jobs on to a queue of
// their own, to show SQS takes them.
type timeline struct {
	inner execution.Queue
	now   func() time.Time
	mu    sync.Mutex
	// at holds one release time per recipient, by execution.
	at map[string][]time.Time
}

func newTimeline(now func() time.Time, inner execution.Queue) *timeline {
	return &timeline{inner: inner, now: now, at: map[string][]time.Time{}}
}

func (q *timeline) Enqueue(ctx context.Context, jobs []delivery.Job) error {
	if q.inner != nil {
		if err := q.inner.Enqueue(ctx, jobs); err != nil {
			return err
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.now()
	for _, j := range jobs {
		for range j.Recipients {
			q.at[j.ExecutionID] = append(q.at[j.ExecutionID], now.Add(j.Delay))
		}
	}
	return nil
}

// span returns an execution's first and last release, as offsets from
// origin, and how many recipients it released.
func (q *timeline) span(executionID string, origin time.Time) (first, last time.Duration, n int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	at := q.at[executionID]
	if len(at) == 0 {
		return 0, 0, 0
	}
	return slices.MinFunc(at, time.Time.Compare).Sub(origin), slices.MaxFunc(at, time.Time.Compare).Sub(origin), len(at)
}

// busiest returns the most recipients released in one second, across
// every execution, and that second's offset from origin.
func (q *timeline) busiest(origin time.Time) (n int, second time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	per := map[time.Duration]int{}
	for _, at := range q.at {
		for _, a := range at {
			s := a.Sub(origin).Truncate(time.Second)
			per[s]++
			if per[s] > n {
				n, second = per[s], s
			}
		}
	}
	return n, second
}

// ownQueue is a queue of the test's own, so delayed messages never reach
// the other tests' Drain.
func ownQueue(t *testing.T, name string) (*awssqs.Client, *string, execution.Queue) {
	t.Helper()
	client := awssqs.NewFromConfig(cloud.AWS)
	qo, err := client.CreateQueue(context.Background(), &awssqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return client, qo.QueueUrl, sqs.New(client, aws.ToString(qo.QueueUrl))
}

func TestPacingIsExactAndTight(t *testing.T) {
	tests := []struct {
		name          string
		rate, members int
		// executions run back to back, each to the whole audience.
		executions int
		// wantLast is the last release's offset from the start (± 1 s).
		wantLast time.Duration
	}{
		// 4 slots at 10/s: 0, 0.1, 0.2, 0.3 s, released by the second.
		{"two executions of 4 members at 10/s all leave within a second", 10, 4, 2, time.Second},
		{"1,000 members at 100/s span 10 s", 100, 1000, 1, 10 * time.Second},
		{"two back-to-back executions of 500 at 50/s span 20 s", 50, 500, 2, 20 * time.Second},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMarketing(t, map[string]any{"deliveryRate": tt.rate})
			m.addMembers(tt.members, none, none)
			client, url, inner := ownQueue(t, fmt.Sprintf("pacing-%d-%s", i, m.campaignID))
			start := clock.Now()
			frozen := func() time.Time { return start }
			q := newTimeline(frozen, inner)
			aud := cloud.App.AudienceExecutions()
			aud.Queue, aud.Now = q, frozen
			var ids []string
			for k := range tt.executions {
				resp, err := aud.Start(context.Background(), m.Tenant, m.KeyID, execution.AudienceRequest{
					RequestID: fmt.Sprintf("paced-%d", k), CampaignID: m.campaignID})
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, resp.(execution.Response).ExecutionID)
			}
			// Back to back: execution k+1 starts where k ends.
			var prevLast time.Duration
			for k, id := range ids {
				first, last, n := q.span(id, start)
				t.Logf("execution %d: %d recipients, first release +%s, last +%s", k+1, n, first, last)
				if n != tt.members {
					t.Errorf("execution %d released %d recipients, want %d", k+1, n, tt.members)
				}
				if k > 0 && (first < prevLast-time.Second || first > prevLast+time.Second) {
					t.Errorf("execution %d starts at +%s; the one before ended at +%s", k+1, first, prevLast)
				}
				prevLast = last
			}
			if first, _, _ := q.span(ids[0], start); first > time.Second {
				t.Errorf("the first message leaves at +%s, want at the start", first)
			}
			if prevLast < tt.wantLast-time.Second || prevLast > tt.wantLast+time.Second {
				t.Errorf("the last message leaves at +%s, want +%s ± 1 s", prevLast, tt.wantLast)
			}
			if n, s := q.busiest(start); n > tt.rate {
				t.Errorf("%d recipients released in second +%s, over the rate of %d", n, s, tt.rate)
			}
			attrs, err := client.GetQueueAttributes(context.Background(), &awssqs.GetQueueAttributesInput{QueueUrl: url,
				AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed}})
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantLast > time.Second && attrs.Attributes["ApproximateNumberOfMessagesDelayed"] == "0" {
				t.Errorf("SQS holds no delayed message: %v", attrs.Attributes)
			}
		})
	}
}

// recurrenceView is a recurrence as GET /campaigns/{id}/recurrences
// shows it.
type recurrenceView struct {
	ID         string
	CreatedAt  time.Time
	LastFiring *struct {
		ScheduledAt time.Time
		ExecutionID string
	}
	NextFiring *struct {
		UTC   time.Time
		Local string
	}
	Warnings []struct{ Code, Field, Message string }
}

// fireRecurrence fires a recurrence at simulated time at, as the
// Scheduler function would, with the fan-out's queue and clock replaced.
func fireRecurrence(t *testing.T, m *marketing, q *timeline, sim *time.Time, recurrenceID string, at time.Time) {
	t.Helper()
	*sim = at
	rs := cloud.App.Recurrences()
	rs.Audiences.Queue, rs.Audiences.Now = q, func() time.Time { return *sim }
	err := rs.Fire(context.Background(), schedule.Input{Kind: schedule.KindRecurrence, Org: m.Tenant.Org, Sandbox: m.Tenant.Sandbox,
		CampaignID: m.campaignID, RecurrenceID: recurrenceID, ScheduledTime: at.UTC().Format(time.RFC3339)})
	if err != nil {
		t.Fatal(err)
	}
}

func TestARecurrenceThatFitsItsRateKeepsAConstantLagForAnHour(t *testing.T) {
	// 100 members at 10/s take 10 s of every minute.
	m := newMarketing(t, map[string]any{"deliveryRate": 10})
	m.addMembers(100, none, none)
	var rec recurrenceView
	m.mustDo("POST", "/campaigns/"+m.campaignID+"/recurrences", map[string]any{"expression": "rate(1 minute)", "timeZone": "Europe/Paris"}, 201, &rec)
	if len(rec.Warnings) != 0 {
		t.Errorf("warnings %+v for a recurrence that fits", rec.Warnings)
	}
	if rec.NextFiring == nil || !rec.NextFiring.UTC.Equal(rec.CreatedAt.Add(time.Minute)) {
		t.Errorf("next firing %+v, want a minute after its creation (%s)", rec.NextFiring, rec.CreatedAt)
	}

	q := newTimeline(nil, nil)
	var sim time.Time
	q.now = func() time.Time { return sim }
	var worstFirst, worstLast time.Duration
	for k := 1; k <= 60; k++ {
		at := rec.CreatedAt.Add(time.Duration(k) * time.Minute)
		fireRecurrence(t, m, q, &sim, rec.ID, at)
		var recs struct{ Recurrences []recurrenceView }
		if k == 60 {
			m.mustDo("GET", "/campaigns/"+m.campaignID+"/recurrences", nil, 200, &recs)
			rec = recs.Recurrences[0]
		}
		// The firing's own execution: the one it just started.
		var list struct {
			Executions []struct {
				ExecutionID, RecurrenceID, Status string
				Warnings                          []struct{ Code string }
			}
		}
		m.mustDo("GET", "/campaigns/"+m.campaignID+"/executions?limit=1", nil, 200, &list)
		if len(list.Executions) != 1 || list.Executions[0].RecurrenceID != rec.ID {
			t.Fatalf("firing %d: newest execution %+v, want the recurrence's", k, list.Executions)
		}
		e := list.Executions[0]
		if len(e.Warnings) != 0 {
			t.Errorf("firing %d: warnings %+v", k, e.Warnings)
		}
		first, last, n := q.span(e.ExecutionID, at)
		if n != 100 {
			t.Fatalf("firing %d released %d members, want 100", k, n)
		}
		worstFirst, worstLast = max(worstFirst, first), max(worstLast, last)
	}
	t.Logf("60 firings of 100 members at 10/s: first release at most +%s after its firing, last at most +%s", worstFirst, worstLast)
	if worstFirst > time.Second || worstLast > 11*time.Second {
		t.Errorf("lag grew: a first release at +%s, a last at +%s; want ≤ 1 s and ≤ 11 s every minute", worstFirst, worstLast)
	}
	last := rec.CreatedAt.Add(60 * time.Minute).Truncate(time.Second) // EventBridge times are whole seconds
	if rec.LastFiring == nil || !rec.LastFiring.ScheduledAt.Equal(last) || rec.LastFiring.ExecutionID == "" {
		t.Errorf("last firing %+v, want the one at %s", rec.LastFiring, last)
	}
	// Every firing's execution is listed, newest first, a page at a time.
	var ids []string
	cursor := ""
	for range 10 {
		var page struct {
			Executions []struct {
				ExecutionID string
				CreatedAt   time.Time
				Counts      struct{ Excluded int }
			}
			Cursor string
		}
		m.mustDo("GET", "/campaigns/"+m.campaignID+"/executions?limit=25&cursor="+cursor, nil, 200, &page)
		for i, e := range page.Executions {
			if i > 0 && e.CreatedAt.After(page.Executions[i-1].CreatedAt) {
				t.Errorf("execution %s listed after an older one", e.ExecutionID)
			}
			if e.Counts.Excluded != 0 {
				t.Errorf("execution %s excluded %d members", e.ExecutionID, e.Counts.Excluded)
			}
			ids = append(ids, e.ExecutionID)
		}
		if cursor = page.Cursor; cursor == "" {
			break
		}
	}
	if len(ids) != 60 || ids[0] != rec.LastFiring.ExecutionID {
		t.Errorf("%d executions listed (first %v), want 60, the last firing's first", len(ids), ids[:min(1, len(ids))])
	}
}

func TestARecurrenceThatCannotKeepUpIsFlaggedWhenCreatedAndWhenItFallsBehind(t *testing.T) {
	// 100 members at 1/s take 100 s; it fires every minute.
	m := newMarketing(t, map[string]any{"deliveryRate": 1})
	m.addMembers(100, none, none)
	var rec recurrenceView
	m.mustDo("POST", "/campaigns/"+m.campaignID+"/recurrences", map[string]any{"expression": "rate(1 minute)"}, 201, &rec)
	if len(rec.Warnings) != 1 || rec.Warnings[0].Code != recurrence.CodeOutpaced || rec.Warnings[0].Field != "expression" {
		t.Fatalf("warnings %+v, want %s on expression", rec.Warnings, recurrence.CodeOutpaced)
	}
	q := newTimeline(nil, nil)
	var sim time.Time
	q.now = func() time.Time { return sim }
	fireRecurrence(t, m, q, &sim, rec.ID, rec.CreatedAt.Add(time.Minute))
	fireRecurrence(t, m, q, &sim, rec.ID, rec.CreatedAt.Add(2*time.Minute))
	var list struct {
		Executions []struct {
			ExecutionID string
			Warnings    []struct{ Code, Message string }
		}
	}
	m.mustDo("GET", "/campaigns/"+m.campaignID+"/executions", nil, 200, &list)
	if len(list.Executions) != 2 {
		t.Fatalf("%d executions listed, want 2", len(list.Executions))
	}
	second, first := list.Executions[0], list.Executions[1]
	if len(first.Warnings) != 0 {
		t.Errorf("the first firing warns %+v", first.Warnings)
	}
	if len(second.Warnings) != 1 || second.Warnings[0].Code != "queued_behind" {
		t.Fatalf("the second firing's warnings %+v, want queued_behind", second.Warnings)
	}
	t.Logf("second firing: %s", second.Warnings[0].Message)
	// It waited for the first: 100 s of slots from one minute before.
	if begin, _, _ := q.span(second.ExecutionID, rec.CreatedAt.Add(2*time.Minute)); begin < 39*time.Second || begin > 41*time.Second {
		t.Errorf("the second firing's first message leaves at +%s, want +40 s (behind the first)", begin)
	}
	var st struct{ Warnings []struct{ Code string } }
	m.mustDo("GET", "/executions/"+second.ExecutionID, nil, 200, &st)
	if len(st.Warnings) != 1 {
		t.Errorf("GET /executions/{id} warnings %+v, want queued_behind", st.Warnings)
	}
}
