package localcloud

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLoadStackResolvesTheTemplateToLocalNames(t *testing.T) {
	s, err := LoadStack("../../template.yaml", StackOptions{MotoURL: "http://127.0.0.1:5000", Parameters: map[string]string{"SenderIdentity": "herald.example", "UnsubscribeSecret": DemoUnsubscribeSecret}})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Tables) != 1 || s.Tables[0].Name != "herald-local-HeraldTable" {
		t.Fatalf("tables = %+v", s.Tables)
	}
	var queues []string
	for _, q := range s.Queues {
		queues = append(queues, q.LogicalID+" "+q.URL+" "+q.DeadLetterARN)
	}
	wantQueues := []string{
		"DispatchDeadLetterQueue http://127.0.0.1:5000/123456789012/herald-local-DispatchDeadLetterQueue ",
		"SchedulerDeadLetterQueue http://127.0.0.1:5000/123456789012/herald-local-SchedulerDeadLetterQueue ",
		"DispatchQueue http://127.0.0.1:5000/123456789012/herald-local-DispatchQueue arn:aws:sqs:us-east-1:123456789012:herald-local-DispatchDeadLetterQueue",
	}
	if diff := cmp.Diff(wantQueues, queues); diff != "" {
		t.Errorf("queues (-want +got):\n%s", diff)
	}
	if q := s.Queues[2]; q.MaxReceiveCount != 5 || *q.Def.VisibilityTimeout != 180 {
		t.Errorf("DispatchQueue: maxReceiveCount %d, visibility %d; want 5, 180", q.MaxReceiveCount, *q.Def.VisibilityTimeout)
	}

	sched := func(m map[string]string) map[string]string {
		m["HERALD_SCHEDULE_GROUP"] = "herald-local-HeraldScheduleGroup"
		m["HERALD_SCHEDULER_TARGET_ARN"] = "arn:aws:lambda:us-east-1:123456789012:function:herald-local-scheduler"
		m["HERALD_SCHEDULER_ROLE_ARN"] = "arn:aws:iam::123456789012:role/herald-local-SchedulerInvokeRole"
		m["HERALD_SCHEDULER_DLQ_ARN"] = "arn:aws:sqs:us-east-1:123456789012:herald-local-SchedulerDeadLetterQueue"
		return m
	}
	queueURL := "http://127.0.0.1:5000/123456789012/herald-local-DispatchQueue"
	wantEnv := map[string]map[string]string{
		"AuthorizerFunction": {"HERALD_TABLE": "herald-local-HeraldTable", "HERALD_LOG_LEVEL": "INFO"},
		"TriggerFunction": sched(map[string]string{"HERALD_TABLE": "herald-local-HeraldTable", "HERALD_LOG_LEVEL": "INFO",
			"HERALD_DISPATCH_QUEUE_URL": queueURL, "HERALD_EVENT_ORG": "", "HERALD_EVENT_SANDBOX": ""}),
		"ManageFunction": sched(map[string]string{"HERALD_TABLE": "herald-local-HeraldTable", "HERALD_LOG_LEVEL": "INFO", "HERALD_SES_CONFIGURATION_SET": "",
			"HERALD_UNSUBSCRIBE_SECRET": DemoUnsubscribeSecret}),
		"SchedulerFunction": sched(map[string]string{"HERALD_TABLE": "herald-local-HeraldTable", "HERALD_LOG_LEVEL": "INFO", "HERALD_DISPATCH_QUEUE_URL": queueURL}),
		"DispatchFunction": {"HERALD_TABLE": "herald-local-HeraldTable", "HERALD_LOG_LEVEL": "INFO", "HERALD_SES_CONFIGURATION_SET": "",
			"HERALD_UNSUBSCRIBE_SECRET": DemoUnsubscribeSecret,
			"HERALD_PUBLIC_URL":         "https://herald-local-HeraldApi.execute-api.us-east-1.amazonaws.com"},
	}
	if diff := cmp.Diff([]string{"herald-local-HeraldScheduleGroup"}, s.ScheduleGroups); diff != "" {
		t.Errorf("schedule groups (-want +got):\n%s", diff)
	}
	if f := s.Functions["SchedulerFunction"]; f.Name != "herald-local-scheduler" || f.ARN != wantEnv["TriggerFunction"]["HERALD_SCHEDULER_TARGET_ARN"] {
		t.Errorf("SchedulerFunction is %s %s; its name must match the schedules' target", f.Name, f.ARN)
	}
	gotEnv := map[string]map[string]string{}
	for id, f := range s.Functions {
		gotEnv[id] = f.Env
	}
	if diff := cmp.Diff(wantEnv, gotEnv); diff != "" {
		t.Errorf("function environments (-want +got):\n%s", diff)
	}
	d := s.Functions["DispatchFunction"]
	if d.Timeout != 30*time.Second || len(d.SQS) != 1 || d.SQS[0].BatchSize != 10 || !d.SQS[0].ReportBatchItemFailures || d.SQS[0].QueueARN != s.Queues[2].ARN {
		t.Errorf("DispatchFunction = %+v, SQS %+v", d, d.SQS)
	}
	for _, r := range s.Routes {
		t.Logf("%-40s %-18s %s", r.Key(), r.Function, r.Authorizer)
	}
}
