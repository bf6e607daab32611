package api_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/status"
)

// A campaign report counts every execution of the campaign, from the
// campaign counters the Reports function keeps off the table's stream
// (the local cloud's Drain reads the stream to its end).
func TestACampaignReportSumsEveryExecutionFromItsCounters(t *testing.T) {
	f := newFixture(t, false)
	f.mustDo("PUT", "/suppressions/email/blocked@example.com", map[string]any{"reason": "bounce"}, http.StatusOK, nil)
	recipient := func(addr string) map[string]any {
		return map[string]any{"type": "external", "namespace": "email", "userId": addr, "context": orderContext("R-1")}
	}
	f.mustDo("POST", "/im/executions/unitary", f.unitary("reports-1", recipient("ann@example.com"), recipient("blocked@example.com")),
		http.StatusAccepted, nil)
	drain(t)
	f.mustDo("POST", "/im/executions/unitary", f.unitary("reports-2", recipient("bob@example.com")), http.StatusAccepted, nil)
	drain(t)

	var r status.Report
	f.mustDo("GET", "/campaigns/"+f.campaignID+"/report", nil, http.StatusOK, &r)
	if r.Targeted != 3 || r.Sent != 2 || r.Ambiguous != 0 || !r.Complete || r.Pending != nil {
		t.Errorf("campaign report: targeted %d, sent %d, ambiguous %d, complete %v, pending %v; want 3, 2, 0, true, none",
			r.Targeted, r.Sent, r.Ambiguous, r.Complete, r.Pending)
	}
	if diff := cmp.Diff(map[string]int64{"suppressed": 1}, r.Excluded); diff != "" {
		t.Errorf("excluded (-want +got):\n%s", diff)
	}
	var targeted, sent int64
	for _, h := range r.Hourly {
		targeted, sent = targeted+h.Targeted, sent+h.Sent
	}
	if targeted != 3 || sent != 2 {
		t.Errorf("hourly series: targeted %d, sent %d; want 3, 2 (%+v)", targeted, sent, r.Hourly)
	}
	// A drain with nothing new changes nothing: no record counts twice.
	drain(t)
	var again status.Report
	f.mustDo("GET", "/campaigns/"+f.campaignID+"/report", nil, http.StatusOK, &again)
	if diff := cmp.Diff(r, again); diff != "" {
		t.Errorf("report after another drain (-want +got):\n%s", diff)
	}
}
