// Package metrics_test checks Herald's metrics end to end: Herald runs as
// `make run` does (moto, the gateway, every function), a trigger is sent
// and dispatched, and the EMF lines the functions wrote (what a Lambda
// prints to stdout, which CloudWatch Logs turns into metrics) are read
// back: well-formed, carrying the documented metrics, and free of the
// recipients' data.
package metrics_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/infra/contract"
	"github.com/heraldhq/herald/infra/localcloud"
	"github.com/heraldhq/herald/internal/metrics"
	"github.com/heraldhq/herald/internal/tenant"
)

var (
	cloud *localcloud.Cloud
	emf   localcloud.Buffer
)

func TestMain(m *testing.M) {
	os.Exit(localcloud.RunSuite(m, &cloud, localcloud.Options{Timing: &localcloud.FastTiming, Contract: contract.MustLoad(),
		Metrics: &emf, Log: localcloud.TestLog()}))
}

// line is one EMF line: its members, and its directives.
type line struct {
	members map[string]any
	metrics map[string]bool // the names its directives declare
	raw     string
}

func lines(t *testing.T) []line {
	t.Helper()
	var out []line
	sc := bufio.NewScanner(strings.NewReader(emf.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		raw := sc.Bytes()
		if err := metrics.Validate(raw); err != nil {
			t.Errorf("not an EMF line CloudWatch reads (%v): %s", err, raw)
			continue
		}
		var l line
		l.raw = string(raw)
		if err := json.Unmarshal(raw, &l.members); err != nil {
			t.Fatal(err)
		}
		var meta struct {
			AWS struct {
				CloudWatchMetrics []struct {
					Namespace string
					Metrics   []struct{ Name string }
				}
			} `json:"_aws"`
		}
		_ = json.Unmarshal(raw, &meta)
		l.metrics = map[string]bool{}
		for _, d := range meta.AWS.CloudWatchMetrics {
			if d.Namespace != metrics.Namespace {
				t.Errorf("namespace %q, want Herald: %s", d.Namespace, raw)
			}
			for _, m := range d.Metrics {
				l.metrics[m.Name] = true
			}
		}
		out = append(out, l)
	}
	return out
}

// sum adds the values of metric over the lines whose members match dims.
func sum(ls []line, metric string, dims map[string]string) (total float64, values int) {
	for _, l := range ls {
		if !l.metrics[metric] {
			continue
		}
		match := true
		for k, v := range dims {
			if l.members[k] != v {
				match = false
			}
		}
		if !match {
			continue
		}
		switch v := l.members[metric].(type) {
		case float64:
			total += v
			values++
		case []any:
			for _, x := range v {
				f, _ := x.(float64)
				total += f
				values++
			}
		}
	}
	return total, values
}

// A trigger accepted and one refused, the accepted one dispatched: the
// Trigger function counts both by status, Dispatch counts the outcomes
// and times each send and its lag, and no line names a recipient.
func TestATriggerAndItsSendsAreInTheMetrics(t *testing.T) {
	ctx := context.Background()
	acct, err := cloud.NewAccount(ctx, tenant.Tenant{Org: "METRICS1@AdobeOrg", Sandbox: "prod"}, "metrics1."+localcloud.DemoSenderDomain)
	if err != nil {
		t.Fatal(err)
	}
	campaignID := cloud.MustLiveEmailCampaign(t, acct, "Order {{context.orderId}}", "<p>{{context.secret}}</p>")

	seeded := []string{"emf-marker-ada@example.com", "emf-marker-bob@example.com", "EMF-CTX-SECRET", "EMF-ORDER-77"}
	recipients := []any{}
	for _, a := range seeded[:2] {
		recipients = append(recipients, map[string]any{"type": "external", "namespace": "email", "userId": a,
			"context": map[string]any{"orderId": seeded[3], "secret": seeded[2]}})
	}
	cloud.MustExpect(t, acct, "POST", "/im/executions/unitary", map[string]any{"requestId": "emf-1", "campaignId": campaignID, "recipients": recipients},
		http.StatusAccepted, nil)
	cloud.MustExpect(t, acct, "POST", "/im/executions/unitary", map[string]any{"requestId": "emf-2", "campaignId": campaignID},
		http.StatusBadRequest, nil)
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := cloud.Drain(dctx); err != nil {
		t.Fatal(err)
	}

	ls := lines(t)
	if len(ls) == 0 {
		t.Fatal("no EMF line was written")
	}
	checks := []struct {
		metric  string
		dims    map[string]string
		atLeast float64
	}{
		{"Triggers", map[string]string{"Function": "trigger", "Route": "unitary", "Status": "202", "Outcome": "accepted"}, 1},
		{"Triggers", map[string]string{"Function": "trigger", "Route": "unitary", "Status": "400", "Outcome": "refused"}, 1},
		{"Recipients", map[string]string{"Function": "dispatch", "Channel": "email", "Outcome": "sent"}, 2},
	}
	for _, c := range checks {
		if got, _ := sum(ls, c.metric, c.dims); got < c.atLeast {
			t.Errorf("%s %v = %v, want at least %v", c.metric, c.dims, got, c.atLeast)
		}
	}
	for _, m := range []string{"SendLatency", "DispatchLag"} {
		total, n := sum(ls, m, map[string]string{"Function": "dispatch", "Channel": "email"})
		if n < 2 || total < 0 {
			t.Errorf("%s: %d values (sum %v), want one per send (2)", m, n, total)
		}
	}
	for _, l := range ls {
		for _, s := range append(seeded, acct.Tenant.Org, campaignID) {
			if strings.Contains(strings.ToLower(l.raw), strings.ToLower(s)) {
				t.Errorf("an EMF line holds %q: %s", s, l.raw)
			}
		}
	}
	for _, l := range ls {
		t.Log(l.raw)
	}
}
