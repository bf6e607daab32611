package status_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/status"
	"github.com/heraldhq/herald/internal/tally"
	"github.com/heraldhq/herald/internal/tenant"
)

// reports is a hand-written status.ReportsStore whose execution and
// campaign counters are the same.
type reports struct {
	sends, fb map[string]int64
}

func (r reports) ExecutionFeedback(context.Context, tenant.Tenant, string) (map[string]int64, error) {
	return r.fb, nil
}

func (r reports) CampaignFeedback(context.Context, tenant.Tenant, string, time.Time) (map[string]int64, map[time.Time]map[string]int64, error) {
	return r.fb, nil, nil
}

func (r reports) CampaignOutcomes(context.Context, tenant.Tenant, string, time.Time) (tally.Delta, map[time.Time]tally.Delta, error) {
	out := map[string]int64{}
	var n int64
	for name, c := range r.sends {
		out[name] = c
		if _, _, ok := delivery.ParseVariantCount(name); !ok {
			n += c
		}
	}
	return tally.Delta{Targeted: n, Outcomes: out}, nil, nil
}

func (r reports) VariantCounts(context.Context, tenant.Tenant, string) (map[string]int64, error) {
	out := map[string]int64{}
	for name, c := range r.sends {
		if _, _, ok := delivery.ParseVariantCount(name); ok {
			out[name] = c
		}
	}
	return out, nil
}

func TestWilsonIntervalsMatchTheTextbook(t *testing.T) {
	tests := []struct {
		k, n      int64
		low, high float64
	}{
		{10, 100, 0.0552, 0.1744},
		{0, 10, 0, 0.2775},
		{10, 10, 0.7225, 1},
		{50, 1000, 0.0381, 0.0653},
		{0, 0, 0, 0},
	}
	for _, tt := range tests {
		if low, high := status.Wilson(tt.k, tt.n); low != tt.low || high != tt.high {
			t.Errorf("Wilson(%d, %d) = [%v, %v], want [%v, %v]", tt.k, tt.n, low, high, tt.low, tt.high)
		}
	}
}

func TestReportsCountEachTreatmentAndLocaleWithTheirClickThroughInterval(t *testing.T) {
	sends := map[string]int64{
		"sent": 179, "excluded:holdout": 20, "ambiguous:5xx": 1,
		"v:control/default#sent": 100, "v:control/fr#sent": 29, "v:control/fr#ambiguous:5xx": 1,
		"v:B/default#sent": 40, "v:B/fr#sent": 10, "v:holdout/#excluded:holdout": 20,
	}
	fb := map[string]int64{
		"delivered": 170, "opened": 60, "clicked": 25, "confirmed:5xx": 1,
		"v:control/default#delivered": 95, "v:control/default#opened": 30, "v:control/default#clicked": 10,
		"v:control/fr#delivered": 30, "v:control/fr#confirmed:5xx": 1, "v:control/fr#clicked": 5,
		"v:B/default#delivered": 36, "v:B/default#opened": 20, "v:B/default#clicked": 8,
		"v:B/fr#delivered": 9, "v:B/fr#opened": 10, "v:B/fr#clicked": 2,
	}
	row := func(treatment, locale string, sent, excluded, delivered, opened, clicked int64) status.VariantReport {
		v := status.VariantReport{Treatment: treatment, Locale: locale, Sent: sent, Excluded: excluded, Delivered: delivered,
			Opened: opened, Clicked: clicked}
		if sent > 0 {
			v.ClickRate = float64(int64(float64(clicked)/float64(sent)*10000+0.5)) / 10000
		}
		v.ClickRateLow, v.ClickRateHigh = status.Wilson(clicked, sent)
		return v
	}
	wantVariants := []status.VariantReport{
		row("B", "default", 40, 0, 36, 20, 8),
		row("B", "fr", 10, 0, 9, 10, 2),
		row("control", "default", 100, 0, 95, 30, 10),
		row("control", "fr", 30, 0, 30, 0, 5), // the ambiguous send an SES event confirmed counts as sent
		row("holdout", "", 0, 20, 0, 0, 0),
	}
	wantTreatments := []status.VariantReport{
		row("B", "", 50, 0, 45, 30, 10),
		row("control", "", 130, 0, 125, 30, 15),
		row("holdout", "", 0, 20, 0, 0, 0),
	}
	wantLocales := []status.VariantReport{
		row("", "default", 140, 0, 131, 50, 18),
		row("", "fr", 40, 0, 39, 10, 7),
	}
	svc := &status.Service{Store: &store{sum: status.Summary{ID: "ex", CampaignID: "cmp", Recipients: 200, Settled: true},
		counts: map[delivery.Outcome]int64{delivery.Sent: 179, delivery.ExcludedHoldout: 20, "ambiguous:5xx": 1}},
		Campaigns: campaigns("cmp"), Reports: reports{sends: sends, fb: fb}}
	ex, err := svc.ExecutionReport(context.Background(), acme, "ex")
	if err != nil {
		t.Fatal(err)
	}
	cr, err := svc.CampaignReport(context.Background(), acme, "cmp", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]status.Report{"execution": ex, "campaign": cr} {
		if diff := cmp.Diff(wantVariants, r.Variants); diff != "" {
			t.Errorf("%s report's variants (-want +got):\n%s", name, diff)
		}
		if diff := cmp.Diff(wantTreatments, r.Treatments); diff != "" {
			t.Errorf("%s report's treatments (-want +got):\n%s", name, diff)
		}
		if diff := cmp.Diff(wantLocales, r.Locales); diff != "" {
			t.Errorf("%s report's locales (-want +got):\n%s", name, diff)
		}
		if r.Sent != 180 || r.Excluded["holdout"] != 20 {
			t.Errorf("%s report: sent %d, holdout %d; want 180 and 20", name, r.Sent, r.Excluded["holdout"])
		}
	}
}

func TestAReportOfContentWithoutVariantsHasNoVariantRows(t *testing.T) {
	svc := &status.Service{Store: &store{sum: status.Summary{ID: "ex", CampaignID: "cmp", Recipients: 2, Settled: true},
		counts: map[delivery.Outcome]int64{delivery.Sent: 2}}, Campaigns: campaigns("cmp"),
		Reports: reports{sends: map[string]int64{"sent": 2}, fb: map[string]int64{"clicked": 1}}}
	r, err := svc.ExecutionReport(context.Background(), acme, "ex")
	if err != nil {
		t.Fatal(err)
	}
	if r.Variants != nil || r.Treatments != nil || r.Locales != nil {
		t.Errorf("report of plain content: variants %v, treatments %v, locales %v; want none", r.Variants, r.Treatments, r.Locales)
	}
}
