// Package audience_test runs the audience, schedule and pacing tests
// end to end against a local cloud of their own: thousands of sends make
// moto's state large, and the other end-to-end tests (e2e/api) read it
// whole.
package audience_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/infra/contract"
	"github.com/heraldhq/herald/infra/localcloud"
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
	os.Exit(localcloud.RunSuite(m, &cloud, localcloud.Options{Contract: contract.MustLoad(), Now: clock.Now, Timing: &roomyTiming, NoSESEvents: true, NoStreams: true}))
}

// fixture is one tenant with a key and a verified sender domain.
type fixture struct {
	t testing.TB
	localcloud.Account
	campaignID string
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
	acct, err := cloud.NewAccount(context.Background(), tenant.Tenant{Org: fmt.Sprintf("AUD%d@AdobeOrg", n), Sandbox: "prod"}, fmt.Sprintf("games%d.%s", n, localcloud.DemoSenderDomain))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, Account: acct}
}

// do sends a request through the gateway and returns status and body.
func do(t testing.TB, method, path string, headers map[string]string, body any) (int, []byte) {
	t.Helper()
	return cloud.MustCall(t, method, path, headers, body)
}

func (f *fixture) mustDo(method, path string, body any, want int, out any) {
	f.t.Helper()
	cloud.MustExpect(f.t, f.Account, method, path, body, want, out)
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
