package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/zone"
)

// Expr is a parsed EventBridge Scheduler expression: at(), rate() or
// cron(). Herald validates recurrences with it, and the local cloud uses
// Next to fire schedules as EventBridge would.
type Expr struct {
	kind string // "at", "rate", "cron"
	loc  *time.Location
	at   time.Time
	rate time.Duration
	cron *cronSpec
}

// Parse parses expr in time zone tz ("" = UTC). Cron's L, W and
// # forms are not supported.
func Parse(expr, tz string) (Expr, error) {
	loc := time.UTC
	if tz != "" {
		var err error
		if loc, err = zone.LoadNamed(tz); err != nil {
			return Expr{}, fmt.Errorf("time zone %q is not an IANA time zone name", tz)
		}
	}
	switch {
	case strings.HasPrefix(expr, "at(") && strings.HasSuffix(expr, ")"):
		t, err := time.ParseInLocation("2006-01-02T15:04:05", expr[3:len(expr)-1], loc)
		if err != nil {
			return Expr{}, fmt.Errorf("at(): want at(yyyy-mm-ddThh:mm:ss)")
		}
		return Expr{kind: "at", loc: loc, at: t}, nil
	case strings.HasPrefix(expr, "rate(") && strings.HasSuffix(expr, ")"):
		d, err := parseRate(expr[5 : len(expr)-1])
		if err != nil {
			return Expr{}, err
		}
		return Expr{kind: "rate", loc: loc, rate: d}, nil
	case strings.HasPrefix(expr, "cron(") && strings.HasSuffix(expr, ")"):
		c, err := parseCron(expr[5 : len(expr)-1])
		if err != nil {
			return Expr{}, err
		}
		return Expr{kind: "cron", loc: loc, cron: c}, nil
	}
	return Expr{}, fmt.Errorf("want at(…), rate(…) or cron(…)")
}

// OneTime reports whether the expression is an at() expression.
func (e Expr) OneTime() bool { return e.kind == "at" }

// Next returns the first firing strictly after `after`. anchor is when a
// rate schedule began (its creation); at() and cron() ignore it. ok is
// false when there is no further firing.
func (e Expr) Next(after, anchor time.Time) (time.Time, bool) {
	switch e.kind {
	case "at":
		return e.at, e.at.After(after)
	case "rate":
		if !after.Before(anchor) {
			n := after.Sub(anchor)/e.rate + 1
			return anchor.Add(n * e.rate), true
		}
		return anchor.Add(e.rate), true
	case "cron":
		return e.cron.next(after.In(e.loc))
	}
	return time.Time{}, false
}

// Location is the time zone the expression is read in.
func (e Expr) Location() *time.Location { return e.loc }

// ShortestGap is the shortest time between two of the next n firings
// after from (a rate's period); 0 for at() or when it fires fewer than
// twice.
func (e Expr) ShortestGap(from time.Time, n int) time.Duration {
	if e.kind == "rate" {
		return e.rate
	}
	if e.kind != "cron" {
		return 0
	}
	var gap time.Duration
	prev, ok := e.Next(from, from)
	for i := 1; ok && i < n; i++ {
		next, more := e.Next(prev, from)
		if !more {
			break
		}
		if d := next.Sub(prev); gap == 0 || d < gap {
			gap = d
		}
		prev = next
	}
	return gap
}

func parseRate(s string) (time.Duration, error) {
	v, unit, ok := strings.Cut(strings.TrimSpace(s), " ")
	n, err := strconv.Atoi(v)
	if !ok || err != nil || n < 1 {
		return 0, fmt.Errorf("rate(): want rate(value unit) with a positive whole value")
	}
	units := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}
	u := strings.TrimSuffix(unit, "s")
	d, known := units[u]
	if !known || (n == 1) != (u == unit) {
		return 0, fmt.Errorf("rate(): unit must be minute, hour or day (plural when the value is above 1)")
	}
	return time.Duration(n) * d, nil
}

// cronSpec is the six fields of an EventBridge cron expression: minutes,
// hours, day of month, month, day of week (1-7 = SUN-SAT), year.
type cronSpec struct {
	min, hour, dom, month, dow, year map[int]bool
	domAny, dowAny                   bool
}

var (
	monthNames = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
	dayNames   = map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
)

func parseCron(s string) (*cronSpec, error) {
	f := strings.Fields(s)
	if len(f) != 6 {
		return nil, fmt.Errorf("cron(): want 6 fields (minutes hours day-of-month month day-of-week year), not %d", len(f))
	}
	c := &cronSpec{}
	var err error
	fields := []struct {
		name     string
		src      string
		lo, hi   int
		names    map[string]int
		dst      *map[int]bool
		allowAny bool
	}{
		{"minutes", f[0], 0, 59, nil, &c.min, false},
		{"hours", f[1], 0, 23, nil, &c.hour, false},
		{"day-of-month", f[2], 1, 31, nil, &c.dom, true},
		{"month", f[3], 1, 12, monthNames, &c.month, false},
		{"day-of-week", f[4], 1, 7, dayNames, &c.dow, true},
		{"year", f[5], 1970, 2199, nil, &c.year, false},
	}
	for _, fd := range fields {
		if fd.src == "?" {
			if !fd.allowAny {
				return nil, fmt.Errorf("cron(): %s cannot be ?", fd.name)
			}
			*fd.dst = nil
			continue
		}
		if *fd.dst, err = cronField(fd.src, fd.lo, fd.hi, fd.names); err != nil {
			return nil, fmt.Errorf("cron(): %s: %w", fd.name, err)
		}
	}
	c.domAny, c.dowAny = f[2] == "?", f[4] == "?"
	if c.domAny == c.dowAny {
		return nil, fmt.Errorf("cron(): exactly one of day-of-month and day-of-week must be ?")
	}
	return c, nil
}

func cronField(s string, lo, hi int, names map[string]int) (map[int]bool, error) {
	set := map[int]bool{}
	num := func(v string) (int, error) {
		if n, ok := names[strings.ToUpper(v)]; ok {
			return n, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return 0, fmt.Errorf("%q is not a value from %d to %d", v, lo, hi)
		}
		return n, nil
	}
	for _, part := range strings.Split(s, ",") {
		rng, stepS, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			var err error
			if step, err = strconv.Atoi(stepS); err != nil || step < 1 {
				return nil, fmt.Errorf("step %q must be a positive number", stepS)
			}
		}
		a, b := lo, hi
		switch {
		case rng == "*":
		case strings.Contains(rng, "-"):
			x, y, _ := strings.Cut(rng, "-")
			var err error
			if a, err = num(x); err != nil {
				return nil, err
			}
			if b, err = num(y); err != nil {
				return nil, err
			}
			if b < a {
				return nil, fmt.Errorf("range %q runs backwards", rng)
			}
		default:
			if strings.ContainsAny(rng, "LW#") {
				return nil, fmt.Errorf("%q: L, W and # are not supported", rng)
			}
			n, err := num(rng)
			if err != nil {
				return nil, err
			}
			a = n
			if !hasStep {
				b = n
			}
		}
		for v := a; v <= b; v += step {
			set[v] = true
		}
	}
	return set, nil
}

// next finds the first matching minute after t (in t's location), looking
// up to five years ahead.
func (c *cronSpec) next(t time.Time) (time.Time, bool) {
	loc := t.Location()
	start := t.Truncate(time.Minute).Add(time.Minute)
	day := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, loc)
	for i := 0; i < 5*366; i, day = i+1, day.AddDate(0, 0, 1) {
		if !c.year[day.Year()] || !c.month[int(day.Month())] {
			continue
		}
		if !c.domAny && !c.dom[day.Day()] || !c.dowAny && !c.dow[int(day.Weekday())+1] {
			continue
		}
		for h := 0; h < 24; h++ {
			if !c.hour[h] {
				continue
			}
			for m := 0; m < 60; m++ {
				if !c.min[m] {
					continue
				}
				cand := time.Date(day.Year(), day.Month(), day.Day(), h, m, 0, 0, loc)
				if !cand.Before(start) && cand.Hour() == h {
					return cand, true
				}
			}
		}
	}
	return time.Time{}, false
}
