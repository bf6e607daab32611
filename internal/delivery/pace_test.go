package delivery

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/tenant"
)

func TestBackoffDoublesUpToItsCap(t *testing.T) {
	tm := Timing{RetryFirst: 5 * time.Second, RetryMax: time.Minute}
	var got []time.Duration
	for n := 1; n <= 6; n++ {
		got = append(got, tm.Backoff(n))
	}
	want := []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second, time.Minute, time.Minute}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Backoff (-want +got):\n%s", diff)
	}
	for range 1000 {
		if j := Jitter(10 * time.Second); j < 5*time.Second || j > 10*time.Second {
			t.Fatalf("Jitter(10s) = %s, want within [5s, 10s]", j)
		}
	}
}

func TestTheDefaultScheduleFitsTheTemplatesQueue(t *testing.T) {
	if n := DefaultTiming.ReceivesWithin(); n > 35 {
		t.Errorf("ReceivesWithin = %d: the template's maxReceiveCount of 50 leaves too little margin", n)
	}
	if err := DefaultTiming.Check(Queue{FunctionTimeout: 30 * time.Second, Visibility: 180 * time.Second, MaxReceiveCount: 50}); err != nil {
		t.Errorf("Check = %v, want the template's numbers to fit", err)
	}
	err := DefaultTiming.Check(Queue{FunctionTimeout: 30 * time.Second, Visibility: 60 * time.Second, MaxReceiveCount: 5})
	for _, want := range []string{"visibility timeout", "maxReceiveCount"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Check of a short visibility and few receives = %v, want it to name the %s", err, want)
		}
	}
}

// fakeClock drives a Limiter without sleeping.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	c.now = c.now.Add(d)
	return nil
}

func TestALimiterSpacesSendsAndRefusesLongWaits(t *testing.T) {
	c := &fakeClock{now: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)}
	l := NewLimiter(10)
	l.now, l.sleep = c.Now, c.Sleep
	start := c.now
	for i := range 5 {
		if !l.Wait(context.Background(), time.Second) {
			t.Fatalf("send %d refused", i)
		}
	}
	if got := c.now.Sub(start); got != 400*time.Millisecond {
		t.Errorf("five sends at 10/s took %s, want 400ms (the first at once)", got)
	}
	// Book a second ahead, then ask for a slot more than 100ms away.
	for range 10 {
		l.Wait(context.Background(), time.Second)
	}
	l.sleep = func(context.Context, time.Duration) error { return nil } // time stands still
	if l.Wait(context.Background(), 50*time.Millisecond) {
		t.Error("Wait with a slot further than max = true, want false")
	}
	if (*Limiter)(nil).Wait(context.Background(), 0) != true || NewLimiter(0).Wait(context.Background(), 0) != true {
		t.Error("a nil or zero-rate limiter must never wait")
	}
}

func TestAHoldLetsOneProbeThroughAndDoublesWhenItFails(t *testing.T) {
	var h holds
	acme := tenant.Tenant{Org: "acme", Sandbox: "prod"}
	t0 := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	if ok, _, _ := h.check(acme, campaign.Email, t0); !ok {
		t.Fatal("a channel never held is held")
	}
	if d := h.failed(acme, campaign.Email, "SendingPausedException", t0, 5*time.Second, time.Minute); d != 5*time.Second {
		t.Errorf("first hold = %s, want 5s", d)
	}
	if ok, wait, code := h.check(acme, campaign.Email, t0.Add(time.Second)); ok || wait != 4*time.Second || code != "SendingPausedException" {
		t.Errorf("check during the hold = %v %s %q", ok, wait, code)
	}
	if ok, _, _ := h.check(acme, campaign.SMS, t0.Add(time.Second)); !ok {
		t.Error("another channel is held too")
	}
	if ok, _, _ := h.check(tenant.Tenant{Org: "globex", Sandbox: "prod"}, campaign.Email, t0.Add(time.Second)); !ok {
		t.Error("another tenant is held too")
	}
	if ok, _, _ := h.check(acme, campaign.Email, t0.Add(5*time.Second)); !ok {
		t.Fatal("the probe after the hold was refused")
	}
	if ok, _, _ := h.check(acme, campaign.Email, t0.Add(5*time.Second)); ok {
		t.Error("a second attempt went through while the probe is out")
	}
	if d := h.failed(acme, campaign.Email, "SendingPausedException", t0.Add(6*time.Second), 5*time.Second, time.Minute); d != 10*time.Second {
		t.Errorf("hold after a failed probe = %s, want 10s", d)
	}
	h.succeeded(acme, campaign.Email)
	if ok, _, _ := h.check(acme, campaign.Email, t0.Add(7*time.Second)); !ok {
		t.Error("still held after a probe succeeded")
	}
}
