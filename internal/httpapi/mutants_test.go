package httpapi_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/infra/mutant"
	"github.com/heraldhq/herald/internal/audience"
	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/contextschema"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/httpapi"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/preview"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/recurrence"
	"github.com/heraldhq/herald/internal/reputation"
	"github.com/heraldhq/herald/internal/suppression"
	"github.com/heraldhq/herald/internal/tenant"
	"github.com/heraldhq/herald/internal/unsubscribe"
	"github.com/heraldhq/herald/internal/webhook"
)

// proofSender records proof sends: what Preview "sent".
type proofSender struct {
	mu   sync.Mutex
	sent int
}

func (p *proofSender) DispatchProof(_ context.Context, job delivery.Job, _ campaign.Version) ([]delivery.Outcome, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent += len(job.Recipients)
	out := make([]delivery.Outcome, len(job.Recipients))
	for i := range out {
		out[i] = delivery.Sent
	}
	return out, nil
}

func (p *proofSender) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent
}

// mutantTarget serves every management and execution route on memory
// fakes, wired as the functions wire them.
type mutantTarget struct {
	store   *memory.Store
	queue   *memory.Queue
	sched   *memory.Scheduler
	proofs  *proofSender
	hooks   *memory.WebhookQueue
	signer  *unsubscribe.Signer
	trigger httpapi.HandlerFunc
	manage  httpapi.HandlerFunc
}

func newMutantTarget(tb testing.TB) *mutantTarget {
	tb.Helper()
	m := &mutantTarget{store: memory.New(), queue: &memory.Queue{}, sched: &memory.Scheduler{}, proofs: &proofSender{}, hooks: &memory.WebhookQueue{}}
	clock := func() time.Time { return now }
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	aud := &execution.AudienceExecutions{Schemas: contextschema.Compiler{}, Records: m.store, Executions: m.store, Campaigns: m.store, Members: m.store, Pacer: m.store,
		Queue: m.queue, Schedules: m.sched, Log: log, Now: clock, InlineBudget: time.Minute}
	svc := &execution.Unitary{Schemas: contextschema.Compiler{}, Store: m.store, Campaigns: m.store, Profiles: m.store, Queue: m.queue, Log: log, Now: clock}
	signer, err := unsubscribe.New("mutant-test-unsubscribe-secret-0000000000")
	if err != nil {
		tb.Fatal(err)
	}
	m.signer = signer
	camps := &campaign.Service{Schemas: contextschema.Compiler{}, Store: m.store, Now: clock, Hooks: &recurrence.CampaignSchedules{Audiences: aud, Recurrences: m.store}}
	m.trigger = httpapi.TriggerWithAudiences(svc, aud, testAccess, log)
	// The email channel is paused, so the seed that lifts it has a pause
	// to lift.
	if _, err := m.store.PauseReputation(context.Background(), tenant.Tenant{Org: "MUT@AdobeOrg", Sandbox: "prod"},
		reputation.Guard{Channel: campaign.Email, Paused: true, Since: now, Reason: "bounce_rate"}); err != nil {
		tb.Fatal(err)
	}
	m.manage = httpapi.Manage(httpapi.ManageDeps{Access: testAccess, Campaigns: camps, Profiles: &profile.Service{Store: m.store, Now: clock},
		Suppressions: &suppression.Service{Store: m.store, Now: clock}, Unsubscribe: signer,
		Preview:     &preview.Service{Campaigns: m.store, Profiles: m.store, Sender: m.proofs, Now: clock},
		Audiences:   &audience.Service{Store: m.store, Now: clock},
		Recurrences: &recurrence.Service{Store: m.store, Campaigns: m.store, Schedules: m.sched, Audiences: aud},
		Webhooks:    &webhook.Service{Store: m.store, Queue: m.hooks, AllowLoopbackHTTP: true, Now: clock},
		Reputation:  &reputation.Service{Store: m.store, Thresholds: reputation.DefaultThresholds, Now: clock}}, log)
	return m
}

// mutantTarget is the mutant.Target of the fakes: a fresh set per tenant,
// so a digest of everything stored stays cheap.
func mutantTargetOf(tb testing.TB) mutant.Target {
	return mutant.Target{Now: now, FreshPerSeed: true, New: func() (mutant.Env, error) { return newMutantTarget(tb).env(), nil }}
}

// env is a tenant of the fakes.
func (m *mutantTarget) env() mutant.Env {
	t := tenant.Tenant{Org: "MUT@AdobeOrg", Sandbox: "prod"}
	key := authorized(t, "hk_mut", "trigger manage read")
	token := m.signer.Token(unsubscribe.Claims{Tenant: t, Channel: "email", Address: "p-1@" + mutant.FixtureDomain, CampaignID: "c"})
	call := func(r mutant.Request) (int, []byte, error) {
		handler := m.manage
		if strings.Contains(r.Route, " /im/") {
			handler = m.trigger
		}
		ev := event(r.Route, string(r.Body), key, r.Params)
		ev.QueryStringParameters = r.Query
		if !utf8.Valid(r.Body) {
			// API Gateway passes a body that is not UTF-8 as base64.
			ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(r.Body), true
		}
		resp, err := handler(context.Background(), ev)
		return resp.StatusCode, []byte(resp.Body), err
	}
	state := func() (string, error) {
		return strings.Join([]string{m.store.Fingerprint(), m.queue.Fingerprint(), m.sched.Fingerprint(), m.hooks.Fingerprint(), fmt.Sprint(m.proofs.count())}, "/"), nil
	}
	return mutant.Env{Call: call, State: state, Values: map[string]string{"$token": token}}
}

// Every seed request is valid on a fresh fixture, so the mutants start
// from requests that reach the services, not the first validation.
func TestMutantSeedsAreValidRequests(t *testing.T) {
	seeds, err := mutant.Seeds()
	if err != nil {
		t.Fatal(err)
	}
	for i, seed := range seeds {
		t.Run(fmt.Sprintf("seed %d %s is accepted", i, seed.Route), func(t *testing.T) {
			env := newMutantTarget(t).env()
			fx, err := mutant.NewFixture(env.Call, now, env.Values)
			if err != nil {
				t.Fatal(err)
			}
			if err := fx.Prepare(env.Call, seed); err != nil {
				t.Fatal(err)
			}
			status, body, err := env.Call(fx.Bind(seed))
			if err != nil {
				t.Fatal(err)
			}
			if status < 200 || status > 299 {
				t.Errorf("status = %d, want 2xx; body %.500s", status, body)
			}
		})
	}
}

// mutantsPerSeed × the seeds (53) is about 13,000 mutants, some 8 s; the
// budget bounds the run on a busy machine.
const (
	mutantsPerSeed = 250
	mutantBudget   = 10 * time.Second
)

// Issue 10: bad input is a 4xx naming the field, never a 5xx, and a
// refused request stores and sends nothing. Mutants of a valid request
// for every route: numbers beyond DynamoDB's range, empty keys, invalid
// UTF-8, lone surrogates, control characters, deep nesting, wrong types,
// corrupted bodies, hostile path and query parameters.
func TestMutantsOfEveryRouteAreNeverServerErrors(t *testing.T) {
	seeds, err := mutant.Seeds()
	if err != nil {
		t.Fatal(err)
	}
	opts := mutant.OptionsFromEnv(mutant.Options{Seed: 20261130, PerSeed: mutantsPerSeed, Budget: mutantBudget})
	if testing.Short() {
		opts.PerSeed /= 4
	}
	rep, err := mutant.Run(mutantTargetOf(t), seeds, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d mutants tried in %s: %d accepted, %d refused, %d 5xx", rep.Tried, rep.Elapsed.Round(time.Millisecond), rep.Accepted, rep.Refused, rep.ServerErrors)
	for _, f := range rep.Failures {
		t.Error(f)
	}
	if rep.ServerErrors > 0 {
		t.Errorf("%d mutants were answered with a 5xx, want none", rep.ServerErrors)
	}
}

// FuzzRoutes explores beyond the fixed corpus with go test -fuzz: each
// input picks a seed request and the seed of its mutations.
func FuzzRoutes(f *testing.F) {
	seeds, err := mutant.Seeds()
	if err != nil {
		f.Fatal(err)
	}
	for i := range seeds {
		f.Add(uint16(i), uint64(i))
	}
	env := newMutantTarget(f).env()
	fx, err := mutant.NewFixture(env.Call, now, env.Values)
	if err != nil {
		f.Fatal(err)
	}
	call, state := env.Call, env.State
	f.Fuzz(func(t *testing.T, which uint16, seed uint64) {
		mu := mutant.New(seed)
		req := fx.Bind(mu.Mutate(seeds[int(which)%len(seeds)]))
		before, _ := state()
		status, body, err := call(req)
		if err != nil {
			t.Fatal(err)
		}
		switch after, _ := state(); {
		case status >= 500:
			t.Fatalf("%s (%s): %d %.300s", req.Route, mu.Describe(), status, body)
		case status >= 400 && after != before:
			t.Fatalf("%s (%s): refused with %d, yet something was stored or sent", req.Route, mu.Describe(), status)
		}
	})
}
