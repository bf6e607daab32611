package preview_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/preview"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/strictjson"
)

func TestPreviewSaysWhetherTheRecipientWouldBeDeferredNow(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	at := time.Date(2026, 3, 28, 22, 30, 0, 0, time.UTC) // 23:30 in Paris, 18:30 in New York
	f.svc.Now = func() time.Time { return at }
	id := f.campaign(t, false)
	if got, err := f.svc.Preview(ctx, acme, id, preview.Request{}); err != nil || got.QuietHours != nil {
		t.Fatalf("preview without quiet hours = %+v, %v; want none", got.QuietHours, err)
	}
	edit, err := strictjson.ParsePatch[campaign.ConfigInput]([]byte(`{"quietHours":{"start":"21:00","end":"08:00","timeZone":"Europe/Paris","transactional":true}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.camps.UpdateConfig(ctx, acme, f.cfgID, edit, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Put(ctx, acme, profile.Profile{Namespace: "crmId", ID: "ny", TimeZone: "America/New_York"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   preview.Request
		want preview.QuietHours
	}{
		{"a recipient without a profile is read in the configuration's zone", preview.Request{},
			preview.QuietHours{Start: "21:00", End: "08:00", Action: "defer", Applies: true, TimeZone: "Europe/Paris", ZoneFrom: "configuration",
				Now: at, Quiet: true, EndsAt: time.Date(2026, 3, 29, 6, 0, 0, 0, time.UTC), WouldDefer: true}},
		{"a stored profile's zone wins", preview.Request{UserID: "ny"},
			preview.QuietHours{Start: "21:00", End: "08:00", Action: "defer", Applies: true, TimeZone: "America/New_York", ZoneFrom: "profile", Now: at}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.svc.Preview(ctx, acme, id, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(&tt.want, got.QuietHours); diff != "" {
				t.Errorf("quietHours (-want +got):\n%s", diff)
			}
		})
	}
	// A transactional campaign whose configuration does not opt in is
	// never held.
	edit, _ = strictjson.ParsePatch[campaign.ConfigInput]([]byte(`{"quietHours":{"transactional":false,"action":"drop"}}`))
	if _, err := f.camps.UpdateConfig(ctx, acme, f.cfgID, edit, 0); err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.Preview(ctx, acme, id, preview.Request{})
	if err != nil {
		t.Fatal(err)
	}
	if q := got.QuietHours; q == nil || q.Applies || !q.Quiet || q.WouldDefer || q.WouldDrop || q.Action != "drop" {
		t.Errorf("transactional without the opt-in: %+v; want quiet but not applied, neither deferred nor dropped", q)
	}
}
