package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const highThroughputRoute = "POST /im/executions/highthroughput"

func TestTheHighThroughputRoute(t *testing.T) {
	f := newTriggerFixture(t)
	ht := f.campaign(t, acme, campaignOpts{highThroughput: true, activate: true})
	tests := []struct {
		name    string
		body    obj
		status  int
		fields  []string
		queued  int
		context map[string]string
	}{
		{name: "external recipients of a high-throughput campaign are accepted",
			body:   unitary("ht-1", ht, with(external("a@example.com"), "context", obj{"orderId": "1", "firstName": "Ann"}), external("b@example.com")),
			status: http.StatusAccepted, queued: 2},
		{name: "an aep recipient is refused by its path",
			body:   unitary("ht-2", ht, external("a@example.com"), obj{"type": "aep", "userId": "p-1", "namespace": "crmId"}),
			status: http.StatusBadRequest, fields: []string{"recipients[1].type"}, context: map[string]string{"requestId": "ht-2", "campaignId": ht}},
		{name: "more than twenty recipients are refused",
			body: unitary("ht-3", ht, externals(21)...), status: http.StatusBadRequest, fields: []string{"recipients"}},
		{name: "a campaign that is not high-throughput is a conflict",
			body: unitary("ht-4", f.live, external("a@example.com")), status: http.StatusConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.queue.Reset()
			status, body := call(t, f.trigger, event(highThroughputRoute, mustJSON(t, tt.body), acmeKey, nil))
			if status != tt.status {
				t.Fatalf("status = %d, want %d; body %s", status, tt.status, body)
			}
			if tt.fields != nil {
				e := errorBody(t, tt.status, body)
				if diff := cmp.Diff(tt.fields, fieldNames(e)); diff != "" {
					t.Errorf("errors[].field (-want +got):\n%s", diff)
				}
				for k, v := range tt.context {
					if e.Report.AdditionalContext[k] != v {
						t.Errorf("additionalContext[%s] = %q, want %q", k, e.Report.AdditionalContext[k], v)
					}
				}
			}
			if n := f.queue.Recipients(); n != tt.queued {
				t.Errorf("%d recipients queued, want %d", n, tt.queued)
			}
		})
	}
	// The unitary route does not trigger a high-throughput campaign.
	status, body := call(t, f.trigger, event(unitaryRoute, mustJSON(t, unitary("u-1", ht, external("a@example.com"))), acmeKey, nil))
	if status != http.StatusConflict {
		t.Errorf("unitary trigger of a high-throughput campaign: %d %s, want 409", status, body)
	}
}
