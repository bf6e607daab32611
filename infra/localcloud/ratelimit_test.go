package localcloud

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/heraldhq/herald/infra/motoserver"
	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/httpapi"
	"github.com/heraldhq/herald/internal/tenant"
)

// The template's rate limit parameters reach the functions, which answer
// a tenant over its limit 429 in the error shape with Retry-After, on the
// real store. The check holds whatever the machine's speed: the requests
// admitted never outnumber the limit times the seconds the run spans, and
// 20 requests at 2 a second that span fewer than 10 seconds must meet a
// refusal.
func TestATenantOverItsRateLimitIsAnswered429(t *testing.T) {
	moto := motoserver.Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := moto.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := Start(ctx, Options{TemplatePath: "../../template.yaml", Addr: "127.0.0.1:0", MotoURL: moto.URL(), ManualPolling: true,
		Parameters: map[string]string{"ManagementRateLimit": "2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A loaded machine's moto may take longer than the limiter waits
	// before failing open; this test is about refusing.
	c.Functions["ManageFunction"].RateLimiter().StoreTimeout = 30 * time.Second
	tn := tenant.Tenant{Org: "RATE@AdobeOrg", Sandbox: "prod"}
	_, secret, err := auth.Mint(ctx, c.App.Keys(), tn, []auth.Scope{auth.ScopeRead}, time.Now())
	if err != nil {
		t.Fatal(err)
	}

	const limit, requests = 2, 20
	first := time.Now().Unix()
	admitted, refused := 0, 0
	for range requests {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL+"/campaigns", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			admitted++
		case http.StatusTooManyRequests:
			refused++
			var e httpapi.ErrorResponse
			if err := json.Unmarshal(body, &e); err != nil || e.Status != 429 || e.Type != httpapi.ErrorTypeBase+"too-many-requests" {
				t.Errorf("429 body %s (%v), want the error shape of too-many-requests", body, err)
			}
			if ra := resp.Header.Get("Retry-After"); ra != "1" {
				t.Errorf("Retry-After = %q, want 1", ra)
			}
		default:
			t.Fatalf("GET /campaigns: %d %s", resp.StatusCode, body)
		}
	}
	seconds := int(time.Now().Unix()-first) + 1
	t.Logf("%d admitted, %d refused over %d wall-clock seconds", admitted, refused, seconds)
	if admitted > limit*seconds {
		t.Errorf("%d requests admitted in %d seconds at %d a second", admitted, seconds, limit)
	}
	if seconds < requests/limit && refused == 0 {
		t.Errorf("no request refused")
	}
}
