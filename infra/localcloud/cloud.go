package localcloud

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/heraldhq/herald/infra/faultproxy"
	"github.com/heraldhq/herald/infra/motoserver"
	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/app/httpapp"
	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/schedule"
	"github.com/heraldhq/herald/internal/tracing"
	"github.com/heraldhq/herald/internal/wiring/deadletter"
	"github.com/heraldhq/herald/internal/wiring/dispatch"
	"github.com/heraldhq/herald/internal/wiring/feedback"
	"github.com/heraldhq/herald/internal/wiring/manage"
	"github.com/heraldhq/herald/internal/wiring/scheduler"
	"github.com/heraldhq/herald/internal/wiring/trigger"
	"github.com/heraldhq/herald/internal/wiring/webhook"
)

// Binding ties a template function to its code: the main package the
// Makefile builds for Lambda and the app constructor the local cloud
// calls in process.
type Binding struct {
	// Package is the function's main package, as the Makefile builds it.
	Package string
	bind    func(a *app.App, h *Handlers, id string) error
}

// Bindings are Herald's functions by template logical ID. A function added
// to template.yaml needs an entry here (and a build target in the
// Makefile) before the local cloud can run it.
var Bindings = map[string]Binding{
	"TriggerFunction": {Package: "./functions/trigger", bind: func(a *app.App, h *Handlers, id string) error {
		trigger.Use(a)
		fn, err := httpapp.TriggerHandler(a)
		if err != nil {
			return err
		}
		h.HTTP[id] = HTTPHandler(fn)
		ev, err := httpapp.TriggerEventHandler(a)
		if err != nil {
			return err
		}
		h.Events[id] = EventHandler(ev)
		return nil
	}},
	"SchedulerFunction": {Package: "./functions/scheduler", bind: func(a *app.App, h *Handlers, id string) error {
		scheduler.Use(a)
		run, err := a.SchedulerHandler()
		if err != nil {
			return err
		}
		h.Events[id] = func(ctx context.Context, raw json.RawMessage) (any, error) {
			var in schedule.Input
			if err := json.Unmarshal(raw, &in); err != nil {
				return nil, fmt.Errorf("schedule input: %w", err)
			}
			return nil, run(ctx, in)
		}
		// The deferral queue's batches (the template's SQS event).
		deferrals, err := a.DeferralsHandler()
		if err != nil {
			return err
		}
		h.SQS[id] = deferrals
		return nil
	}},
	"ManageFunction": {Package: "./functions/manage", bind: func(a *app.App, h *Handlers, id string) error {
		manage.Use(a)
		fn, err := httpapp.ManageHandler(a)
		if err != nil {
			return err
		}
		h.HTTP[id] = HTTPHandler(fn)
		return nil
	}},
	"DispatchFunction": {Package: "./functions/dispatch", bind: func(a *app.App, h *Handlers, id string) error {
		dispatch.Use(a)
		fn, err := a.DispatchHandler()
		if err != nil {
			return err
		}
		h.SQS[id] = fn
		return nil
	}},
	"DeadLetterFunction": {Package: "./functions/deadletter", bind: func(a *app.App, h *Handlers, id string) error {
		deadletter.Use(a)
		fn, err := a.DeadLetterHandler()
		if err != nil {
			return err
		}
		h.SQS[id] = fn
		return nil
	}},
	"FeedbackFunction": {Package: "./functions/feedback", bind: func(a *app.App, h *Handlers, id string) error {
		feedback.Use(a)
		fn, err := a.FeedbackHandler()
		if err != nil {
			return err
		}
		h.Events[id] = func(ctx context.Context, raw json.RawMessage) (any, error) { return fn(ctx, raw) }
		return nil
	}},
	"ReportsFunction": {Package: "./functions/reports", bind: func(a *app.App, h *Handlers, id string) error {
		h.Streams[id] = a.ReportsHandler()
		return nil
	}},
	"WebhookFunction": {Package: "./functions/webhook", bind: func(a *app.App, h *Handlers, id string) error {
		webhook.Use(a)
		fn, err := a.WebhookHandler()
		if err != nil {
			return err
		}
		h.SQS[id] = fn
		return nil
	}},
}

// DefaultParameters are the template parameters the local cloud deploys
// with unless Options override them. Configurations may send as the demo
// domain and its subdomains (the tests give each tenant one of its own),
// and through any platform application of moto's account.
var DefaultParameters = map[string]string{"SenderIdentity": DemoSenderDomain, "PushApplicationNames": "*", "UnsubscribeSecret": DemoUnsubscribeSecret,
	// EventBridge events and schedules invoking Trigger act for the demo
	// tenant locally.
	"EventOrg": DemoOrg, "EventSandbox": DemoSandbox}

// DemoUnsubscribeSecret keys the local cloud's unsubscribe tokens. It is
// public: never deploy with it.
const DemoUnsubscribeSecret = "local-unsubscribe-secret-not-for-production-0000"

// Options configures Start.
type Options struct {
	// TemplatePath is the SAM template; default "template.yaml".
	TemplatePath string
	// Addr is where the HTTP API listens; default 127.0.0.1:3000, and
	// "127.0.0.1:0" picks a free port (tests).
	Addr string
	// MotoURL is a running moto to use; empty starts one (on MotoPort, or
	// a free port when MotoPort is 0) that Close stops.
	MotoURL  string
	MotoPort int
	// MotoOutput receives the request log of a moto this cloud starts.
	MotoOutput io.Writer
	// Parameters override template parameters (DefaultParameters first).
	Parameters map[string]string
	// Log receives the cloud's and the handlers' logs; default discards.
	Log *slog.Logger
	// Metrics receives the functions' EMF lines (docs/operations.md) as
	// a Lambda's stdout would; nil puts each into Log, as a "metrics"
	// line whose emf member is the line.
	Metrics io.Writer
	// ManualPolling turns off the background SQS pollers and schedule
	// firing: queue messages are then processed only by Drain and
	// schedules fire only by FireDueSchedules, which makes tests
	// deterministic.
	ManualPolling bool
	// Now is the clock of the handlers and of schedule firing; nil is the
	// wall clock. Tests move it by hand instead of sleeping.
	Now func() time.Time
	// Timing overrides the template's delivery timing (FastTiming for
	// tests).
	Timing *Timing
	// FaultPlan, when set, puts a fault proxy (Cloud.Faults) between
	// every SDK client and moto, starting with the plan's rules.
	FaultPlan *faultproxy.Plan
	// NoSESEvents turns the mailbox simulator off (see SimulatorDomain):
	// no SES event reaches the Feedback function. For suites that count
	// only sends at volume (moto answers the Feedback function's index
	// query by scanning the table) and fault suites, whose faults must
	// hit the calls they aim at.
	NoSESEvents bool
	// NoStreams leaves the table's stream unread: the Reports function
	// never runs, so campaign reports count no sends. For volume suites
	// that read no campaign report (moto answers GetRecords slowly when
	// records hold large counter items: the 2,500-member audience test
	// takes 85 s without, 160 s with) and fault suites, whose faults must
	// hit the calls they aim at.
	NoStreams bool
	// Contract, when set, sees every request the HTTP API answers and its
	// response (the OpenAPI contract tests); RunSuite reports its verdict.
	Contract Contract
	// Tracer, when set, traces every invocation as Lambda does with
	// active tracing, every one sampled: the function's segment and
	// Herald's subsegments go to it (docs/operations.md#tracing).
	Tracer *tracing.Tracer
}

// Cloud is a running local Herald: moto with the template's resources, the
// HTTP API and the SQS pollers.
type Cloud struct {
	// URL is the HTTP API's base URL, "http://127.0.0.1:3000".
	URL string
	// Moto is the moto server holding every resource.
	Moto *motoserver.Server
	// Faults is the fault proxy in front of moto (Options.FaultPlan), and
	// FaultsURL its address; nil and "" without a plan.
	Faults    *faultproxy.Proxy
	FaultsURL string
	// Stack is the parsed template.
	Stack *Stack
	// Provisioned says which of the stack's resources Start found in moto
	// (a local cloud already ran there) and which it created.
	Provisioned Provisioned
	// AWS is the SDK configuration pointed at Moto.
	AWS aws.Config
	// Config merges every function's configuration (table, dispatch
	// queue, configuration set, what configurations may send through);
	// App is built from it, for tests and seeding (App.Keys to mint keys,
	// say).
	Config config.Config
	App    *app.App
	// Functions are the apps the handlers were built from, by logical
	// ID (each with its function's environment).
	Functions map[string]*app.App
	// Handlers are the in-process functions, each built with its own
	// function's environment from the template.
	Handlers Handlers
	Pollers  []*Poller
	// StreamPollers read the table's stream for the functions behind it.
	StreamPollers []*StreamPoller

	log *slog.Logger
	now func() time.Time
	// metrics receives the functions' EMF lines (Options.Metrics).
	metrics   io.Writer
	mailbox   *mailbox
	firing    firingState
	ownMoto   bool
	server    *http.Server
	faultSrv  *http.Server
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// Start brings the local cloud up: moto, resources, handlers, gateway and
// pollers. ctx bounds only the start; Close stops everything.
func Start(ctx context.Context, opts Options) (_ *Cloud, err error) {
	if opts.TemplatePath == "" {
		opts.TemplatePath = "template.yaml"
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:3000"
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	c := &Cloud{log: opts.Log, now: opts.Now, metrics: opts.Metrics}
	if c.metrics == nil {
		c.metrics = logWriter{c.log}
	}
	if c.now == nil {
		c.now = time.Now
	}
	defer func() {
		if err != nil {
			_ = c.Close()
		}
	}()

	if opts.MotoURL == "" {
		c.Moto, err = motoserver.Start(ctx, motoserver.Options{Port: opts.MotoPort, Output: opts.MotoOutput})
		if err != nil {
			return nil, err
		}
		c.ownMoto = true
	} else {
		c.Moto = motoserver.Connect(opts.MotoURL)
		if err := c.Moto.Ping(ctx); err != nil {
			return nil, fmt.Errorf("moto at %s: %w", opts.MotoURL, err)
		}
	}
	c.AWS = c.Moto.AWSConfig()
	if opts.FaultPlan != nil {
		if err := c.startFaults(*opts.FaultPlan); err != nil {
			return nil, err
		}
	}

	params := maps.Clone(DefaultParameters)
	maps.Copy(params, opts.Parameters)
	c.Stack, err = LoadStack(opts.TemplatePath, StackOptions{MotoURL: c.Moto.URL(), Region: motoserver.Region, AccountID: motoserver.AccountID, Parameters: params})
	if err != nil {
		return nil, err
	}
	if opts.Timing != nil {
		if err := opts.Timing.Apply(c.Stack); err != nil {
			return nil, err
		}
	}
	if err := CheckDeliveryTiming(c.Stack); err != nil {
		return nil, err
	}
	if c.Provisioned, err = provision(ctx, c.AWS, c.Stack); err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	c.URL = "http://" + l.Addr().String()
	// Links Herald puts in messages (one-click unsubscribe) must reach
	// this gateway, not the API Gateway URL the template would give.
	for _, f := range c.Stack.Functions {
		if _, ok := f.Env["HERALD_PUBLIC_URL"]; ok {
			f.Env["HERALD_PUBLIC_URL"] = c.URL
		}
		// Feedback webhooks may call a receiver on this machine
		// (127.0.0.0/8, http:// too); deployed, never.
		f.Env["HERALD_WEBHOOK_ALLOW_LOOPBACK"] = "true"
	}
	if !opts.NoSESEvents {
		c.mailbox = &mailbox{now: c.now, log: c.log.With("component", "mailbox"), endpoints: awssns.NewFromConfig(c.Moto.AWSConfig())}
	}
	if err := c.buildHandlers(opts.Now, opts.Tracer); err != nil {
		l.Close()
		return nil, err
	}
	if c.mailbox != nil {
		c.mailbox.deliver = c.Handlers.Events["FeedbackFunction"]
		if c.Config.ConfigurationSetUntracked != c.Config.ConfigurationSet {
			c.mailbox.clicksSet, c.mailbox.untrackedSet = c.Config.ConfigurationSetClicks, c.Config.ConfigurationSetUntracked
		}
	}

	gw, err := NewGateway(c.Stack, c.Handlers, c.log.With("component", "gateway"))
	if err != nil {
		l.Close()
		return nil, err
	}
	gw.contract = opts.Contract
	c.server = &http.Server{Handler: c.withOutbox(gw), ReadHeaderTimeout: 10 * time.Second}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		if err := c.server.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			c.log.Error("gateway stopped", "error", err)
		}
	}()

	client := sqs.NewFromConfig(c.AWS)
	ddb, streams := dynamodb.NewFromConfig(c.AWS), dynamodbstreams.NewFromConfig(c.AWS)
	for _, id := range slices.Sorted(maps.Keys(c.Stack.Functions)) {
		f := c.Stack.Functions[id]
		for _, src := range f.SQS {
			p, err := NewPoller(client, c.Stack, f, src, c.Handlers.SQS[id], c.log.With("component", "poller"))
			if err != nil {
				return nil, err
			}
			c.Pollers = append(c.Pollers, p)
		}
		for _, src := range f.DynamoDB {
			if opts.NoStreams {
				break
			}
			p, err := NewStreamPoller(ddb, streams, c.Stack, f, src, c.Handlers.Streams[id], c.log.With("component", "streams"))
			if err != nil {
				return nil, err
			}
			c.StreamPollers = append(c.StreamPollers, p)
		}
	}
	var pctx context.Context
	pctx, c.cancel = context.WithCancel(context.Background())
	if !opts.ManualPolling {
		for _, p := range c.Pollers {
			c.wg.Add(1)
			go func() {
				defer c.wg.Done()
				p.Run(pctx)
			}()
		}
		for _, p := range c.StreamPollers {
			c.wg.Add(1)
			go func() {
				defer c.wg.Done()
				p.Run(pctx, 250*time.Millisecond)
			}()
		}
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.runSchedules(pctx)
		}()
		if c.mailbox != nil {
			c.wg.Add(1)
			go func() {
				defer c.wg.Done()
				c.mailbox.run(pctx, 250*time.Millisecond)
			}()
		}
	}
	c.log.Info("local cloud ready", "url", c.URL, "moto", c.Moto.URL(), "routes", len(c.Stack.Routes), "pollers", len(c.Pollers),
		"resourcesFound", len(c.Provisioned.Found), "resourcesCreated", len(c.Provisioned.Created))
	return c, nil
}

// startFaults runs a fault proxy in front of moto and points the SDK
// configuration at it, with its client-side faults in the transport.
func (c *Cloud) startFaults(plan faultproxy.Plan) error {
	fp, err := faultproxy.New(c.Moto.URL(), plan)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("fault proxy: %w", err)
	}
	c.Faults, c.FaultsURL = fp, "http://"+l.Addr().String()
	c.faultSrv = &http.Server{Handler: fp, ReadHeaderTimeout: 10 * time.Second}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		if err := c.faultSrv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			c.log.Error("fault proxy stopped", "error", err)
		}
	}()
	c.AWS.BaseEndpoint = aws.String(c.FaultsURL)
	c.AWS.HTTPClient = &http.Client{Transport: fp.Transport(http.DefaultTransport.(*http.Transport).Clone())}
	c.log.Info("fault proxy in front of moto", "url", c.FaultsURL, "rules", len(plan.Rules))
	return nil
}

// FunctionConfig is the configuration a function reads from the
// environment the template gives it.
func (c *Cloud) FunctionConfig(id string) (config.Config, error) {
	f, ok := c.Stack.Functions[id]
	if !ok {
		return config.Config{}, fmt.Errorf("no function %s in the template", id)
	}
	cfg, err := config.Load(func(k string) string { return f.Env[k] })
	if err != nil {
		return config.Config{}, fmt.Errorf("%s: %w", id, err)
	}
	return cfg, nil
}

func (c *Cloud) buildHandlers(now func() time.Time, tracer *tracing.Tracer) error {
	c.Handlers = Handlers{HTTP: map[string]HTTPHandler{}, Authorizers: map[string]AuthorizerHandler{}, SQS: map[string]SQSHandler{},
		Streams: map[string]StreamHandler{}, Events: map[string]EventHandler{}}
	c.Functions = map[string]*app.App{}
	for _, id := range slices.Sorted(maps.Keys(c.Stack.Functions)) {
		b, ok := Bindings[id]
		if !ok {
			return fmt.Errorf("function %s has no local binding: add it to localcloud.Bindings", id)
		}
		cfg, err := c.FunctionConfig(id)
		if err != nil {
			return err
		}
		a := app.New(cfg, c.AWS, c.log.With("function", id))
		a.SetMetrics(app.NewMetrics(c.metrics, FunctionName(id), cfg))
		c.Functions[id] = a
		if now != nil {
			a.SetClock(now)
		}
		if c.mailbox != nil {
			a.SetSendObserver(c.mailbox)
		}
		a.SetTracer(tracer)
		if err := b.bind(a, &c.Handlers, id); err != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
		c.Handlers.traced(tracer, id)
		c.Config.Table = cmp.Or(c.Config.Table, cfg.Table)
		c.Config.DispatchQueueURL = cmp.Or(c.Config.DispatchQueueURL, cfg.DispatchQueueURL)
		c.Config.ConfigurationSet = cmp.Or(c.Config.ConfigurationSet, cfg.ConfigurationSet)
		c.Config.ConfigurationSetClicks = cmp.Or(c.Config.ConfigurationSetClicks, cfg.ConfigurationSetClicks)
		c.Config.ConfigurationSetUntracked = cmp.Or(c.Config.ConfigurationSetUntracked, cfg.ConfigurationSetUntracked)
		c.Config.LogLevel = cfg.LogLevel
		c.Config.Scheduler = cmp.Or(c.Config.Scheduler, cfg.Scheduler)
		c.Config.UnsubscribeSecret = cmp.Or(c.Config.UnsubscribeSecret, cfg.UnsubscribeSecret)
		c.Config.PublicURL = cmp.Or(c.Config.PublicURL, cfg.PublicURL)
		c.Config.SenderIdentity = cmp.Or(c.Config.SenderIdentity, cfg.SenderIdentity)
		c.Config.PushApplications = cmp.Or(c.Config.PushApplications, cfg.PushApplications)
		c.Config.Webhook.QueueURL = cmp.Or(c.Config.Webhook.QueueURL, cfg.Webhook.QueueURL)
		c.Config.Webhook.AllowLoopbackHTTP = c.Config.Webhook.AllowLoopbackHTTP || cfg.Webhook.AllowLoopbackHTTP
	}
	c.App = app.New(c.Config, c.AWS, c.log)
	if now != nil {
		c.App.SetClock(now)
	}
	// Tests dispatch, trigger and manage through c.App as the functions
	// would: every client.
	manage.Use(c.App)
	dispatch.Use(c.App)
	return nil
}

// Drain processes every queue's messages until all queues are empty (see
// Poller.Drain), again after a queue moved messages to a dead-letter
// queue drained before it, hands the simulated SES events of what was
// sent to the Feedback function, and reads the table's stream to its end
// (StreamPoller.Drain: campaign report counters). Tests call it after a trigger to see what
// was sent and heard back.
func (c *Cloud) Drain(ctx context.Context) error {
	for {
		total := 0
		for _, p := range c.Pollers {
			n, err := p.drain(ctx)
			if err != nil {
				return err
			}
			total += n
		}
		if c.mailbox != nil {
			total += c.mailbox.flush(ctx)
		}
		for _, p := range c.StreamPollers {
			n, err := p.drain(ctx)
			if err != nil {
				return err
			}
			total += n
		}
		if total == 0 {
			return nil
		}
	}
}

// Close stops the gateway and the pollers, then moto if Start started it.
func (c *Cloud) Close() error {
	c.closeOnce.Do(func() {
		if c.server != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			c.closeErr = c.server.Shutdown(ctx)
			cancel()
		}
		if c.cancel != nil {
			c.cancel()
		}
		if c.faultSrv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_ = c.faultSrv.Shutdown(ctx)
			cancel()
		}
		c.wg.Wait()
		if c.ownMoto {
			if err := c.Moto.Close(); err != nil && c.closeErr == nil {
				c.closeErr = err
			}
		}
	})
	return c.closeErr
}

// Call sends one request to the local HTTP API, as a client of the
// deployed API would, and returns the status, headers and body. body is
// sent as is when it is a string or []byte, as JSON otherwise, and not at
// all when nil.
func (c *Cloud) Call(method, path string, headers map[string]string, body any) (int, http.Header, []byte, error) {
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return 0, nil, nil, err
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, c.URL+path, r)
	if err != nil {
		return 0, nil, nil, err
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, out, err
}
