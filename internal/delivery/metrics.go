package delivery

import (
	"time"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/metrics"
)

// Metrics records the operators' metrics of the send path
// (*metrics.Recorder, which aggregates them per invocation and writes
// them as EMF log lines). Recording never fails and never blocks on I/O.
type Metrics interface {
	Add(m metrics.Metric, v float64, d metrics.Dims)
}

// metric records v of m when the dispatcher has Metrics.
func (d *Dispatcher) metric(m metrics.Metric, v float64, dims metrics.Dims) {
	if d.Metrics != nil {
		d.Metrics.Add(m, v, dims)
	}
}

// sendMetrics records one provider call: its latency, the job's dispatch
// lag at the call (from the message's SentTimestamp and its deliberate
// delay, when the queue told them) and, for a failed call, its code.
func (d *Dispatcher) sendMetrics(job Job, ch campaign.Channel, started time.Time, took time.Duration, se *SendError) {
	if d.Metrics == nil {
		return
	}
	dims := metrics.Dims{Channel: string(ch)}
	d.Metrics.Add(metrics.SendLatency, ms(took), dims)
	if sent := job.Receipt.Sent; !sent.IsZero() {
		d.Metrics.Add(metrics.DispatchLag, ms(max(started.Sub(sent.Add(job.Receipt.Delay)), 0)), dims)
	}
	if se == nil {
		return
	}
	d.Metrics.Add(metrics.ProviderErrors, 1, metrics.Dims{Channel: string(ch), Code: se.Code, Type: se.Failure.String()})
	if se.Failure == Uncertain {
		d.Metrics.Add(metrics.AmbiguousSends, 1, dims)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// recorded counts one recipient's (or device's) final outcome, when this
// delivery is the one that recorded it in the ledger: a redelivery that
// only reads it counts nothing. Proofs are not counted.
func (d *Dispatcher) recorded(job Job, ch campaign.Channel, o Outcome) {
	if d.Metrics == nil || job.Proof {
		return
	}
	d.Metrics.Add(metrics.Recipients, 1, metrics.Dims{Channel: string(ch), Outcome: o.Kind(), Tenant: job.Tenant, Campaign: job.CampaignID})
}

// outcomeMetrics counts the outcomes a dead-lettered job's recipients were
// closed with, one value per outcome kind.
func (d *Dispatcher) outcomeMetrics(job Job, ch campaign.Channel, kinds map[string]int) {
	if d.Metrics == nil || job.Proof {
		return
	}
	for k, n := range kinds {
		d.Metrics.Add(metrics.Recipients, float64(n), metrics.Dims{Channel: string(ch), Outcome: k, Tenant: job.Tenant, Campaign: job.CampaignID})
	}
}
