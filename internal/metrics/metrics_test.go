package metrics_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/metrics"
	"github.com/heraldhq/herald/internal/tenant"
)

// emf is an EMF line as CloudWatch reads it.
type emf struct {
	AWS struct {
		Timestamp         int64
		CloudWatchMetrics []struct {
			Namespace  string
			Dimensions [][]string
			Metrics    []struct{ Name, Unit string }
		}
	} `json:"_aws"`
	Members map[string]any `json:"-"`
}

func parse(t *testing.T, out string) []emf {
	t.Helper()
	var lines []emf
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var l emf
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if err := json.Unmarshal(sc.Bytes(), &l.Members); err != nil {
			t.Fatal(err)
		}
		if err := metrics.Validate(sc.Bytes()); err != nil {
			t.Errorf("line %s: %v", sc.Text(), err)
		}
		lines = append(lines, l)
	}
	return lines
}

func TestCountsOfOneInvocationAreSummedIntoOneLinePerDimensions(t *testing.T) {
	var out bytes.Buffer
	r := metrics.New(&out, "dispatch", false)
	r.SetClock(func() time.Time { return time.UnixMilli(1_700_000_000_000) })
	for range 1000 {
		r.Add(metrics.Recipients, 1, metrics.Dims{Channel: "email", Outcome: "sent", Tenant: tenant.Tenant{Org: "ORG", Sandbox: "prod"}, Campaign: "c1"})
	}
	r.Add(metrics.Recipients, 2, metrics.Dims{Channel: "email", Outcome: "failed"})
	r.Add(metrics.AmbiguousSends, 1, metrics.Dims{Channel: "email", Outcome: "failed"})
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := parse(t, out.String())
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2:\n%s", len(lines), out.String())
	}
	first := lines[0]
	if first.Members["level"] != "INFO" || first.Members["timestamp"] != "2023-11-14T22:13:20Z" {
		t.Errorf("first line's level and timestamp for Lambda's log filter: %v, %v", first.Members["level"], first.Members["timestamp"])
	}
	if diff := cmp.Diff(map[string]any{"Function": "dispatch", "Channel": "email", "Outcome": "sent", "Recipients": 1000.0},
		without(first.Members, "_aws")); diff != "" {
		t.Errorf("first line (-want +got):\n%s", diff)
	}
	if first.AWS.Timestamp != 1_700_000_000_000 || first.AWS.CloudWatchMetrics[0].Namespace != "Herald" {
		t.Errorf("first line's _aws: %+v", first.AWS)
	}
	if diff := cmp.Diff([][]string{{"Function", "Channel", "Outcome"}}, first.AWS.CloudWatchMetrics[0].Dimensions); diff != "" {
		t.Errorf("dimensions without tenants (-want +got):\n%s", diff)
	}
	second := lines[1]
	if len(second.AWS.CloudWatchMetrics) != 2 || second.AWS.CloudWatchMetrics[1].Dimensions[0][0] != "Function" ||
		len(second.AWS.CloudWatchMetrics[1].Metrics) != 1 || second.AWS.CloudWatchMetrics[1].Metrics[0].Name != "AmbiguousSends" {
		t.Errorf("AmbiguousSends is not rolled up to the Function dimension: %+v", second.AWS)
	}
	out.Reset()
	if err := r.Flush(); err != nil || out.Len() != 0 {
		t.Errorf("a second flush wrote %q (%v), want nothing", out.String(), err)
	}
}

// without is m without the members every line has.
func without(m map[string]any, k string) map[string]any {
	for _, k := range []string{k, "level", "timestamp"} {
		delete(m, k)
	}
	return m
}

func TestTenantDimensionsAreKeptOnlyWhenOptedIn(t *testing.T) {
	var out bytes.Buffer
	r := metrics.New(&out, "dispatch", true)
	r.Add(metrics.Recipients, 1, metrics.Dims{Channel: "sms", Outcome: "sent", Tenant: tenant.Tenant{Org: "ORG", Sandbox: "prod"}, Campaign: "c1"})
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	l := parse(t, out.String())[0]
	want := [][]string{{"Function", "Channel", "Outcome"}, {"Function", "Channel", "Outcome", "Tenant", "Campaign"}}
	if diff := cmp.Diff(want, l.AWS.CloudWatchMetrics[0].Dimensions); diff != "" {
		t.Errorf("dimensions (-want +got):\n%s", diff)
	}
	if l.Members["Tenant"] != "ORG/prod" || l.Members["Campaign"] != "c1" {
		t.Errorf("members: %v", l.Members)
	}
}

func TestDistributionsKeepTheirValuesAtMost100ALine(t *testing.T) {
	var out bytes.Buffer
	r := metrics.New(&out, "dispatch", false)
	for i := range 250 {
		r.Duration(metrics.SendLatency, time.Duration(i)*time.Millisecond, metrics.Dims{Channel: "email"})
	}
	r.Add(metrics.Recipients, 250, metrics.Dims{Channel: "email"})
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := parse(t, out.String())
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want 3", len(lines))
	}
	var n int
	for i, l := range lines {
		vs, ok := l.Members["SendLatency"].([]any)
		if !ok {
			t.Fatalf("line %d: SendLatency is %T", i, l.Members["SendLatency"])
		}
		n += len(vs)
		if _, ok := l.Members["Recipients"]; ok != (i == 0) {
			t.Errorf("line %d: Recipients present %v", i, ok)
		}
	}
	if n != 250 {
		t.Errorf("%d latency values, want 250", n)
	}
}

func TestANilRecorderRecordsNothing(t *testing.T) {
	var r *metrics.Recorder
	r.Add(metrics.Triggers, 1, metrics.Dims{})
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
}

func TestValidateRefusesLinesCloudWatchWouldNotRead(t *testing.T) {
	for _, line := range []string{
		`{"msg":"x"}`,
		`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"Herald","Dimensions":[["Channel"]],"Metrics":[{"Name":"Recipients","Unit":"Count"}]}]},"Recipients":1}`,
		`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"Herald","Dimensions":[[]],"Metrics":[{"Name":"Recipients","Unit":"Count"}]}]}}`,
		`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"Herald","Dimensions":[[]],"Metrics":[{"Name":"Recipients","Unit":"Count"}]}]},"Recipients":"1"}`,
	} {
		if metrics.Validate([]byte(line)) == nil {
			t.Errorf("Validate(%s) = nil, want an error", line)
		}
	}
}

func BenchmarkAddPerRecipient(b *testing.B) {
	r := metrics.New(&bytes.Buffer{}, "dispatch", false)
	d := metrics.Dims{Channel: "email", Outcome: "sent"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.Add(metrics.Recipients, 1, d)
		if i%1000 == 999 {
			_ = r.Flush()
		}
	}
}

func TestDocsListEveryMetric(t *testing.T) {
	doc, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range metrics.All {
		row := "| `" + m.Name + "` | " + string(m.Unit) + " |"
		if !strings.Contains(string(doc), row) {
			t.Errorf("docs/operations.md has no row %q", row)
		}
	}
}
