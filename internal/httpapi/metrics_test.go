package httpapi_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/httpapi"
	"github.com/heraldhq/herald/internal/metrics"
)

func TestTriggerAnswersAreCountedByRouteStatusAndOutcome(t *testing.T) {
	f := newTriggerFixture(t)
	var out bytes.Buffer
	rec := metrics.New(&out, "trigger", false)
	trigger := httpapi.Trigger(f.svc, testAccess, slog.New(slog.DiscardHandler), httpapi.WithMetrics(rec))
	if status, body := call(t, trigger, event(unitaryRoute, mustJSON(t, unitary("m-1", f.live, external("seen@example.com"))), acmeKey, nil)); status != http.StatusAccepted {
		t.Fatalf("status %d: %s", status, body)
	}
	if status, _ := call(t, trigger, event(unitaryRoute, mustJSON(t, unitary("m-2", f.draft, external("seen@example.com"))), acmeKey, nil)); status != http.StatusConflict {
		t.Fatalf("a draft's trigger: status %d, want 409", status)
	}
	if status, _ := call(t, trigger, event("GET /im/health", "", nil, nil)); status != http.StatusOK {
		t.Fatalf("health: %d", status)
	}
	if err := rec.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{
		`"Function":"trigger","Outcome":"accepted","Route":"unitary","Status":"202","Triggers":1}`,
		`"Function":"trigger","Outcome":"refused","Route":"unitary","Status":"409","Triggers":1}`,
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d (health is not a trigger):\n%s", len(lines), len(want), out.String())
	}
	for i, l := range lines {
		if err := metrics.Validate([]byte(l)); err != nil {
			t.Errorf("line %d: %v", i, err)
		}
		if !strings.HasSuffix(l, want[i]) {
			t.Errorf("line %d = %s, want it to end %s", i, l, want[i])
		}
		if strings.Contains(l, "seen@") {
			t.Errorf("line %d names the recipient: %s", i, l)
		}
	}
}
