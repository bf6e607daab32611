package audiencee2e_test

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

	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/sqs"
)

// timeline is the dispatch queue's port as the pacing tests see it: for
// each job, the simulated time its DelaySeconds releases it at. The
// slots come from the campaign's PACE item in moto's DynamoDB; moto's SQS
// delays are real time, so the tests read the delays asked for, on the
// simulated clock, and (when inner is set) pass the jobs on to a queue of
// their own, to show SQS takes them.
type timeline struct {
	inner execution.DelayedQueue
	now   func() time.Time
	mu    sync.Mutex
	// at holds one release time per recipient, by execution.
	at map[string][]time.Time
}

func newTimeline(now func() time.Time, inner execution.DelayedQueue) *timeline {
	return &timeline{inner: inner, now: now, at: map[string][]time.Time{}}
}

func (q *timeline) EnqueueDelayed(ctx context.Context, jobs []execution.DelayedJob) error {
	if q.inner != nil {
		if err := q.inner.EnqueueDelayed(ctx, jobs); err != nil {
			return err
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.now()
	for _, j := range jobs {
		for range j.Job.Recipients {
			q.at[j.Job.ExecutionID] = append(q.at[j.Job.ExecutionID], now.Add(j.Delay))
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
func ownQueue(t *testing.T, name string) (*awssqs.Client, *string, execution.DelayedQueue) {
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
			aud := cloud.App.Audiences()
			aud.Queue, aud.Now = q, frozen
			var ids []string
			for k := range tt.executions {
				resp, err := aud.Start(context.Background(), m.tenant, m.keyID, execution.AudienceRequest{
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
