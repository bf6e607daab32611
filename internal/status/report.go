package status

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/feedback"
	"github.com/heraldhq/herald/internal/tenant"
)

// ReportsStore reads the report counters the Feedback function keeps.
type ReportsStore interface {
	// ExecutionFeedback sums an execution's feedback counters.
	ExecutionFeedback(ctx context.Context, t tenant.Tenant, exec string) (map[string]int64, error)
	// CampaignFeedback sums a campaign's all-time feedback counters and
	// those of each hour from since on.
	CampaignFeedback(ctx context.Context, t tenant.Tenant, campaignID string, since time.Time) (map[string]int64, map[time.Time]map[string]int64, error)
}

// Report is the body of GET /executions/{id}/report and
// GET /campaigns/{id}/report.
type Report struct {
	CampaignID  string `json:"campaignId"`
	ExecutionID string `json:"executionId,omitempty"`
	// Executions is how many executions the campaign report's send
	// counts sum (the most recent MaxReportExecutions); Complete is false
	// when the campaign has more.
	Executions int  `json:"executions,omitempty"`
	Complete   bool `json:"complete"`
	// Targeted is how many recipients the executions had; the rest
	// count them by outcome (an ambiguous send an SES event confirmed
	// counts as sent).
	Targeted  int64            `json:"targeted"`
	Pending   int64            `json:"pending"`
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

// Hour is one hour's delivery counts.
type Hour struct {
	Hour     time.Time `json:"hour"`
	Delivery Delivery  `json:"delivery"`
}

// MaxReportExecutions bounds the executions a campaign report sums.
const MaxReportExecutions = 500

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
	r.Targeted += st.Recipients
	r.Pending += st.Pending
	r.Sent += st.Counts.Sent
	r.Ambiguous += st.Counts.Ambiguous
	for o, n := range st.Outcomes {
		kind, reason, _ := strings.Cut(o, ":")
		switch kind {
		case "excluded":
			r.Excluded[reason] += n
		case "failed":
			r.Failed[reason] += n
		}
	}
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
	return r, nil
}

// CampaignReport returns a campaign's report: the delivery counts of all
// its messages (all time, and hourly for ReportWindow), and the send
// counts of its most recent MaxReportExecutions executions.
func (s *Service) CampaignReport(ctx context.Context, t tenant.Tenant, campaignID string, now time.Time) (Report, error) {
	if s.Reports == nil {
		return Report{}, derrors.New(derrors.Unprocessable, "reports are not available here")
	}
	if s.Campaigns != nil {
		if _, err := s.Campaigns.GetCampaign(ctx, t, campaignID); err != nil {
			return Report{}, err
		}
	}
	total, hours, err := s.Reports.CampaignFeedback(ctx, t, campaignID, now.Add(-ReportWindow).Truncate(time.Hour))
	if err != nil {
		return Report{}, fmt.Errorf("report %s: %w", campaignID, err)
	}
	r := Report{CampaignID: campaignID, Complete: true, Excluded: map[string]int64{}, Failed: map[string]int64{}, Delivery: deliveryOf(total)}
	var ids []string
	cursor := ""
	for {
		page, next, err := s.Store.CampaignExecutions(ctx, t, campaignID, cursor, 100)
		if err != nil {
			return Report{}, fmt.Errorf("list executions of %s: %w", campaignID, err)
		}
		ids = append(ids, page...)
		if next == "" {
			break
		}
		if len(ids) >= MaxReportExecutions {
			r.Complete = false
			break
		}
		cursor = next
	}
	ids = ids[:min(len(ids), MaxReportExecutions)]
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs = make([]error, len(ids))
		sem  = make(chan struct{}, 16)
	)
	for i, id := range ids {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			st, err := s.Get(ctx, t, id)
			if err != nil {
				errs[i] = err
				return
			}
			mu.Lock()
			r.fold(st)
			mu.Unlock()
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return Report{}, err
	}
	r.Executions = len(ids)
	for _, h := range slices.SortedFunc(maps.Keys(hours), time.Time.Compare) {
		r.Hourly = append(r.Hourly, Hour{Hour: h, Delivery: deliveryOf(hours[h])})
	}
	r.rates()
	return r, nil
}
