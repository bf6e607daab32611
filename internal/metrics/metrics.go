// Package metrics records Herald's operational metrics and writes them as
// CloudWatch embedded metric format (EMF) lines: JSON objects that
// CloudWatch Logs turns into metrics of the namespace Herald when it reads
// the function's log. No PutMetricData call is made; a line costs a write
// to the log.
//
// A Recorder aggregates what one invocation records — counts are summed,
// durations kept as value arrays of at most 100 values (EMF's limit per
// line) — and Flush writes one line per set of dimension values. Domain
// packages record through small ports they declare (delivery.Metrics,
// …), which *Recorder meets; a nil *Recorder records nothing.
//
// Dimensions are bounded words (a channel, an outcome kind, an error code,
// a function name); never an address, a phone number, a token, a body or
// a context value. The tenant and the campaign are dimensions only when
// the deployment opts in (MetricsTenantDimension); otherwise they are
// dropped before anything is kept. docs/operations.md lists every metric.
package metrics

import (
	"bytes"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/tenant"
)

// Namespace is the CloudWatch namespace of every Herald metric.
const Namespace = "Herald"

// Unit is a CloudWatch unit.
type Unit string

// The units Herald's metrics use.
const (
	Count        Unit = "Count"
	Milliseconds Unit = "Milliseconds"
	CountPerSec  Unit = "Count/Second"
)

// Metric names a metric and says how it aggregates.
type Metric struct {
	Name string
	Unit Unit
	// Distribution keeps every value (up to 100 per line) instead of
	// their sum: latencies, rates.
	Distribution bool
	// Rollup also publishes the metric with the Function dimension alone,
	// which the alarms watch (a sum over every channel).
	Rollup bool
}

// Herald's metrics (docs/operations.md).
var (
	// Triggers counts execution API calls by route, status and outcome
	// (accepted: 2xx; refused: anything else). Trigger function.
	Triggers = Metric{Name: "Triggers", Unit: Count}
	// Recipients counts recipients' final outcomes by channel and
	// outcome kind (sent, excluded, failed, ambiguous). Dispatch,
	// DeadLetter and Manage (proofs).
	Recipients = Metric{Name: "Recipients", Unit: Count}
	// ProviderErrors counts provider calls that failed, by channel and
	// error code.
	ProviderErrors = Metric{Name: "ProviderErrors", Unit: Count}
	// AmbiguousSends counts sends whose answer never came or was a 5xx:
	// recorded ambiguous, never re-sent blindly.
	AmbiguousSends = Metric{Name: "AmbiguousSends", Unit: Count, Rollup: true}
	// SendLatency is one provider call, in milliseconds.
	SendLatency = Metric{Name: "SendLatency", Unit: Milliseconds, Distribution: true}
	// DispatchLag is from the SQS message's SentTimestamp to the send, in
	// milliseconds (a paced job's delay included).
	DispatchLag = Metric{Name: "DispatchLag", Unit: Milliseconds, Distribution: true, Rollup: true}
	// FanOutRate is an audience fan-out's members queued per second.
	FanOutRate = Metric{Name: "FanOutRate", Unit: CountPerSec, Distribution: true}
	// FeedbackEvents counts provider events heard back, by channel and
	// type (delivered, bounced, complained, opened, clicked, …).
	FeedbackEvents = Metric{Name: "FeedbackEvents", Unit: Count}
	// WebhookDeliveries counts feedback webhook attempts by result.
	WebhookDeliveries = Metric{Name: "WebhookDeliveries", Unit: Count}
)

// All is every metric, for the docs' test and the dashboard's.
var All = []Metric{Triggers, Recipients, ProviderErrors, AmbiguousSends, SendLatency, DispatchLag, FanOutRate, FeedbackEvents, WebhookDeliveries}

// Dims are a value's dimensions; an empty field is no dimension. Every
// field holds a bounded word chosen by Herald's code.
type Dims struct {
	Channel string
	Outcome string
	Code    string
	Type    string
	Result  string
	Route   string
	Status  string
	// Tenant and Campaign are kept only when the recorder was made with
	// tenant dimensions on.
	Tenant   tenant.Tenant
	Campaign string
}

// each calls fn with the name and value of every dimension d sets, in
// the order of a line's members; Tenant and Campaign are written apart.
func (d Dims) each(fn func(name, value string)) {
	for _, p := range [...]struct{ n, v string }{{"Channel", d.Channel}, {"Outcome", d.Outcome}, {"Code", d.Code},
		{"Type", d.Type}, {"Result", d.Result}, {"Route", d.Route}, {"Status", d.Status}} {
		if p.v != "" {
			fn(p.n, p.v)
		}
	}
}

type key struct {
	metric string
	dims   Dims
}

type value struct {
	m      Metric
	sum    float64
	values []float64
}

// Recorder aggregates the metrics of one function's invocations until
// Flush. It is safe for concurrent use; a nil *Recorder records nothing.
type Recorder struct {
	w        io.Writer
	function string
	tenants  bool
	level    string
	now      func() time.Time

	mu     sync.Mutex
	values map[key]*value
	order  []key
	buf    bytes.Buffer
}

// New returns a recorder writing EMF lines to w (stdout in Lambda) with
// the Function dimension function; tenants keeps the Tenant and Campaign
// dimensions.
func New(w io.Writer, function string, tenants bool) *Recorder {
	return &Recorder{w: w, function: function, tenants: tenants, level: "INFO", values: map[key]*value{}}
}

// SetLevel sets the level member of every line (default INFO). Lambda's
// JSON log format filters application lines by their level, and gives a
// line without one INFO: a function logging at WARN would drop its
// metrics. The functions set the level they log at, so metrics always
// pass.
func (r *Recorder) SetLevel(level string) { r.level = level }

// SetClock sets the clock of the lines' timestamps (tests).
func (r *Recorder) SetClock(now func() time.Time) { r.now = now }

// Add records v of m with dims d: added to the sum of a count, kept as
// one more value of a distribution.
func (r *Recorder) Add(m Metric, v float64, d Dims) {
	if r == nil {
		return
	}
	if !r.tenants {
		d.Tenant, d.Campaign = tenant.Tenant{}, ""
	}
	k := key{metric: m.Name, dims: d}
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.values[k]
	if e == nil {
		e = &value{m: m}
		r.values[k] = e
		r.order = append(r.order, k)
	}
	if m.Distribution {
		e.values = append(e.values, v)
	} else {
		e.sum += v
	}
}

// Duration records d in milliseconds.
func (r *Recorder) Duration(m Metric, d time.Duration, dims Dims) {
	r.Add(m, float64(d.Microseconds())/1000, dims)
}

// maxValues is EMF's limit on the values of one metric in one line.
const maxValues = 100

// Flush writes what was recorded since the last Flush, one line per set
// of dimension values (a distribution over 100 values takes more lines),
// and forgets it. It returns the writer's error.
func (r *Recorder) Flush() error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.order) == 0 {
		return nil
	}
	now := time.Now
	if r.now != nil {
		now = r.now
	}
	at := now()
	// Group by dimensions, in the order first recorded.
	groups := map[Dims][]*value{}
	var dims []Dims
	for _, k := range r.order {
		if _, ok := groups[k.dims]; !ok {
			dims = append(dims, k.dims)
		}
		groups[k.dims] = append(groups[k.dims], r.values[k])
	}
	var err error
	for _, d := range dims {
		vs := groups[d]
		for part := 0; ; part++ {
			r.buf.Reset()
			more := r.line(&r.buf, at, d, vs, part)
			if _, werr := r.w.Write(r.buf.Bytes()); werr != nil && err == nil {
				err = werr
			}
			if !more {
				break
			}
		}
	}
	clear(r.values)
	r.order = r.order[:0]
	return err
}

// line writes the part-th line of the values vs of dimensions d (part > 0
// holds only distributions' values past the first 100s) and reports
// whether another part is needed.
func (r *Recorder) line(b *bytes.Buffer, at time.Time, d Dims, vs []*value, part int) bool {
	base := []string{}
	if r.function != "" {
		base = append(base, "Function")
	}
	d.each(func(n, _ string) { base = append(base, n) })
	sets := [][]string{base}
	if d.Tenant != (tenant.Tenant{}) {
		t := append(slices.Clone(base), "Tenant")
		if d.Campaign != "" {
			t = append(t, "Campaign")
		}
		sets = append(sets, t)
	}
	type def struct {
		Name string `json:"Name"`
		Unit Unit   `json:"Unit"`
	}
	type directive struct {
		Namespace  string     `json:"Namespace"`
		Dimensions [][]string `json:"Dimensions"`
		Metrics    []def      `json:"Metrics"`
	}
	var defs, rolled []def
	more := false
	type member struct {
		name string
		v    any
	}
	var members []member
	for _, v := range vs {
		var val any
		switch {
		case v.m.Distribution:
			lo := part * maxValues
			if lo >= len(v.values) {
				continue
			}
			hi := min(lo+maxValues, len(v.values))
			if hi < len(v.values) {
				more = true
			}
			if hi-lo == 1 {
				val = v.values[lo]
			} else {
				val = v.values[lo:hi]
			}
		case part > 0:
			continue
		default:
			val = v.sum
		}
		defs = append(defs, def{Name: v.m.Name, Unit: v.m.Unit})
		if v.m.Rollup && r.function != "" && len(base) > 1 {
			rolled = append(rolled, def{Name: v.m.Name, Unit: v.m.Unit})
		}
		members = append(members, member{v.m.Name, val})
	}
	dirs := []directive{{Namespace: Namespace, Dimensions: sets, Metrics: defs}}
	if len(rolled) > 0 {
		dirs = append(dirs, directive{Namespace: Namespace, Dimensions: [][]string{{"Function"}}, Metrics: rolled})
	}
	aws, _ := json.Marshal(struct {
		Timestamp         int64       `json:"Timestamp"`
		CloudWatchMetrics []directive `json:"CloudWatchMetrics"`
	}{at.UnixMilli(), dirs})
	b.WriteString(`{"_aws":`)
	b.Write(aws)
	str := func(n, v string) {
		b.WriteByte(',')
		q, _ := json.Marshal(n)
		b.Write(q)
		b.WriteByte(':')
		q, _ = json.Marshal(v)
		b.Write(q)
	}
	// Lambda's JSON log format reads these two (see SetLevel); EMF
	// ignores members it does not name.
	str("level", r.level)
	str("timestamp", at.UTC().Format(time.RFC3339Nano))
	if r.function != "" {
		str("Function", r.function)
	}
	d.each(str)
	if d.Tenant != (tenant.Tenant{}) {
		str("Tenant", d.Tenant.String())
		if d.Campaign != "" {
			str("Campaign", d.Campaign)
		}
	}
	for _, m := range members {
		b.WriteByte(',')
		q, _ := json.Marshal(m.name)
		b.Write(q)
		b.WriteByte(':')
		switch v := m.v.(type) {
		case float64:
			b.WriteString(strconv.FormatFloat(v, 'f', -1, 64))
		default:
			q, _ = json.Marshal(v)
			b.Write(q)
		}
	}
	b.WriteString("}\n")
	return more
}
