package capping

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/derrors"
)

var now = time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)

func TestWindowStarts(t *testing.T) {
	for _, tc := range []struct {
		w    Window
		want time.Time
	}{
		{Rolling24h, time.Date(2026, 3, 9, 15, 0, 0, 0, time.UTC)},
		{Rolling7d, time.Date(2026, 3, 3, 15, 0, 0, 0, time.UTC)},
		// The UTC month, whatever the zone now is given in.
		{CalendarMonth, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)},
	} {
		paris, _ := time.LoadLocation("Europe/Paris")
		if got := tc.w.Start(now.In(paris)); !got.Equal(tc.want) {
			t.Errorf("%s.Start(%s) = %s, want %s", tc.w, now, got, tc.want)
		}
	}
}

func TestJudgeCountsEachRuleInItsWindow(t *testing.T) {
	rules := []Rule{{Channel: campaign.Email, Limit: 2, Window: Rolling24h}, {Channel: campaign.Email, Limit: 3, Window: CalendarMonth}}
	slots := []Slot{
		{Tag: "feb", At: time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC)}, // last month
		{Tag: "m1", At: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)},    // the month's first instant
		{Tag: "m2", At: now.Add(-24*time.Hour - time.Second)},           // just outside 24 h
		{Tag: "d1", At: now.Add(-time.Hour)},
	}
	v := Judge(rules, slots, now)
	if !v.Capped || v.Rule == nil || *v.Rule != rules[1] {
		t.Errorf("Judge = capped %t by %v, want capped by the month's rule", v.Capped, v.Rule)
	}
	got := []int{v.Rules[0].Count, v.Rules[1].Count}
	if diff := cmp.Diff([]int{1, 3}, got); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	if v := Judge(rules[:1], slots, now); v.Capped {
		t.Errorf("one of two in 24 h: capped by %v, want not capped", v.Rule)
	}
	// A slot a writer reserved a moment after now (its clock read later)
	// counts: a reservation deciding on the counter it read again after
	// losing a race must see it.
	later := append(slices.Clone(slots), Slot{Tag: "later", At: now.Add(5 * time.Millisecond)})
	if v := Judge(rules[:1], later, now); !v.Capped || v.Rules[0].Count != 2 {
		t.Errorf("with a slot 5 ms after now: count %d, capped %t; want 2, capped", v.Rules[0].Count, v.Capped)
	}
}

func TestReserveIsIdempotentPrunesAndSetsTheTTL(t *testing.T) {
	rules := []Rule{{Channel: campaign.SMS, Limit: 2, Window: Rolling7d}}
	old := Slot{Tag: "old", At: now.Add(-8 * 24 * time.Hour)}
	next, v, write := reserve(Counter{Rev: 4, Slots: []Slot{old}}, rules, "t1", now)
	if !write || !v.Reserved || v.Capped {
		t.Fatalf("reserve = write %t, %+v; want a slot written", write, v)
	}
	want := Counter{Rev: 4, Slots: []Slot{{Tag: "t1", At: now}}, ExpiresAt: now.Add(8 * 24 * time.Hour)}
	if diff := cmp.Diff(want, next); diff != "" {
		t.Errorf("next counter (-want +got):\n%s", diff)
	}
	again, v, write := reserve(next, rules, "t1", now.Add(time.Minute))
	if write || !v.Reserved || len(again.Slots) != 1 {
		t.Errorf("reserve of a tag holding a slot = write %t, %+v; want it kept, nothing written", write, v)
	}
	full := Counter{Slots: []Slot{{Tag: "a", At: now}, {Tag: "b", At: now}}}
	if _, v, write := reserve(full, rules, "c", now); write || !v.Capped {
		t.Errorf("reserve past the limit = write %t, %+v; want capped", write, v)
	}
	if _, write := release(Counter{Slots: []Slot{{Tag: "a", At: now}}}, "z"); write {
		t.Error("release of a tag without a slot writes")
	}
	if c, write := release(full, "a"); !write || len(c.Slots) != 1 || c.Slots[0].Tag != "b" {
		t.Errorf("release(a) = %+v, %t; want b left", c, write)
	}
}

func TestValidateNamesTheField(t *testing.T) {
	rs := RuleSet{Rules: []Rule{
		{Channel: campaign.Email, Limit: 3, Window: Rolling7d},
		{Channel: "fax", Limit: 0, Window: "fortnight"},
		{Channel: campaign.Email, Limit: 5, Window: Rolling7d},
	}}
	err := rs.Validate()
	var de *derrors.Error
	if !derrors.Is(err, derrors.Invalid) || !errors.As(err, &de) {
		t.Fatalf("Validate = %v, want derrors.Invalid", err)
	}
	var fields []string
	for _, f := range de.Fields {
		fields = append(fields, f.Field)
	}
	if diff := cmp.Diff([]string{"rules[1].channel", "rules[1].window", "rules[1].limit", "rules[2].window"}, fields); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	if err := (RuleSet{}).Validate(); err != nil {
		t.Errorf("no rules: %v", err)
	}
}
