package localcloud

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
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
		"FeedbackDeadLetterQueue http://127.0.0.1:5000/123456789012/herald-local-FeedbackDeadLetterQueue ",
		"ReportsDeadLetterQueue http://127.0.0.1:5000/123456789012/herald-local-ReportsDeadLetterQueue ",
		"SchedulerDeadLetterQueue http://127.0.0.1:5000/123456789012/herald-local-SchedulerDeadLetterQueue ",
		"WebhookDeadLetterQueue http://127.0.0.1:5000/123456789012/herald-local-WebhookDeadLetterQueue ",
		"DeferralQueue http://127.0.0.1:5000/123456789012/herald-local-DeferralQueue arn:aws:sqs:us-east-1:123456789012:herald-local-DispatchDeadLetterQueue",
		"DispatchQueue http://127.0.0.1:5000/123456789012/herald-local-DispatchQueue arn:aws:sqs:us-east-1:123456789012:herald-local-DispatchDeadLetterQueue",
		"WebhookQueue http://127.0.0.1:5000/123456789012/herald-local-WebhookQueue arn:aws:sqs:us-east-1:123456789012:herald-local-WebhookDeadLetterQueue",
	}
	if diff := cmp.Diff(wantQueues, queues); diff != "" {
		t.Errorf("queues (-want +got):\n%s", diff)
	}
	queue := func(id string) *Queue {
		for _, q := range s.Queues {
			if q.LogicalID == id {
				return q
			}
		}
		t.Fatalf("no queue %s", id)
		return nil
	}
	if q := queue("DispatchQueue"); q.MaxReceiveCount != 50 || *q.Def.VisibilityTimeout != 180 {
		t.Errorf("DispatchQueue: maxReceiveCount %d, visibility %d; want 50, 180", q.MaxReceiveCount, *q.Def.VisibilityTimeout)
	}

	sched := func(m map[string]string) map[string]string {
		m["HERALD_SCHEDULE_GROUP"] = "herald-local-HeraldScheduleGroup"
		m["HERALD_SCHEDULER_TARGET_ARN"] = "arn:aws:lambda:us-east-1:123456789012:function:herald-local-scheduler"
		m["HERALD_SCHEDULER_ROLE_ARN"] = "arn:aws:iam::123456789012:role/herald-local-SchedulerInvokeRole"
		m["HERALD_SCHEDULER_DLQ_ARN"] = "arn:aws:sqs:us-east-1:123456789012:herald-local-SchedulerDeadLetterQueue"
		return m
	}
	queueURL := "http://127.0.0.1:5000/123456789012/herald-local-DispatchQueue"
	deferralURL := "http://127.0.0.1:5000/123456789012/herald-local-DeferralQueue"
	webhookURL := "http://127.0.0.1:5000/123456789012/herald-local-WebhookQueue"
	guard := func(m map[string]string) map[string]string {
		m["HERALD_REPUTATION_BOUNCE_RATE"], m["HERALD_REPUTATION_COMPLAINT_RATE"], m["HERALD_REPUTATION_MIN_SENDS"] = "0.04", "0.0008", "500"
		return m
	}
	rates := func(m map[string]string) map[string]string {
		m["HERALD_RATE_EXECUTION"], m["HERALD_RATE_HIGHTHROUGHPUT"], m["HERALD_RATE_MANAGEMENT"] = "500", "5000", "100"
		return m
	}
	wantEnv := map[string]map[string]string{
		"TriggerFunction": rates(sched(map[string]string{"HERALD_TABLE": "herald-local-HeraldTable", "HERALD_LOG_LEVEL": "INFO", "HERALD_METRICS_TENANT": "false",
			"HERALD_DISPATCH_QUEUE_URL": queueURL, "HERALD_EVENT_ORG": "", "HERALD_EVENT_SANDBOX": "", "HERALD_TOKEN_SECRET_ARN": "herald-local-TokenSigningSecret"})),
		"ManageFunction": rates(guard(sched(map[string]string{"HERALD_TABLE": "herald-local-HeraldTable", "HERALD_LOG_LEVEL": "INFO", "HERALD_METRICS_TENANT": "false", "HERALD_SES_CONFIGURATION_SET": "herald-local-HeraldConfigurationSet",
			"HERALD_SES_CONFIGURATION_SET_CLICKS": "herald-local-HeraldConfigurationSetClicks", "HERALD_SES_CONFIGURATION_SET_UNTRACKED": "herald-local-HeraldConfigurationSetUntracked",
			"HERALD_UNSUBSCRIBE_SECRET": DemoUnsubscribeSecret, "HERALD_DISPATCH_QUEUE_URL": queueURL, "HERALD_WEBHOOK_QUEUE_URL": webhookURL,
			"HERALD_SENDER_IDENTITY": "herald.example", "HERALD_PUSH_APPLICATIONS": "", "HERALD_TOKEN_SECRET_ARN": "herald-local-TokenSigningSecret"}))),
		"SchedulerFunction": sched(map[string]string{"HERALD_TABLE": "herald-local-HeraldTable", "HERALD_LOG_LEVEL": "INFO", "HERALD_METRICS_TENANT": "false", "HERALD_DISPATCH_QUEUE_URL": queueURL,
			"HERALD_DEFERRAL_QUEUE_URL": deferralURL}),
		// No scheduler settings: Dispatch puts deferrals on the deferral
		// queue, which the Scheduler function consumes.
		"DispatchFunction": {"HERALD_TABLE": "herald-local-HeraldTable", "HERALD_LOG_LEVEL": "INFO", "HERALD_METRICS_TENANT": "false", "HERALD_SES_CONFIGURATION_SET": "herald-local-HeraldConfigurationSet",
			"HERALD_SES_CONFIGURATION_SET_CLICKS": "herald-local-HeraldConfigurationSetClicks", "HERALD_SES_CONFIGURATION_SET_UNTRACKED": "herald-local-HeraldConfigurationSetUntracked",
			"HERALD_UNSUBSCRIBE_SECRET": DemoUnsubscribeSecret,
			"HERALD_PUBLIC_URL":         "https://herald-local-HeraldApi.execute-api.us-east-1.amazonaws.com",
			"HERALD_DISPATCH_QUEUE_URL": queueURL, "HERALD_WEBHOOK_QUEUE_URL": webhookURL, "HERALD_SEND_TIMEOUT": "10s", "HERALD_STALE_ATTEMPT": "60s",
			"HERALD_RETRY_FIRST": "5s", "HERALD_RETRY_MAX": "5m", "HERALD_RETRY_DEADLINE": "1h", "HERALD_RECONCILE_AFTER": "15m",
			"HERALD_EMAIL_RATE": "50", "HERALD_SMS_RATE": "20", "HERALD_PUSH_RATE": "200", "HERALD_DISPATCH_INSTANCES": "5",
			"HERALD_SENDER_IDENTITY": "herald.example", "HERALD_PUSH_APPLICATIONS": "", "HERALD_DEFERRAL_QUEUE_URL": deferralURL},
		"DeadLetterFunction": {"HERALD_TABLE": "herald-local-HeraldTable", "HERALD_LOG_LEVEL": "INFO", "HERALD_METRICS_TENANT": "false", "HERALD_WEBHOOK_QUEUE_URL": webhookURL},
		"FeedbackFunction":   guard(map[string]string{"HERALD_TABLE": "herald-local-HeraldTable", "HERALD_LOG_LEVEL": "INFO", "HERALD_METRICS_TENANT": "false", "HERALD_WEBHOOK_QUEUE_URL": webhookURL}),
		"ReportsFunction":    {"HERALD_TABLE": "herald-local-HeraldTable", "HERALD_LOG_LEVEL": "INFO", "HERALD_METRICS_TENANT": "false"},
		"WebhookFunction": {"HERALD_TABLE": "herald-local-HeraldTable", "HERALD_LOG_LEVEL": "INFO", "HERALD_METRICS_TENANT": "false", "HERALD_WEBHOOK_QUEUE_URL": webhookURL,
			"HERALD_WEBHOOK_DLQ_URL": "http://127.0.0.1:5000/123456789012/herald-local-WebhookDeadLetterQueue"},
	}
	if diff := cmp.Diff([]string{"herald-local-HeraldScheduleGroup"}, s.ScheduleGroups); diff != "" {
		t.Errorf("schedule groups (-want +got):\n%s", diff)
	}
	if f := s.Functions["SchedulerFunction"]; f.Name != "herald-local-scheduler" || f.ARN != wantEnv["TriggerFunction"]["HERALD_SCHEDULER_TARGET_ARN"] {
		t.Errorf("SchedulerFunction is %s %s; its name must match the schedules' target", f.Name, f.ARN)
	}
	// Every function writes to the table: each reads the retention (Globals).
	for _, m := range wantEnv {
		m["HERALD_RETENTION_EXECUTIONS_DAYS"], m["HERALD_RETENTION_LEDGER_DAYS"], m["HERALD_RETENTION_RECIPIENT_LISTS_DAYS"] = "90", "90", "90"
		m["HERALD_RETENTION_IDEMPOTENCY_DAYS"], m["HERALD_RETENTION_WEBHOOK_DELIVERIES_DAYS"], m["HERALD_RETENTION_COUNTERS_DAYS"] = "7", "7", "90"
	}
	gotEnv := map[string]map[string]string{}
	for id, f := range s.Functions {
		gotEnv[id] = f.Env
	}
	if diff := cmp.Diff(wantEnv, gotEnv); diff != "" {
		t.Errorf("function environments (-want +got):\n%s", diff)
	}
	d := s.Functions["DispatchFunction"]
	if d.Timeout != 30*time.Second || len(d.SQS) != 1 || d.SQS[0].BatchSize != 10 || !d.SQS[0].ReportBatchItemFailures || d.SQS[0].QueueARN != queue("DispatchQueue").ARN {
		t.Errorf("DispatchFunction = %+v, SQS %+v", d, d.SQS)
	}
	// Dispatch, which renders and sends, may not schedule nor pass a
	// role: its deferrals go through the deferral queue.
	for _, st := range d.Policy.Statements {
		for _, a := range append(append([]string{}, st.Action...), st.NotAction...) {
			if strings.HasPrefix(a, "scheduler:") || a == "iam:PassRole" {
				t.Errorf("DispatchFunction's statement %s allows %s", st.Sid, a)
			}
		}
	}
	if q := queue("DeferralQueue"); q.MaxReceiveCount != 10 || *q.Def.VisibilityTimeout != 900 {
		t.Errorf("DeferralQueue: maxReceiveCount %d, visibility %d; want 10, 900 (the Scheduler function's timeout)", q.MaxReceiveCount, *q.Def.VisibilityTimeout)
	}
	sf := s.Functions["SchedulerFunction"]
	if len(sf.SQS) != 1 || !sf.SQS[0].ReportBatchItemFailures || sf.SQS[0].QueueARN != queue("DeferralQueue").ARN || sf.Timeout > 900*time.Second {
		t.Errorf("SchedulerFunction SQS %+v, timeout %v; want the deferral queue with batch item failures", sf.SQS, sf.Timeout)
	}
	if q := queue("WebhookQueue"); q.MaxReceiveCount != 100 || *q.Def.VisibilityTimeout != 180 {
		t.Errorf("WebhookQueue: maxReceiveCount %d, visibility %d; want 100, 180", q.MaxReceiveCount, *q.Def.VisibilityTimeout)
	}
	wh := s.Functions["WebhookFunction"]
	if wh.Timeout != 30*time.Second || len(wh.SQS) != 1 || !wh.SQS[0].ReportBatchItemFailures || wh.SQS[0].QueueARN != queue("WebhookQueue").ARN {
		t.Errorf("WebhookFunction = %+v, SQS %+v; want the webhook queue with batch item failures", wh, wh.SQS)
	}
	dl := s.Functions["DeadLetterFunction"]
	if len(dl.SQS) != 1 || dl.SQS[0].QueueARN != s.Queues[0].ARN || !dl.SQS[0].ReportBatchItemFailures {
		t.Errorf("DeadLetterFunction SQS %+v, want the dispatch dead-letter queue with batch item failures", dl.SQS)
	}
	rep := s.Functions["ReportsFunction"]
	wantSrc := []DynamoDBSource{{TableARN: s.Tables[0].ARN, BatchSize: 100, StartingPosition: "TRIM_HORIZON", ReportBatchItemFailures: true,
		MaximumRetryAttempts: 10, Filters: []map[string]any{{"dynamodb": map[string]any{"Keys": map[string]any{"sk": map[string]any{
			"S": []any{map[string]any{"prefix": "T#"}}}}}}}}}
	if diff := cmp.Diff(wantSrc, rep.DynamoDB); diff != "" || rep.Policy.Role != "" {
		t.Errorf("ReportsFunction's stream (-want +got):\n%s", diff)
	}
	for _, r := range s.Routes {
		t.Logf("%-40s %-18s %s", r.Key(), r.Function, r.Authorizer)
	}
}

func TestTheTemplatesDeliveryTimingFits(t *testing.T) {
	s, err := LoadStack("../../template.yaml", StackOptions{MotoURL: "http://127.0.0.1:5000", Parameters: DefaultParameters})
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckDeliveryTiming(s); err != nil {
		t.Errorf("template.yaml: %v", err)
	}
	if err := FastTiming.Apply(s); err != nil {
		t.Fatal(err)
	}
	if err := CheckDeliveryTiming(s); err != nil {
		t.Errorf("FastTiming: %v", err)
	}
}

func TestDeliveryTimingThatCouldLoseARecipientIsRefused(t *testing.T) {
	tests := []struct {
		name string
		t    Timing
		want string
	}{
		{"a visibility timeout shorter than Dispatch's timeout plus the stale age", Timing{Visibility: 60 * time.Second}, "visibility timeout"},
		{"a stale age within Dispatch's timeout and the time to record an answer", Timing{StaleAttempt: 32 * time.Second}, "stale attempt age"},
		{"a send timeout that leaves no time to record its answer", Timing{SendTimeout: 29500 * time.Millisecond}, "send timeout"},
		{"too few receives for the retry deadline", Timing{MaxReceiveCount: 5}, "maxReceiveCount"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := LoadStack("../../template.yaml", StackOptions{MotoURL: "http://127.0.0.1:5000", Parameters: DefaultParameters})
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.t.Apply(s); err != nil {
				t.Fatal(err)
			}
			err = CheckDeliveryTiming(s)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("CheckDeliveryTiming = %v, want an error about the %s", err, tt.want)
			}
		})
	}
}

func TestStreamFiltersKeepOnlyWhatTheirPatternsMatch(t *testing.T) {
	p := &StreamPoller{Source: DynamoDBSource{Filters: []map[string]any{{"dynamodb": map[string]any{"Keys": map[string]any{"sk": map[string]any{
		"S": []any{map[string]any{"prefix": "T#"}}}}}, "eventName": []any{"INSERT", "MODIFY"}}}}}
	rec := func(name, sk string) events.DynamoDBEventRecord {
		return events.DynamoDBEventRecord{EventName: name, Change: events.DynamoDBStreamRecord{Keys: map[string]events.DynamoDBAttributeValue{
			"pk": events.NewStringAttribute("T#a#b#EXEC#x"), "sk": events.NewStringAttribute(sk)}}}
	}
	for _, tt := range []struct {
		rec  events.DynamoDBEventRecord
		want bool
	}{
		{rec("MODIFY", "T#0001"), true},
		{rec("INSERT", "T#0002"), true},
		{rec("REMOVE", "T#0001"), false},
		{rec("MODIFY", "R#crm#u1#email"), false},
		{rec("MODIFY", "EXEC"), false},
	} {
		if got := p.keeps(tt.rec); got != tt.want {
			t.Errorf("keeps(%s %s) = %v, want %v", tt.rec.EventName, tt.rec.Change.Keys["sk"].String(), got, tt.want)
		}
	}
}
