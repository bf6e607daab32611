package status

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/feedback"
	"github.com/heraldhq/herald/internal/tally"
	"github.com/heraldhq/herald/internal/tenant"
)

// ReportsStore reads the report counters the Feedback and Reports
// functions keep.
type ReportsStore interface {
	// ExecutionFeedback sums an execution's feedback counters.
	ExecutionFeedback(ctx context.Context, t tenant.Tenant, exec string) (map[string]int64, error)
	// CampaignFeedback sums a campaign's all-time feedback counters and
	// those of each hour from since on.
	CampaignFeedback(ctx context.Context, t tenant.Tenant, campaignID string, since time.Time) (map[string]int64, map[time.Time]map[string]int64, error)
	// CampaignOutcomes sums a campaign's send counts (recipients
	// targeted, and by outcome, as the Reports function keeps them from
	// its executions' counters), all-time and of each hour from since on.
	CampaignOutcomes(ctx context.Context, t tenant.Tenant, campaignID string, since time.Time) (tally.Delta, map[time.Time]tally.Delta, error)
	// VariantCounts sums an execution's send counts per variant
	// (delivery.VariantCount names).
	VariantCounts(ctx context.Context, t tenant.Tenant, exec string) (map[string]int64, error)
}

// Report is the body of GET /executions/{id}/report and
// GET /campaigns/{id}/report.
type Report struct {
	CampaignID  string `json:"campaignId"`
	ExecutionID string `json:"executionId,omitempty"`
	// Complete is always true: a campaign report counts every execution
	// (kept for clients of the earlier report, which summed only the most
	// recent 500).
	Complete bool `json:"complete"`
	// Targeted is how many recipients the execution had, or (campaign
	// report) how many of the campaign's recipients have an outcome; the
	// rest count them by outcome (an ambiguous send an SES event
	// confirmed counts as sent).
	Targeted int64 `json:"targeted"`
	// Pending is the execution's recipients without an outcome yet; a
	// campaign report leaves it out (its counters count a recipient once
	// it has an outcome).
	Pending   *int64           `json:"pending,omitempty"`
	Sent      int64            `json:"sent"`
	Excluded  map[string]int64 `json:"excluded"`
	Failed    map[string]int64 `json:"failed"`
	Ambiguous int64            `json:"ambiguous"`
	// Delivery is what the providers said after the send, each counted
	// once per message.
	Delivery Delivery `json:"delivery"`
	Rates    Rates    `json:"rates"`
	// Hourly is the delivery counts per hour of the last seven days
	// (campaign reports), hours without events left out.
	Hourly []Hour `json:"hourly,omitempty"`
	// Variants is the counts of each content sent: per treatment of the
	// content experiment and locale variant, as recorded (see
	// VariantReport). Treatments sums them per treatment (the holdout
	// included), Locales per locale variant. Each is absent when the
	// content had no experiment, resp. no locale variants.
	Variants   []VariantReport `json:"variants,omitempty"`
	Treatments []VariantReport `json:"treatments,omitempty"`
	Locales    []VariantReport `json:"locales,omitempty"`
}

// VariantReport is what one content (a treatment, a locale variant, or
// a treatment's locale variant) did: recipients sent it (and excluded:
// the holdout), then delivered, opened and clicked, each once per
// message, and the click-through rate (clicked / sent) with its 95 %
// confidence interval (Wilson score interval).
type VariantReport struct {
	// Treatment is the experiment's treatment ("holdout" for the
	// recipients held out); Locale the locale variant ("fr-CA", or
	// "default" for the default content of content with variants).
	Treatment string `json:"treatment,omitempty"`
	Locale    string `json:"locale,omitempty"`
	Sent      int64  `json:"sent"`
	// Excluded counts recipients given no message (for the holdout: all
	// of them, excluded:holdout).
	Excluded  int64   `json:"excluded"`
	Delivered int64   `json:"delivered"`
	Opened    int64   `json:"opened"`
	Clicked   int64   `json:"clicked"`
	ClickRate float64 `json:"clickRate"`
	// ClickRateLow and ClickRateHigh bound the click-through rate's 95 %
	// Wilson score interval (0 and 0 when nothing was sent).
	ClickRateLow  float64 `json:"clickRateLow"`
	ClickRateHigh float64 `json:"clickRateHigh"`
}

// z95 is the standard normal quantile of a two-sided 95 % interval.
const z95 = 1.959963984540054

// Wilson returns the Wilson score interval of k successes in n trials at
// the 95 % level, rounded to four decimals: unlike the normal
// approximation it stays within [0, 1] and is meaningful for small n and
// rates near 0 (click-through rates). n <= 0 is (0, 0).
func Wilson(k, n int64) (low, high float64) {
	if n <= 0 {
		return 0, 0
	}
	p, nf, z2 := float64(k)/float64(n), float64(n), z95*z95
	den := 1 + z2/nf
	center := (p + z2/(2*nf)) / den
	half := z95 * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf)) / den
	round := func(x float64) float64 { return math.Round(min(max(x, 0), 1)*10000) / 10000 }
	return round(center - half), round(center + half)
}

// variantReports folds per-variant send counts (outcomes, as
// delivery.VariantCount names) and feedback counters (fb, likewise) into
// the report's Variants, Treatments and Locales.
func (r *Report) variantReports(outcomes, fb map[string]int64) {
	type counts struct{ outcomes, fb map[string]int64 }
	byLabel := map[string]*counts{}
	at := func(label string) *counts {
		c := byLabel[label]
		if c == nil {
			c = &counts{outcomes: map[string]int64{}, fb: map[string]int64{}}
			byLabel[label] = c
		}
		return c
	}
	for name, n := range outcomes {
		if label, o, ok := delivery.ParseVariantCount(name); ok {
			at(label).outcomes[o] += n
		}
	}
	for name, n := range fb {
		if label, c, ok := delivery.ParseVariantCount(name); ok {
			at(label).fb[c] += n
		}
	}
	treatments, locales := map[string]*VariantReport{}, map[string]*VariantReport{}
	for _, label := range slices.Sorted(maps.Keys(byLabel)) {
		c := byLabel[label]
		sends := sendCounts(c.outcomes, c.fb)
		v := VariantReport{Sent: sends[string(delivery.Sent)], Delivered: c.fb[feedback.CountDelivered],
			Opened: c.fb[feedback.CountOpened], Clicked: c.fb[feedback.CountClicked]}
		for o, n := range sends {
			if strings.HasPrefix(o, "excluded:") {
				v.Excluded += n
			}
		}
		if v == (VariantReport{}) {
			continue
		}
		v.Treatment, v.Locale = delivery.ParseLabel(label)
		r.Variants = append(r.Variants, v.rated())
		if v.Treatment != "" {
			sum(treatments, v.Treatment, v, VariantReport{Treatment: v.Treatment})
		}
		if v.Locale != "" {
			sum(locales, v.Locale, v, VariantReport{Locale: v.Locale})
		}
	}
	for _, k := range slices.Sorted(maps.Keys(treatments)) {
		r.Treatments = append(r.Treatments, treatments[k].rated())
	}
	for _, k := range slices.Sorted(maps.Keys(locales)) {
		r.Locales = append(r.Locales, locales[k].rated())
	}
}

// sum adds v's counts to into[key], made from zero if absent.
func sum(into map[string]*VariantReport, key string, v, zero VariantReport) {
	s := into[key]
	if s == nil {
		s = &zero
		into[key] = s
	}
	s.Sent += v.Sent
	s.Excluded += v.Excluded
	s.Delivered += v.Delivered
	s.Opened += v.Opened
	s.Clicked += v.Clicked
}

// rated is v with its click-through rate and interval.
func (v VariantReport) rated() VariantReport {
	v.ClickRate = ratio(v.Clicked, v.Sent)
	v.ClickRateLow, v.ClickRateHigh = Wilson(v.Clicked, v.Sent)
	return v
}

// Delivery counts messages by what their events said.
type Delivery struct {
	Delivered   int64 `json:"delivered"`
	Delayed     int64 `json:"delayed"`
	BouncedHard int64 `json:"bouncedHard"`
	BouncedSoft int64 `json:"bouncedSoft"`
	Complained  int64 `json:"complained"`
	Rejected    int64 `json:"rejected"`
	// Failed: the carrier or push platform did not deliver it.
	Failed int64 `json:"failed"`
	// Opened and Clicked are unique per message (a click counts an open).
	Opened  int64 `json:"opened"`
	Clicked int64 `json:"clicked"`
}

// Rates are fractions of sent messages (0 when none were sent).
type Rates struct {
	Delivery  float64 `json:"delivery"`
	Bounce    float64 `json:"bounce"`
	Complaint float64 `json:"complaint"`
	Open      float64 `json:"open"`
	Click     float64 `json:"click"`
}

// Hour is one hour's counts: recipients given an outcome (targeted) and
// sent in the hour, and delivery counts of the events of the hour.
type Hour struct {
	Hour     time.Time `json:"hour"`
	Targeted int64     `json:"targeted"`
	Sent     int64     `json:"sent"`
	Delivery Delivery  `json:"delivery"`
}

// ReportWindow is how far back a campaign report's hourly series goes.
const ReportWindow = 7 * 24 * time.Hour

func deliveryOf(c map[string]int64) Delivery {
	return Delivery{Delivered: c[feedback.CountDelivered], Delayed: c[feedback.CountDelayed], BouncedHard: c[feedback.CountBouncedHard],
		BouncedSoft: c[feedback.CountBouncedSoft], Complained: c[feedback.CountComplained], Rejected: c[feedback.CountRejected],
		Failed: c[feedback.CountFailed], Opened: c[feedback.CountOpened], Clicked: c[feedback.CountClicked]}
}

// fold adds an execution's status (confirmed ambiguous sends already
// counted as sent) to r.
func (r *Report) fold(st Status) {
	pending := st.Pending
	r.Targeted, r.Pending = st.Recipients, &pending
	r.Sent, r.Ambiguous = st.Counts.Sent, st.Counts.Ambiguous
	r.byReason(st.Outcomes)
}

// byReason adds the excluded and failed counts of outcomes to r.
func (r *Report) byReason(outcomes map[string]int64) {
	for o, n := range outcomes {
		kind, reason, _ := strings.Cut(o, ":")
		switch kind {
		case "excluded":
			r.Excluded[reason] += n
		case "failed":
			r.Failed[reason] += n
		}
	}
}

// sendCounts returns outcomes with the ambiguous sends an SES event
// confirmed (fb's confirmed:<cause> counters) moved to sent, as an
// execution's status does.
func sendCounts(outcomes, fb map[string]int64) map[string]int64 {
	out := maps.Clone(outcomes)
	if out == nil {
		out = map[string]int64{}
	}
	for name, n := range fb {
		cause, ok := strings.CutPrefix(name, feedback.CountConfirmed)
		o := string(delivery.Ambiguous(cause))
		if n = min(n, out[o]); !ok || n <= 0 {
			continue
		}
		out[o] -= n
		out[string(delivery.Sent)] += n
	}
	return out
}

func ratio(n, of int64) float64 {
	if of <= 0 {
		return 0
	}
	return math.Round(float64(n)/float64(of)*10000) / 10000
}

func (r *Report) rates() {
	d := r.Delivery
	r.Rates = Rates{Delivery: ratio(d.Delivered, r.Sent), Bounce: ratio(d.BouncedHard+d.BouncedSoft, r.Sent),
		Complaint: ratio(d.Complained, r.Sent), Open: ratio(d.Opened, r.Sent), Click: ratio(d.Clicked, r.Sent)}
}

// ExecutionReport returns an execution's report.
func (s *Service) ExecutionReport(ctx context.Context, t tenant.Tenant, id string) (Report, error) {
	if s.Reports == nil {
		return Report{}, derrors.New(derrors.Unprocessable, "reports are not available here")
	}
	st, fb, err := s.get(ctx, t, id)
	if err != nil {
		return Report{}, err
	}
	r := Report{CampaignID: st.CampaignID, ExecutionID: id, Complete: true, Excluded: map[string]int64{}, Failed: map[string]int64{},
		Delivery: deliveryOf(fb)}
	r.fold(st)
	r.rates()
	variants, err := s.Reports.VariantCounts(ctx, t, id)
	if err != nil {
		return Report{}, fmt.Errorf("report %s: %w", id, err)
	}
	r.variantReports(variants, fb)
	return r, nil
}

// CampaignReport returns a campaign's report: the send counts of all its
// executions and the delivery counts of all its messages, all time and
// hourly for ReportWindow. Both come from campaign counters (the send
// counts kept by the Reports function from the table's stream), never
// from reading its executions.
func (s *Service) CampaignReport(ctx context.Context, t tenant.Tenant, campaignID string, now time.Time) (Report, error) {
	if s.Reports == nil {
		return Report{}, derrors.New(derrors.Unprocessable, "reports are not available here")
	}
	if s.Campaigns != nil {
		if _, err := s.Campaigns.GetCampaign(ctx, t, campaignID); err != nil {
			return Report{}, err
		}
	}
	since := now.Add(-ReportWindow).Truncate(time.Hour)
	total, hours, err := s.Reports.CampaignFeedback(ctx, t, campaignID, since)
	if err != nil {
		return Report{}, fmt.Errorf("report %s: %w", campaignID, err)
	}
	sends, sendHours, err := s.Reports.CampaignOutcomes(ctx, t, campaignID, since)
	if err != nil {
		return Report{}, fmt.Errorf("report %s: %w", campaignID, err)
	}
	r := Report{CampaignID: campaignID, Complete: true, Excluded: map[string]int64{}, Failed: map[string]int64{}, Delivery: deliveryOf(total),
		Targeted: sends.Targeted}
	counts := sendCounts(sends.Outcomes, total)
	r.Sent = counts[string(delivery.Sent)]
	for o, n := range counts {
		if strings.HasPrefix(o, string(delivery.Ambiguous(""))) {
			r.Ambiguous += n
		}
	}
	r.byReason(counts)
	all := map[time.Time]bool{}
	for h := range hours {
		all[h] = true
	}
	for h := range sendHours {
		all[h] = true
	}
	for _, h := range slices.SortedFunc(maps.Keys(all), time.Time.Compare) {
		r.Hourly = append(r.Hourly, Hour{Hour: h, Targeted: sendHours[h].Targeted, Sent: sendHours[h].Outcomes[string(delivery.Sent)],
			Delivery: deliveryOf(hours[h])})
	}
	r.rates()
	r.variantReports(sends.Outcomes, total)
	return r, nil
}
