package sqs_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/internal/sqs"
	"github.com/heraldhq/herald/internal/tenant"
)

func job(userIDs ...string) delivery.Job {
	j := delivery.Job{Tenant: tenant.Tenant{Org: "acme", Sandbox: "prod"}, ExecutionID: "ex-1", CampaignID: "c-1", Version: 3}
	for _, id := range userIDs {
		j.Recipients = append(j.Recipients, delivery.Recipient{Type: "external", UserID: id, Namespace: "crmId"})
	}
	return j
}

// fakeSQS records SendMessageBatch calls and can refuse entries. It is
// safe for concurrent use.
type fakeSQS struct {
	mu     sync.Mutex
	calls  [][]types.SendMessageBatchRequestEntry
	err    error
	refuse bool
	// arrived, when set, is told of each call, which then waits for
	// release.
	arrived chan struct{}
	release chan struct{}
}

// sent returns the calls in the order of their jobs (they may be made in
// parallel).
func (f *fakeSQS) sent() [][]types.SendMessageBatchRequestEntry {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := slices.Clone(f.calls)
	first := func(c []types.SendMessageBatchRequestEntry) int {
		n, _ := strconv.Atoi(aws.ToString(c[0].Id))
		return n
	}
	slices.SortFunc(out, func(a, b []types.SendMessageBatchRequestEntry) int { return first(a) - first(b) })
	return out
}

func (f *fakeSQS) SendMessageBatch(_ context.Context, in *awssqs.SendMessageBatchInput, _ ...func(*awssqs.Options)) (*awssqs.SendMessageBatchOutput, error) {
	if aws.ToString(in.QueueUrl) != "https://sqs.example/dispatch" {
		return nil, fmt.Errorf("unexpected queue %q", aws.ToString(in.QueueUrl))
	}
	f.mu.Lock()
	f.calls = append(f.calls, append([]types.SendMessageBatchRequestEntry(nil), in.Entries...))
	f.mu.Unlock()
	if f.arrived != nil {
		f.arrived <- struct{}{}
		<-f.release
	}
	if f.err != nil {
		return nil, f.err
	}
	out := &awssqs.SendMessageBatchOutput{}
	if f.refuse {
		out.Failed = []types.BatchResultErrorEntry{{Id: in.Entries[0].Id, Code: aws.String("InternalError"), Message: aws.String("try again")}}
	}
	return out, nil
}

func TestEnqueue(t *testing.T) {
	big := strings.Repeat("x", 100<<10)
	bigJob := func(id string) delivery.Job {
		j := job(id)
		j.Recipients[0].Context = toObject(map[string]any{"blob": big})
		return j
	}
	tests := []struct {
		name      string
		jobs      []delivery.Job
		wantCalls []int // entries per SendMessageBatch call
	}{
		{"one job is one call", []delivery.Job{job("u0")}, []int{1}},
		{"twenty jobs are two calls of ten", jobsOf(20), []int{10, 10}},
		{"twenty-one jobs are three calls", jobsOf(21), []int{10, 10, 1}},
		{"large jobs are split by size", []delivery.Job{bigJob("a"), bigJob("b"), bigJob("c")}, []int{2, 1}},
		{"no jobs make no call", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &fakeSQS{}
			if err := sqs.New(api, "https://sqs.example/dispatch").Enqueue(context.Background(), tt.jobs); err != nil {
				t.Fatalf("Enqueue: %v", err)
			}
			var gotCalls []int
			var got []delivery.Job
			for _, c := range api.sent() {
				gotCalls = append(gotCalls, len(c))
				ids := map[string]bool{}
				for _, e := range c {
					if ids[aws.ToString(e.Id)] {
						t.Errorf("entry id %q repeats within one batch", aws.ToString(e.Id))
					}
					ids[aws.ToString(e.Id)] = true
					j, err := delivery.DecodeJob([]byte(aws.ToString(e.MessageBody)))
					if err != nil {
						t.Fatalf("DecodeJob(sent body): %v", err)
					}
					got = append(got, j)
				}
			}
			if diff := cmp.Diff(tt.wantCalls, gotCalls); diff != "" {
				t.Errorf("entries per call (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.jobs, got); diff != "" {
				t.Errorf("sent jobs (-want +got):\n%s", diff)
			}
		})
	}
}

func jobsOf(n int) []delivery.Job {
	out := make([]delivery.Job, n)
	for i := range out {
		out[i] = job(fmt.Sprintf("u%d", i))
	}
	return out
}

func TestEnqueueFails(t *testing.T) {
	down := errors.New("connection refused")
	tests := []struct {
		name      string
		api       *fakeSQS
		jobs      []delivery.Job
		wantCalls int
	}{
		{"a failed call is an error", &fakeSQS{err: down}, jobsOf(3), 1},
		{"a refused entry is an error", &fakeSQS{refuse: true}, jobsOf(3), 1},
		{"a job over SQS's message limit is an error and nothing is sent", &fakeSQS{},
			[]delivery.Job{{Tenant: tenant.Tenant{Org: "acme", Sandbox: "prod"}, ExecutionID: "e", CampaignID: "c", Version: 1,
				Recipients: []delivery.Recipient{{Type: "external", UserID: "u", Namespace: "crmId",
					Context: toObject(map[string]any{"blob": strings.Repeat("x", 300<<10)})}}}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := sqs.New(tt.api, "https://sqs.example/dispatch").Enqueue(context.Background(), tt.jobs)
			if err == nil {
				t.Fatal("Enqueue() error = nil, want an error")
			}
			if tt.api.err != nil && !errors.Is(err, tt.api.err) {
				t.Errorf("Enqueue() error = %v, want it to wrap %v", err, tt.api.err)
			}
			if n := len(tt.api.sent()); n != tt.wantCalls {
				t.Errorf("Enqueue() made %d SendMessageBatch calls, want %d", n, tt.wantCalls)
			}
		})
	}
}

func TestEnqueueSendsTheBatchesAtOnce(t *testing.T) {
	api := &fakeSQS{arrived: make(chan struct{}), release: make(chan struct{})}
	done := make(chan error, 1)
	go func() { done <- sqs.New(api, "https://sqs.example/dispatch").Enqueue(context.Background(), jobsOf(30)) }()
	// All three batches arrive before any is answered: one round trip.
	for i := range 3 {
		select {
		case <-api.arrived:
		case <-time.After(5 * time.Second):
			t.Fatalf("only %d of 3 SendMessageBatch calls under way at once", i)
		}
	}
	close(api.release)
	if err := <-done; err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
}

func TestADelayedJobCarriesItsDelayForTheDispatchLag(t *testing.T) {
	api := &fakeSQS{}
	now, later := job("now"), job("later")
	later.Delay = 90 * time.Second
	if err := sqs.New(api, "https://sqs.example/dispatch").Enqueue(context.Background(), []delivery.Job{now, later}); err != nil {
		t.Fatal(err)
	}
	entries := api.sent()[0]
	if a := entries[0].MessageAttributes; len(a) != 0 {
		t.Errorf("an undelayed job has attributes %v, want none", a)
	}
	a, ok := entries[1].MessageAttributes[delivery.DelayAttribute]
	if !ok || aws.ToString(a.DataType) != "Number" || aws.ToString(a.StringValue) != "90" || entries[1].DelaySeconds != 90 {
		t.Errorf("a job delayed 90 s: DelaySeconds %d, attributes %v; want 90 and %s = 90", entries[1].DelaySeconds, entries[1].MessageAttributes, delivery.DelayAttribute)
	}
}

// toObject is m as a trigger's recipient carries its profile or context
// (decoded once into the engine's object; a map's members in sorted
// order).
func toObject(m map[string]any) render.Object {
	o, err := render.ObjectOf(m)
	if err != nil {
		panic(err)
	}
	return o
}
