// Package mutant_test sends mutants of a valid request for every
// management and execution route through a local cloud of its own (the
// gateway, the authorizer, the real DynamoDB store on moto, SQS, SES,
// SNS, EventBridge Scheduler) and proves issue 10's rule where 500s came
// from: bad input is never a 5xx, and a refused request stores and sends
// nothing. What was stored or sent is seen on the wire: a proxy in front
// of moto counts every mutating call that succeeded.
package mutant_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/heraldhq/herald/infra/contract"
	"github.com/heraldhq/herald/infra/localcloud"
	"github.com/heraldhq/herald/infra/motoserver"
	"github.com/heraldhq/herald/infra/mutant"
	"github.com/heraldhq/herald/internal/tenant"
	"github.com/heraldhq/herald/internal/unsubscribe"
)

var (
	cloud *localcloud.Cloud
	wire  *recorder
)

func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	moto, err := motoserver.Start(ctx, motoserver.Options{})
	if err != nil {
		return 0, fmt.Errorf("start moto: %w", err)
	}
	defer moto.Close()
	target, err := url.Parse(moto.URL())
	if err != nil {
		return 0, err
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	// A call the SDK gave up on (its context cancelled) is the SDK's to
	// retry or report; the proxy need not say so on stderr.
	proxy.ErrorLog = log.New(io.Discard, "", 0)
	wire = &recorder{proxy: proxy}
	front := httptest.NewServer(wire)
	defer front.Close()
	checker := contract.MustLoad()
	cloud, err = localcloud.Start(ctx, localcloud.Options{
		TemplatePath: "../../template.yaml", Addr: "127.0.0.1:0", MotoURL: front.URL, ManualPolling: true, Contract: checker,
		// The seeds' configurations send as the fixture's domain. The
		// rate limiter is off: its lease is a DynamoDB write the recorder
		// would count against a refused request.
		Parameters: map[string]string{"SenderIdentity": mutant.FixtureDomain,
			"ExecutionRateLimit": "0", "HighThroughputRateLimit": "0", "ManagementRateLimit": "0"},
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	})
	if err != nil {
		return 0, fmt.Errorf("start local cloud: %w", err)
	}
	defer cloud.Close()
	if _, err := sesv2.NewFromConfig(cloud.AWS).CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(mutant.FixtureDomain)}); err != nil {
		return 0, err
	}
	code := m.Run()
	if err := checker.Verdict(); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: the API broke its contract:", err)
		code = 1
	}
	return code, nil
}

// recorder proxies to moto and counts the calls that stored or sent
// something: a DynamoDB write, an SQS send, an SES send, an SNS publish or
// endpoint change, a schedule change, answered with success.
type recorder struct {
	proxy  *httputil.ReverseProxy
	mu     sync.Mutex
	writes int
	last   string
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	op := mutating(req)
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	r.proxy.ServeHTTP(sw, req)
	if op != "" && sw.status < 300 {
		r.mu.Lock()
		r.writes++
		r.last = op
		r.mu.Unlock()
	}
}

// state is the number of mutating calls so far and the last one.
func (r *recorder) state() (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return fmt.Sprintf("%d writes, last %s", r.writes, r.last), nil
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

var dynamoWrites = map[string]bool{"PutItem": true, "UpdateItem": true, "DeleteItem": true, "BatchWriteItem": true, "TransactWriteItems": true}

// mutating names the call if it can store or send something ("" if not),
// from the service in its signature and its operation.
func mutating(req *http.Request) string {
	_, scope, _ := strings.Cut(req.Header.Get("Authorization"), "Credential=")
	parts := strings.Split(scope, "/")
	if len(parts) < 4 {
		return "" // moto's own API
	}
	service := parts[3]
	_, op, _ := strings.Cut(req.Header.Get("X-Amz-Target"), ".")
	switch service {
	case "dynamodb":
		if dynamoWrites[op] {
			return "dynamodb " + op
		}
	case "sqs":
		if op == "" {
			op = formAction(req)
		}
		if strings.HasPrefix(op, "SendMessage") {
			return "sqs " + op
		}
	case "sns":
		if a := formAction(req); !strings.HasPrefix(a, "Get") && !strings.HasPrefix(a, "List") && !strings.HasPrefix(a, "Check") {
			return "sns " + a
		}
	case "ses", "scheduler":
		if req.Method != http.MethodGet {
			return service + " " + req.Method + " " + req.URL.Path
		}
	}
	return ""
}

// formAction reads a query-protocol request's Action, leaving its body
// readable.
func formAction(req *http.Request) string {
	b, err := io.ReadAll(req.Body)
	if err != nil {
		return "unreadable"
	}
	req.Body = io.NopCloser(bytes.NewReader(b))
	v, _ := url.ParseQuery(string(b))
	return v.Get("Action")
}

var tenantSeq struct {
	sync.Mutex
	n int
}

// newTenant mints a key for a fresh tenant and returns its caller.
func newTenant() (mutant.Env, error) {
	tenantSeq.Lock()
	tenantSeq.n++
	tn := tenant.Tenant{Org: fmt.Sprintf("MUT%d@AdobeOrg", tenantSeq.n), Sandbox: "prod"}
	tenantSeq.Unlock()
	acct, err := cloud.NewAccount(context.Background(), tn, "")
	if err != nil {
		return mutant.Env{}, err
	}
	signer, err := unsubscribe.New(localcloud.DemoUnsubscribeSecret)
	if err != nil {
		return mutant.Env{}, err
	}
	headers := acct.Headers()
	call := func(r mutant.Request) (int, []byte, error) {
		method, path, _ := strings.Cut(r.Route, " ")
		for name, v := range r.Params {
			path = strings.ReplaceAll(path, "{"+name+"}", url.PathEscape(v))
		}
		if len(r.Query) > 0 {
			q := url.Values{}
			for k, v := range r.Query {
				q.Set(k, v)
			}
			path += "?" + q.Encode()
		}
		var body any
		if len(r.Body) > 0 {
			body = []byte(r.Body)
		}
		status, _, out, err := cloud.Call(method, path, headers, body)
		return status, out, err
	}
	token := signer.Token(unsubscribe.Claims{Tenant: tn, Channel: "email", Address: "p-1@" + mutant.FixtureDomain, CampaignID: "c"})
	return mutant.Env{Call: call, State: wire.state, Values: map[string]string{"$token": token}}, nil
}

// mutantsPerSeed × the seeds (53) is about 850 mutants against moto, some
// 16 s; the budget bounds the run on a busy machine.
const (
	mutantsPerSeed = 16
	budget         = 20 * time.Second
)

// Issue 10 on the real store: numbers beyond DynamoDB's range, empty
// keys, oversized keys, deep nesting and the rest are 4xx, and nothing is
// written to DynamoDB, queued on SQS, sent by SES or SNS or scheduled for
// a refused request.
func TestMutantsOfEveryRouteAreNeverServerErrorsOnMoto(t *testing.T) {
	seeds, err := mutant.Seeds()
	if err != nil {
		t.Fatal(err)
	}
	opts := mutant.OptionsFromEnv(mutant.Options{Seed: 20261130, PerSeed: mutantsPerSeed, Budget: budget})
	if testing.Short() {
		opts.PerSeed /= 4
	}
	rep, err := mutant.Run(mutant.Target{New: newTenant, Now: time.Now()}, seeds, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d mutants tried on moto in %s: %d accepted, %d refused, %d 5xx", rep.Tried, rep.Elapsed.Round(time.Millisecond), rep.Accepted, rep.Refused, rep.ServerErrors)
	for _, f := range rep.Failures {
		t.Error(f)
	}
	if rep.ServerErrors > 0 {
		t.Errorf("%d mutants were answered with a 5xx, want none", rep.ServerErrors)
	}
}
