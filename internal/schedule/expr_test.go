package schedule_test

import (
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/schedule"
)

func TestScheduleExpressionsFireWhenEventBridgeWould(t *testing.T) {
	base := time.Date(2026, 3, 6, 10, 30, 0, 0, time.UTC) // a Friday
	tests := []struct {
		name, expr, tz string
		after          time.Time
		want           time.Time
	}{
		{"at() fires at its time", "at(2026-03-07T09:00:00)", "", base, time.Date(2026, 3, 7, 9, 0, 0, 0, time.UTC)},
		{"at() is read in its time zone", "at(2026-03-07T09:00:00)", "Europe/Paris", base, time.Date(2026, 3, 7, 8, 0, 0, 0, time.UTC)},
		{"rate() counts from its creation", "rate(15 minutes)", "", base.Add(20 * time.Minute), base.Add(30 * time.Minute)},
		{"cron() picks the next weekday morning", "cron(0 9 ? * MON-FRI *)", "", base, time.Date(2026, 3, 9, 9, 0, 0, 0, time.UTC)},
		{"cron() honours the time zone", "cron(0 9 * * ? *)", "America/New_York", base, time.Date(2026, 3, 6, 14, 0, 0, 0, time.UTC)},
		{"cron() steps", "cron(0/20 * * * ? *)", "", base, base.Add(10 * time.Minute)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := schedule.Parse(tt.expr, tt.tz)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := e.Next(tt.after, base)
			if !ok || !got.Equal(tt.want) {
				t.Errorf("Next = %s %v, want %s", got.UTC(), ok, tt.want)
			}
		})
	}
	for _, bad := range []string{"rate(1 minutes)", "rate(0 hours)", "cron(0 9 * * * *)", "cron(0 9 L * ? *)", "every day", "cron(61 * * * ? *)"} {
		if _, err := schedule.Parse(bad, ""); err == nil {
			t.Errorf("%s parsed; want an error", bad)
		}
	}
}

func TestTheShortestGapBetweenFiringsIsWhatARecurrenceMustFitIn(t *testing.T) {
	from := time.Date(2026, 3, 6, 10, 30, 0, 0, time.UTC) // a Friday
	tests := []struct {
		expr, tz string
		want     time.Duration
	}{
		{"rate(5 minutes)", "", 5 * time.Minute},
		{"cron(0 9 ? * MON-FRI *)", "", 24 * time.Hour},        // Monday to Friday, not the weekend's 72 h
		{"cron(0 9,17 * * ? *)", "", 8 * time.Hour},            // 09:00 and 17:00
		{"cron(30 1 * * ? *)", "Europe/Paris", 23 * time.Hour}, // the spring-forward night (29 March)
		{"at(2026-04-01T09:00:00)", "", 0},
	}
	for _, tt := range tests {
		e, err := schedule.Parse(tt.expr, tt.tz)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.ShortestGap(from, 500); got != tt.want {
			t.Errorf("%s in %q: shortest gap %s, want %s", tt.expr, tt.tz, got, tt.want)
		}
	}
}
