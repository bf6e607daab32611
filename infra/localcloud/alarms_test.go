package localcloud

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7/intrinsics"

	"github.com/heraldhq/herald/internal/metrics"
)

// templateDoc is template.yaml as written: intrinsic functions in their
// long form ({"Fn::GetAtt": ["Queue", "Arn"]}), nothing resolved.
type templateDoc struct {
	Parameters map[string]struct {
		Default       any
		AllowedValues []string
	}
	Globals struct {
		Function map[string]any
	}
	Resources map[string]map[string]any
}

func readTemplate(t *testing.T) templateDoc {
	t.Helper()
	data, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	js, err := intrinsics.ProcessYAML(data, &intrinsics.ProcessorOptions{NoProcess: true})
	if err != nil {
		t.Fatal(err)
	}
	var doc templateDoc
	if err := json.Unmarshal(js, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// templateResources reads template.yaml's resources as written.
func templateResources(t *testing.T) map[string]map[string]any {
	t.Helper()
	return readTemplate(t).Resources
}

// getAtt returns the resource named by v when v is {"Fn::GetAtt":
// [resource, attribute]} (or "resource.attribute"), else "".
func getAtt(v any, attribute string) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	switch ga := m["Fn::GetAtt"].(type) {
	case []any:
		if len(ga) == 2 && ga[1] == attribute {
			s, _ := ga[0].(string)
			return s
		}
	case string:
		if r, a, ok := strings.Cut(ga, "."); ok && a == attribute {
			return r
		}
	}
	return ""
}

// alarmed is what the template's alarms watch: "<namespace> <metric>
// <dimension value>", the value a queue or function's logical id when it
// is a GetAtt QueueName or a Ref.
func alarmed(resources map[string]map[string]any) map[string]bool {
	out := map[string]bool{}
	for _, r := range resources {
		if r["Type"] != "AWS::CloudWatch::Alarm" {
			continue
		}
		p, _ := r["Properties"].(map[string]any)
		ns, _ := p["Namespace"].(string)
		metric, _ := p["MetricName"].(string)
		dims, _ := p["Dimensions"].([]any)
		for _, d := range dims {
			dm, _ := d.(map[string]any)
			v := dm["Value"]
			name := getAtt(v, "QueueName")
			if ref, ok := v.(map[string]any); ok && name == "" {
				name, _ = ref["Ref"].(string)
			}
			if s, ok := v.(string); ok {
				name = s
			}
			out[ns+" "+metric+" "+name] = true
		}
		if len(dims) == 0 {
			out[ns+" "+metric+" "] = true
		}
	}
	return out
}

func TestEveryDeadLetterQueueHasADepthAlarm(t *testing.T) {
	resources := templateResources(t)
	var dlqs []string
	for id, r := range resources {
		if r["Type"] != "AWS::SQS::Queue" {
			continue
		}
		p, _ := r["Properties"].(map[string]any)
		if rp, ok := p["RedrivePolicy"].(map[string]any); ok {
			target := getAtt(rp["deadLetterTargetArn"], "Arn")
			if target == "" {
				t.Errorf("%s: RedrivePolicy's deadLetterTargetArn is not a GetAtt of a queue's Arn", id)
				continue
			}
			dlqs = append(dlqs, target)
		}
		// Queues other services dead-letter into (Scheduler's target,
		// a function's OnFailure destination) have no redrive policy
		// pointing at them: they are known by name.
		if strings.HasSuffix(id, "DeadLetterQueue") {
			dlqs = append(dlqs, id)
		}
	}
	slices.Sort(dlqs)
	dlqs = slices.Compact(dlqs)
	if len(dlqs) < 5 {
		t.Fatalf("found dead-letter queues %v, want at least the five of dispatch, webhook, scheduler, feedback and reports", dlqs)
	}
	watched := alarmed(resources)
	for _, q := range dlqs {
		if !watched["AWS/SQS ApproximateNumberOfMessagesVisible "+q] {
			t.Errorf("dead-letter queue %s has no ApproximateNumberOfMessagesVisible alarm", q)
		}
	}
}

func TestEveryFunctionHasErrorsAndThrottlesAlarms(t *testing.T) {
	resources := templateResources(t)
	watched := alarmed(resources)
	n := 0
	for id, r := range resources {
		if r["Type"] != "AWS::Serverless::Function" {
			continue
		}
		n++
		for _, metric := range []string{"Errors", "Throttles"} {
			if !watched["AWS/Lambda "+metric+" "+id] {
				t.Errorf("function %s has no %s alarm (Dimensions FunctionName: !Ref %s)", id, metric, id)
			}
		}
	}
	if n < 8 {
		t.Errorf("found %d functions, want at least 8", n)
	}
}

func TestTheOperationalAlarmsAreThereAndNotifyTheTopic(t *testing.T) {
	resources := templateResources(t)
	watched := alarmed(resources)
	for _, want := range []string{
		"Herald DispatchLag dispatch", "Herald AmbiguousSends dispatch",
		"AWS/SES Reputation.BounceRate ", "AWS/SES Reputation.ComplaintRate ",
	} {
		if !watched[want] {
			t.Errorf("no alarm on %q", want)
		}
	}
	for id, r := range resources {
		if r["Type"] != "AWS::CloudWatch::Alarm" {
			continue
		}
		p, _ := r["Properties"].(map[string]any)
		b, _ := json.Marshal(p["AlarmActions"])
		if !strings.Contains(string(b), "HasAlarmTopic") || !strings.Contains(string(b), "AlarmTopicArn") {
			t.Errorf("alarm %s does not notify AlarmTopicArn (when HasAlarmTopic): %s", id, b)
		}
	}
}

func TestTheDashboardIsJSONAndShowsEveryMetric(t *testing.T) {
	resources := templateResources(t)
	var body string
	for id, r := range resources {
		if r["Type"] != "AWS::CloudWatch::Dashboard" {
			continue
		}
		p, _ := r["Properties"].(map[string]any)
		sub, _ := p["DashboardBody"].(map[string]any)
		if body, _ = sub["Fn::Sub"].(string); body == "" {
			t.Fatalf("%s: DashboardBody is not a !Sub of a string", id)
		}
	}
	if body == "" {
		t.Fatal("no AWS::CloudWatch::Dashboard")
	}
	// What CloudFormation substitutes: names, and numbers where a
	// parameter is a number.
	resolved := dashboardVar.ReplaceAllStringFunc(body, func(v string) string {
		if strings.Contains(v, "Threshold") {
			return "1"
		}
		return "x"
	})
	var dash struct {
		Widgets []struct {
			Type       string
			Properties map[string]any
		}
	}
	if err := json.Unmarshal([]byte(resolved), &dash); err != nil {
		t.Fatalf("the dashboard body is not JSON once substituted: %v", err)
	}
	if len(dash.Widgets) < 10 {
		t.Errorf("%d widgets", len(dash.Widgets))
	}
	for _, m := range metrics.All {
		if !strings.Contains(body, `"`+m.Name+`"`) && !strings.Contains(body, `\"`+m.Name+`\"`) && !strings.Contains(body, "("+m.Name+")") {
			t.Errorf("the dashboard shows no %s", m.Name)
		}
	}
	for _, q := range []string{"Dispatch", "Webhook", "Scheduler", "Feedback", "Reports"} {
		if !strings.Contains(body, "${"+q+"DeadLetterQueue.QueueName}") {
			t.Errorf("the dashboard does not show the %s dead-letter queue's depth", q)
		}
	}
}

var dashboardVar = regexp.MustCompile(`\$\{[A-Za-z0-9:.]+\}`)

// Every function is traced with the deployment's TracingMode (Active
// unless changed): set once in Globals, never turned off by a function.
func TestEveryFunctionIsTraced(t *testing.T) {
	doc := readTemplate(t)
	if ref, _ := doc.Globals.Function["Tracing"].(map[string]any); ref["Ref"] != "TracingMode" {
		t.Errorf("Globals.Function.Tracing = %v, want !Ref TracingMode", doc.Globals.Function["Tracing"])
	}
	p := doc.Parameters["TracingMode"]
	if p.Default != "Active" || !slices.Equal(p.AllowedValues, []string{"Active", "PassThrough"}) {
		t.Errorf("TracingMode = %+v, want default Active", p)
	}
	n := 0
	for id, r := range doc.Resources {
		if r["Type"] != "AWS::Serverless::Function" {
			continue
		}
		n++
		props, _ := r["Properties"].(map[string]any)
		if v, ok := props["Tracing"]; ok {
			t.Errorf("function %s sets its own Tracing (%v): the deployment's TracingMode is every function's", id, v)
		}
	}
	if n < 8 {
		t.Errorf("found %d functions, want at least 8", n)
	}
}
