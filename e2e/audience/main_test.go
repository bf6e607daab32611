// Package audience_test runs the audience, schedule and pacing tests
// end to end against a local cloud of their own: thousands of sends make
// moto's state large, and the other end-to-end tests (e2e/api) read it
// whole.
package audience_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/heraldhq/herald/infra/localcloud"
	"github.com/heraldhq/herald/infra/motoserver"
	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/tenant"
)

var cloud *localcloud.Cloud

// roomyTiming leaves room for what these tests do: thousands of members
// through one moto on a shared two-core machine, where a fan-out page or
// a batch of sends can take seconds. FastTiming's 5 s Dispatch and 10 s
// deadline would turn a slow machine into ambiguous sends; here nothing
// should fail, so the numbers are loose and the checks stay exact.
var roomyTiming = localcloud.Timing{DispatchTimeout: 20 * time.Second, SendTimeout: 2 * time.Second, StaleAttempt: 25 * time.Second,
	RetryFirst: time.Second, RetryMax: 5 * time.Second, RetryDeadline: time.Minute,
	Visibility: 45 * time.Second, MaxReceiveCount: 40, Env: localcloud.FastTiming.Env}

func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	var logw io.Writer = io.Discard
	if os.Getenv("HERALD_TEST_LOG") != "" {
		logw = os.Stderr
	}
	var err error
	cloud, err = localcloud.Start(ctx, localcloud.Options{
		TemplatePath: "../../template.yaml", Addr: "127.0.0.1:0", ManualPolling: true, Now: clock.Now, Timing: &roomyTiming,
		Log: slog.New(slog.NewJSONHandler(logw, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "start local cloud:", err)
		os.Exit(1)
	}
	code := m.Run()
	cloud.Close()
	motoserver.StopShared()
	os.Exit(code)
}

// fixture is one tenant with a key and a verified sender domain.
type fixture struct {
	t          testing.TB
	secret     string
	keyID      string
	campaignID string
	domain     string
	tenant     tenant.Tenant
}

var fixtureSeq struct {
	sync.Mutex
	n int
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	fixtureSeq.Lock()
	fixtureSeq.n++
	n := fixtureSeq.n
	fixtureSeq.Unlock()
	ctx := context.Background()
	tn := tenant.Tenant{Org: fmt.Sprintf("AUD%d@AdobeOrg", n), Sandbox: "prod"}
	k, secret, err := auth.Mint(ctx, cloud.App.Keys(), tn, []auth.Scope{auth.ScopeTrigger, auth.ScopeManage, auth.ScopeRead}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	domain := fmt.Sprintf("games%d.%s", n, localcloud.DemoSenderDomain) // a subdomain of the sender identity
	if _, err := sesv2.NewFromConfig(cloud.AWS).CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(domain)}); err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, secret: secret, keyID: k.ID, tenant: tn, domain: domain}
}

func (f *fixture) headers() map[string]string {
	return map[string]string{"Authorization": "Bearer " + f.secret, "x-api-key": f.keyID,
		"x-gw-ims-org-id": f.tenant.Org, "x-sandbox-name": f.tenant.Sandbox, "Content-Type": "application/json"}
}

// do sends a request through the gateway and returns status and body.
func do(t testing.TB, method, path string, headers map[string]string, body any) (int, []byte) {
	t.Helper()
	status, _, out, err := cloud.Call(method, path, headers, body)
	if err != nil {
		t.Fatal(err)
	}
	return status, out
}

func (f *fixture) mustDo(method, path string, body any, want int, out any) {
	f.t.Helper()
	status, b := do(f.t, method, path, f.headers(), body)
	if status != want {
		f.t.Fatalf("%s %s = %d %s, want %d", method, path, status, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			f.t.Fatal(err)
		}
	}
}

// drain runs Dispatch over everything queued.
func drain(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := cloud.Drain(ctx); err != nil {
		t.Fatal(err)
	}
}

func checkErrorShape(t testing.TB, body []byte, status int) {
	t.Helper()
	var e struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Status int    `json:"status"`
		Detail string `json:"detail"`
		Report *struct {
			AdditionalContext map[string]string `json:"additionalContext"`
		} `json:"report"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body is not JSON: %s", body)
	}
	if !strings.HasPrefix(e.Type, "urn:herald:error:") || e.Title == "" || e.Status != status || e.Detail == "" || e.Report == nil {
		t.Errorf("error body %s lacks the documented shape", body)
	}
}
