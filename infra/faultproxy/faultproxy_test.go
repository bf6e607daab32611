package faultproxy_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/infra/faultproxy"
)

func TestOperationIsReadFromEachProtocol(t *testing.T) {
	tests := []struct {
		name, method, path, target, body string
		service, op                      string
	}{
		{"DynamoDB JSON", "POST", "/", "DynamoDB_20120810.PutItem", `{}`, "dynamodb", "PutItem"},
		{"SQS JSON", "POST", "/", "AmazonSQS.SendMessageBatch", `{}`, "sqs", "SendMessageBatch"},
		{"SNS Query", "POST", "/", "", "Action=Publish&Version=2010-03-31&PhoneNumber=%2B1555", "sns", "Publish"},
		{"SES v2 REST", "POST", "/v2/email/outbound-emails", "", `{}`, "ses", "SendEmail"},
		{"SES account", "GET", "/v2/email/account", "", ``, "ses", "GetAccount"},
		{"moto's own API is nothing", "GET", "/moto-api/data.json", "", ``, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.target != "" {
				h.Set("X-Amz-Target", tt.target)
			}
			s, op := faultproxy.Operation(h, tt.method, tt.path, []byte(tt.body))
			if s != tt.service || op != tt.op {
				t.Errorf("Operation = %q %q, want %q %q", s, op, tt.service, tt.op)
			}
		})
	}
}

// setup returns a proxy in front of a target that counts what reached it.
func setup(t *testing.T, rules ...faultproxy.Rule) (url string, reached *atomic.Int32, p *faultproxy.Proxy) {
	t.Helper()
	reached = &atomic.Int32{}
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"MessageId":"m-1"}`))
	}))
	t.Cleanup(target.Close)
	p, err := faultproxy.New(target.URL, faultproxy.Plan{Seed: 1, Rules: rules})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return srv.URL, reached, p
}

func sendEmail(url string) (*http.Response, error) {
	c := &http.Client{Timeout: time.Second}
	return c.Post(url+"/v2/email/outbound-emails", "application/json", strings.NewReader(`{"Destination":{"ToAddresses":["cell-7@example.com"]}}`))
}

func TestEachFaultDoesWhatItSays(t *testing.T) {
	tests := []struct {
		rule        faultproxy.Rule
		wantReached int32
		wantStatus  int // 0: no answer
		wantHeader  string
	}{
		{faultproxy.Rule{Operation: "SendEmail", Fault: faultproxy.Error}, 0, 500, "InternalFailure"},
		{faultproxy.Rule{Operation: "SendEmail", Fault: faultproxy.Throttle}, 0, 429, "TooManyRequestsException"},
		{faultproxy.Rule{Operation: "SendEmail", Fault: faultproxy.Error, Status: 400, Code: "SendingPausedException"}, 0, 400, "SendingPausedException"},
		{faultproxy.Rule{Operation: "SendEmail", Fault: faultproxy.Reset}, 0, 0, ""},
		{faultproxy.Rule{Operation: "SendEmail", Fault: faultproxy.ForwardReset}, 1, 0, ""},
		{faultproxy.Rule{Operation: "SendEmail", Fault: faultproxy.Forward5xx}, 1, 500, "InternalFailure"},
		{faultproxy.Rule{Operation: "SendEmail", Fault: faultproxy.Drop}, 1, 0, ""},
		{faultproxy.Rule{Operation: "SendEmail", Fault: faultproxy.Duplicate}, 2, 200, ""},
		{faultproxy.Rule{Operation: "SendEmail", Fault: faultproxy.Delay, Delay: faultproxy.Duration(50 * time.Millisecond)}, 1, 200, ""},
		{faultproxy.Rule{Operation: "SendEmail", Match: []string{"cell-8"}, Fault: faultproxy.Error}, 1, 200, ""},
		{faultproxy.Rule{Operation: "Publish", Fault: faultproxy.Error}, 1, 200, ""},
	}
	for _, tt := range tests {
		name := string(tt.rule.Fault) + " on " + tt.rule.Operation + " " + strings.Join(tt.rule.Match, ",")
		t.Run(name, func(t *testing.T) {
			url, reached, _ := setup(t, tt.rule)
			resp, err := sendEmail(url)
			if tt.wantStatus == 0 {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("got an answer (%d), want none", resp.StatusCode)
				}
			} else {
				if err != nil {
					t.Fatalf("no answer: %v", err)
				}
				resp.Body.Close()
				if resp.StatusCode != tt.wantStatus || resp.Header.Get("X-Amzn-ErrorType") != tt.wantHeader {
					t.Errorf("answer %d %q, want %d %q", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), tt.wantStatus, tt.wantHeader)
				}
			}
			// A delayed or dropped request still arrives.
			deadline := time.Now().Add(2 * time.Second)
			for reached.Load() < tt.wantReached && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if got := reached.Load(); got != tt.wantReached {
				t.Errorf("the target got %d requests, want %d", got, tt.wantReached)
			}
		})
	}
}

func TestTimesForAndProbabilityBoundARule(t *testing.T) {
	url, reached, p := setup(t, faultproxy.Rule{Name: "twice", Operation: "SendEmail", Fault: faultproxy.Error, Times: 2})
	var statuses []int
	for range 4 {
		resp, err := sendEmail(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
	}
	if diff := cmp.Diff([]int{500, 500, 200, 200}, statuses); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if p.Hits("twice") != 2 || reached.Load() != 2 {
		t.Errorf("hits %d, reached %d; want 2 and 2", p.Hits("twice"), reached.Load())
	}

	p.SetPlan(faultproxy.Plan{Rules: []faultproxy.Rule{{Name: "brief", Operation: "SendEmail", Fault: faultproxy.Error, For: faultproxy.Duration(100 * time.Millisecond)}}})
	first, _ := sendEmail(url)
	first.Body.Close()
	time.Sleep(150 * time.Millisecond)
	later, _ := sendEmail(url)
	later.Body.Close()
	if first.StatusCode != 500 || later.StatusCode != 200 {
		t.Errorf("a rule For 100ms answered %d then %d, want 500 then 200", first.StatusCode, later.StatusCode)
	}

	p.SetPlan(faultproxy.Plan{Seed: 42, Rules: []faultproxy.Rule{{Name: "some", Operation: "SendEmail", Fault: faultproxy.Error, Probability: 0.3}}})
	for range 200 {
		resp, err := sendEmail(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if n := p.Hits("some"); n < 30 || n > 90 {
		t.Errorf("a 0.3 rule hit %d of 200 requests, want about 60", n)
	}
}

func TestTransportRefusesUnreachableCallsBeforeWriting(t *testing.T) {
	url, reached, p := setup(t, faultproxy.Rule{Operation: "SendEmail", Fault: faultproxy.Unreachable, Times: 1})
	client := &http.Client{Transport: p.Transport(nil)}
	req, _ := http.NewRequestWithContext(context.Background(), "POST", url+"/v2/email/outbound-emails", bytes.NewReader([]byte(`{}`)))
	_, err := client.Do(req)
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != "dial" || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("first call = %v, want a refused dial", err)
	}
	req, _ = http.NewRequestWithContext(context.Background(), "POST", url+"/v2/email/outbound-emails", bytes.NewReader([]byte(`{}`)))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if reached.Load() != 1 || !strings.Contains(string(body), "m-1") {
		t.Errorf("second call reached %d, body %s; want it through", reached.Load(), body)
	}
}

func TestPlansLoadFromFiles(t *testing.T) {
	p, err := faultproxy.LoadPlan("testdata/ses-answers-lost.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Rules) != 5 || p.Rules[3].Delay != faultproxy.Duration(300*time.Millisecond) || p.Rules[4].Fault != faultproxy.Unreachable {
		t.Errorf("plan = %+v", p)
	}
	if _, err := faultproxy.LoadPlan("testdata/missing.json"); err == nil {
		t.Error("LoadPlan of a missing file = nil, want an error")
	}
}

// TestErrorAnswersCarryTheRuleMessage reads an injected error through
// each SDK client, as Herald would: its code and its message (a
// provider's message may name the recipient, which Herald must not log).
func TestErrorAnswersCarryTheRuleMessage(t *testing.T) {
	const msg = `Email address is not verified. The following identities failed the check in region US-EAST-1: jane@example.com <&>`
	tests := []struct {
		name string
		rule faultproxy.Rule
		call func(ctx context.Context, cfg aws.Config) error
	}{
		{"SES v2 MessageRejected", faultproxy.Rule{Operation: "SendEmail", Fault: faultproxy.Error, Status: 400, Code: "MessageRejected", Message: msg},
			func(ctx context.Context, cfg aws.Config) error {
				_, err := sesv2.NewFromConfig(cfg).SendEmail(ctx, &sesv2.SendEmailInput{Content: &sestypes.EmailContent{}})
				return err
			}},
		{"SNS InvalidParameter", faultproxy.Rule{Operation: "Publish", Fault: faultproxy.Error, Status: 400, Code: "InvalidParameter", Message: msg},
			func(ctx context.Context, cfg aws.Config) error {
				_, err := awssns.NewFromConfig(cfg).Publish(ctx, &awssns.PublishInput{Message: aws.String("hi"), PhoneNumber: aws.String("+15550100")})
				return err
			}},
		{"DynamoDB ValidationException", faultproxy.Rule{Operation: "GetItem", Fault: faultproxy.Error, Status: 400, Code: "ValidationException", Message: msg},
			func(ctx context.Context, cfg aws.Config) error {
				_, err := dynamodb.NewFromConfig(cfg).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"),
					Key: map[string]dbtypes.AttributeValue{"pk": &dbtypes.AttributeValueMemberS{Value: "k"}}})
				return err
			}},
		{"a throttle with a message", faultproxy.Rule{Operation: "SendEmail", Fault: faultproxy.Throttle, Message: msg},
			func(ctx context.Context, cfg aws.Config) error {
				_, err := sesv2.NewFromConfig(cfg).SendEmail(ctx, &sesv2.SendEmailInput{Content: &sestypes.EmailContent{}})
				return err
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, reached, _ := setup(t, tt.rule)
			cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url), RetryMaxAttempts: 1,
				Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}
			err := tt.call(context.Background(), cfg)
			var ae smithy.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("error %v is not an API error", err)
			}
			wantCode := tt.rule.Code
			if wantCode == "" {
				wantCode = "TooManyRequestsException"
			}
			if ae.ErrorCode() != wantCode || ae.ErrorMessage() != msg {
				t.Errorf("error code %q message %q, want %q %q", ae.ErrorCode(), ae.ErrorMessage(), wantCode, msg)
			}
			if reached.Load() != 0 {
				t.Errorf("the target got %d requests, want none", reached.Load())
			}
		})
	}
}

func TestPeakCountsTheCallsUnderWayAtOnce(t *testing.T) {
	url, _, p := setup(t, faultproxy.Rule{Operation: "SendEmail", Fault: faultproxy.Delay, Delay: faultproxy.Duration(200 * time.Millisecond)})
	send := func(n int) {
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				if resp, err := sendEmail(url); err == nil {
					resp.Body.Close()
				}
			})
		}
		wg.Wait()
	}
	send(6)
	if got := p.Peak("SendEmail"); got != 6 {
		t.Errorf("Peak after 6 concurrent calls = %d, want 6", got)
	}
	p.ResetPeaks()
	for range 3 { // one at a time
		send(1)
	}
	if got := p.Peak("SendEmail"); got != 1 {
		t.Errorf("Peak after 3 calls one at a time = %d, want 1", got)
	}
}

func TestCallLogRecordsEachCallAndDepthCountsTheSequentialOnes(t *testing.T) {
	url, _, p := setup(t, faultproxy.Rule{Operation: "SendEmail", Fault: faultproxy.Delay, Delay: faultproxy.Duration(50 * time.Millisecond)})
	send := func() {
		if resp, err := sendEmail(url); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	send() // before StartLog: not recorded
	p.StartLog()
	send()
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(send)
	}
	wg.Wait()
	send()
	calls := p.CallLog()
	if len(calls) != 5 {
		t.Fatalf("CallLog has %d calls, want 5: %+v", len(calls), calls)
	}
	for _, c := range calls {
		if c.Service != "ses" || c.Operation != "SendEmail" || c.End.Before(c.Start) {
			t.Errorf("call %+v: want an ses SendEmail that ends after it starts", c)
		}
	}
	if got := faultproxy.Depth(calls); got != 3 {
		t.Errorf("Depth(one call, three at once, one call) = %d, want 3", got)
	}
	send()
	if got := len(p.CallLog()); got != 5 {
		t.Errorf("CallLog has %d calls after a call made once CallLog stopped the log, want still 5", got)
	}
}

func TestDepthIsTheLongestChainOfCallsOneAfterAnother(t *testing.T) {
	at := func(s, e int) faultproxy.Call {
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		return faultproxy.Call{Start: t0.Add(time.Duration(s) * time.Millisecond), End: t0.Add(time.Duration(e) * time.Millisecond)}
	}
	tests := []struct {
		name  string
		calls []faultproxy.Call
		want  int
	}{
		{"no call is no round trip", nil, 0},
		{"overlapping calls are one round trip", []faultproxy.Call{at(0, 10), at(5, 15), at(9, 12)}, 1},
		{"a call starting as another ends follows it", []faultproxy.Call{at(0, 10), at(10, 20)}, 2},
		{"the longest chain counts, not the number of calls", []faultproxy.Call{at(0, 30), at(0, 10), at(11, 20), at(21, 40), at(41, 50)}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := faultproxy.Depth(tt.calls); got != tt.want {
				t.Errorf("Depth = %d, want %d", got, tt.want)
			}
		})
	}
}
