package campaign_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/memory"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestQuietHoursEndAtTheLocalEndAcrossDaylightSavingChanges(t *testing.T) {
	night := &campaign.QuietHours{Start: "21:00", End: "08:00"}
	tests := []struct {
		name, zone string
		now        time.Time
		wantQuiet  bool
		wantEnds   time.Time
	}{
		// Europe/Paris springs forward on 2026-03-29 (02:00 CET → 03:00
		// CEST): the window opens at UTC+1 and closes at UTC+2.
		{"Paris, the evening before spring forward", "Europe/Paris", utc("2026-03-28T21:30:00Z"), true, utc("2026-03-29T06:00:00Z")},
		{"Paris, after midnight on spring-forward night", "Europe/Paris", utc("2026-03-29T01:30:00Z"), true, utc("2026-03-29T06:00:00Z")},
		{"Paris, 08:00 CEST after spring forward", "Europe/Paris", utc("2026-03-29T06:00:00Z"), false, time.Time{}},
		{"Paris, 07:59 CEST after spring forward", "Europe/Paris", utc("2026-03-29T05:59:00Z"), true, utc("2026-03-29T06:00:00Z")},
		// It falls back on 2026-10-25 (03:00 CEST → 02:00 CET).
		{"Paris, the evening before fall back", "Europe/Paris", utc("2026-10-24T19:00:00Z"), true, utc("2026-10-25T07:00:00Z")},
		{"Paris, 07:00 UTC after fall back is 08:00 CET", "Europe/Paris", utc("2026-10-25T07:00:00Z"), false, time.Time{}},
		{"Paris, 06:30 UTC after fall back is 07:30 CET", "Europe/Paris", utc("2026-10-25T06:30:00Z"), true, utc("2026-10-25T07:00:00Z")},
		// America/New_York springs forward on 2026-03-08 (02:00 EST →
		// 03:00 EDT) and falls back on 2026-11-01 (02:00 EDT → 01:00 EST).
		{"New York, the evening before spring forward", "America/New_York", utc("2026-03-08T04:00:00Z"), true, utc("2026-03-08T12:00:00Z")},
		{"New York, 20:59 EST is before the window", "America/New_York", utc("2026-03-08T01:59:00Z"), false, time.Time{}},
		{"New York, the evening before fall back", "America/New_York", utc("2026-11-01T03:00:00Z"), true, utc("2026-11-01T13:00:00Z")},
		{"New York, the repeated 01:30 of fall-back night", "America/New_York", utc("2026-11-01T06:30:00Z"), true, utc("2026-11-01T13:00:00Z")},
		{"New York, 12:00 UTC after fall back is 07:00 EST", "America/New_York", utc("2026-11-01T12:00:00Z"), true, utc("2026-11-01T13:00:00Z")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := night.Check(tt.now, tt.zone)
			want := campaign.QuietCheck{Zone: tt.zone, FromProfile: true, Quiet: tt.wantQuiet, Ends: tt.wantEnds}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Check(%s) (-want +got):\n%s", tt.now.Format(time.RFC3339), diff)
			}
		})
	}
}

func TestQuietHoursWithinOneDay(t *testing.T) {
	lunch := &campaign.QuietHours{Start: "12:00", End: "14:00", TimeZone: "Asia/Tokyo"}
	for _, tt := range []struct {
		now       time.Time
		wantQuiet bool
	}{
		{utc("2026-06-01T02:59:00Z"), false}, // 11:59 JST
		{utc("2026-06-01T03:00:00Z"), true},  // 12:00 JST
		{utc("2026-06-01T04:59:00Z"), true},  // 13:59 JST
		{utc("2026-06-01T05:00:00Z"), false}, // 14:00 JST
	} {
		got := lunch.Check(tt.now, "")
		if got.Quiet != tt.wantQuiet || got.Zone != "Asia/Tokyo" || got.FromProfile {
			t.Errorf("Check(%s) = %+v; want quiet %v in Asia/Tokyo, the configuration's zone", tt.now.Format(time.RFC3339), got, tt.wantQuiet)
		}
		if got.Quiet && !got.Ends.Equal(utc("2026-06-01T05:00:00Z")) {
			t.Errorf("Check(%s) ends %s; want 05:00Z", tt.now.Format(time.RFC3339), got.Ends)
		}
	}
}

func TestQuietHoursZoneComesFromTheProfileThenTheConfigurationThenUTC(t *testing.T) {
	now := utc("2026-06-01T22:00:00Z") // 00:00 in Paris, 18:00 in New York, 22:00 UTC
	q := &campaign.QuietHours{Start: "23:00", End: "07:00", TimeZone: "America/New_York"}
	tests := []struct {
		name, profileZone string
		want              campaign.QuietCheck
	}{
		{"the profile's zone", "Europe/Paris", campaign.QuietCheck{Zone: "Europe/Paris", FromProfile: true, Quiet: true, Ends: utc("2026-06-02T05:00:00Z")}},
		{"the configuration's zone when the profile names none", "", campaign.QuietCheck{Zone: "America/New_York"}},
		{"the configuration's zone when the profile's is unknown", "Mars/Olympus", campaign.QuietCheck{Zone: "America/New_York"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, q.Check(now, tt.profileZone)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	noZone := &campaign.QuietHours{Start: "21:00", End: "23:00"}
	if got := noZone.Check(now, ""); got.Zone != "UTC" || !got.Quiet || !got.Ends.Equal(utc("2026-06-01T23:00:00Z")) {
		t.Errorf("without any zone: %+v; want quiet in UTC until 23:00Z", got)
	}
}

func TestQuietHoursApplyToTransactionalCampaignsOnlyWhenConfigured(t *testing.T) {
	q := &campaign.QuietHours{Start: "21:00", End: "08:00"}
	if !q.Applies(campaign.Marketing) || q.Applies(campaign.Transactional) {
		t.Errorf("default: applies to marketing %v, transactional %v; want true, false", q.Applies(campaign.Marketing), q.Applies(campaign.Transactional))
	}
	q.Transactional = true
	if !q.Applies(campaign.Transactional) {
		t.Error("transactional: true does not apply to transactional campaigns")
	}
	var none *campaign.QuietHours
	if none.Applies(campaign.Marketing) || none.Check(time.Now(), "").Quiet {
		t.Error("a configuration without quiet hours has some")
	}
}

func TestConfigQuietHoursAreValidated(t *testing.T) {
	ctx := context.Background()
	svc := newService(memory.New())
	tests := []struct {
		name string
		q    campaign.QuietHours
		want []string
	}{
		{"unknown zone", campaign.QuietHours{Start: "21:00", End: "08:00", TimeZone: "Europe/Atlantis"}, []string{"quietHours.timeZone"}},
		{"Local is not a zone", campaign.QuietHours{Start: "21:00", End: "08:00", TimeZone: "Local"}, []string{"quietHours.timeZone"}},
		{"times out of range", campaign.QuietHours{Start: "24:00", End: "8:00"}, []string{"quietHours.start", "quietHours.end"}},
		{"an empty window", campaign.QuietHours{Start: "21:00", End: "21:00"}, []string{"quietHours.end"}},
		{"an unknown action", campaign.QuietHours{Start: "21:00", End: "08:00", Action: "skip"}, []string{"quietHours.action"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			cfg.QuietHours = &tt.q
			_, err := svc.CreateConfig(ctx, acme, cfg)
			if diff := cmp.Diff(tt.want, fieldsOf(t, err, derrors.Invalid)); diff != "" {
				t.Errorf("invalid fields (-want +got):\n%s", diff)
			}
		})
	}
	cfg := validConfig()
	cfg.QuietHours = &campaign.QuietHours{Start: "21:00", End: "08:00", TimeZone: "Europe/Paris", Action: campaign.QuietDrop}
	got, err := svc.CreateConfig(ctx, acme, cfg)
	if err != nil {
		t.Fatalf("CreateConfig with valid quiet hours: %v", err)
	}
	read, err := svc.GetConfig(ctx, acme, got.ID)
	if err != nil || !cmp.Equal(cfg.QuietHours, read.QuietHours) {
		t.Errorf("stored quiet hours = %+v, %v; want %+v", read.QuietHours, err, cfg.QuietHours)
	}
}

func TestConfigQuietHoursArePatchedAndRemoved(t *testing.T) {
	ctx := context.Background()
	svc := newService(memory.New())
	c, err := svc.CreateConfig(ctx, acme, validConfig())
	if err != nil {
		t.Fatal(err)
	}
	c, err = svc.UpdateConfig(ctx, acme, c.ID, configPatch(t, `{"quietHours":{"start":"22:00","end":"07:30","timeZone":"America/New_York"}}`), 0)
	if err != nil || c.QuietHours == nil || c.QuietHours.End != "07:30" {
		t.Fatalf("PATCH adding quiet hours = %+v, %v", c.QuietHours, err)
	}
	_, err = svc.UpdateConfig(ctx, acme, c.ID, configPatch(t, `{"quietHours":{"timeZone":"EST5EDT-ish"}}`), 0)
	if diff := cmp.Diff([]string{"quietHours.timeZone"}, fieldsOf(t, err, derrors.Invalid)); diff != "" {
		t.Errorf("PATCH with an unknown zone (-want +got):\n%s", diff)
	}
	c, err = svc.UpdateConfig(ctx, acme, c.ID, configPatch(t, `{"quietHours":null}`), 0)
	if err != nil || c.QuietHours != nil {
		t.Errorf("PATCH quietHours null = %+v, %v; want none", c.QuietHours, err)
	}
}
