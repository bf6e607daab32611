package campaign

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/zone"
)

// Quiet-hours actions: what happens to a recipient inside the window.
const (
	// QuietDefer holds the recipient back until the window ends; it stays
	// pending meanwhile (the default).
	QuietDefer = "defer"
	// QuietDrop ends the recipient as excluded:quiet_hours.
	QuietDrop = "drop"
)

// QuietHours is a channel configuration's daily window in which its
// campaigns send nothing: from Start to End, wall-clock time in the
// recipient's zone (the stored profile's timeZone, else TimeZone, else
// UTC). A window whose End is earlier than its Start crosses midnight
// (21:00-08:00). Marketing campaigns obey it; transactional ones only
// when Transactional is set. Proofs never do.
type QuietHours struct {
	// Start and End are "HH:MM", 24-hour, local to the recipient.
	Start string `json:"start"`
	End   string `json:"end"`
	// TimeZone is the IANA zone of recipients whose profile names none
	// ("" is UTC).
	TimeZone string `json:"timeZone,omitempty"`
	// Action is QuietDefer (default) or QuietDrop.
	Action string `json:"action,omitempty"`
	// Transactional makes transactional campaigns obey the window too.
	Transactional bool `json:"transactional,omitempty"`
}

// Drops reports whether a recipient inside the window is dropped rather
// than deferred.
func (q *QuietHours) Drops() bool { return q != nil && q.Action == QuietDrop }

// Applies reports whether the window holds for campaigns of type typ.
func (q *QuietHours) Applies(typ Type) bool {
	return q != nil && (typ != Transactional || q.Transactional)
}

// QuietCheck is where an instant falls against a quiet-hours window for
// one recipient.
type QuietCheck struct {
	// Zone is the IANA zone the window was read in; FromProfile says it
	// is the profile's (else the configuration's default, or UTC).
	Zone        string
	FromProfile bool
	// Quiet is true inside the window; Ends is then the instant the
	// window ends (End, local, on the right day), in UTC.
	Quiet bool
	Ends  time.Time
}

// Check says whether now falls inside the window for a recipient whose
// profile names profileZone ("" or an unknown zone: the configuration's
// default). A window whose times cannot be read (never stored: Validate
// refuses it) is never quiet.
func (q *QuietHours) Check(now time.Time, profileZone string) QuietCheck {
	var c QuietCheck
	if q == nil {
		return c
	}
	loc, zone, fromProfile := q.location(profileZone)
	c.Zone, c.FromProfile = zone, fromProfile
	start, ok1 := clockMinutes(q.Start)
	end, ok2 := clockMinutes(q.End)
	if !ok1 || !ok2 || start == end {
		return c
	}
	local := now.In(loc)
	m := local.Hour()*60 + local.Minute()
	y, mo, d := local.Date()
	switch {
	case start < end && m >= start && m < end:
		c.Quiet = true
	case start > end && m >= start:
		c.Quiet, d = true, d+1 // ends tomorrow morning
	case start > end && m < end:
		c.Quiet = true
	}
	if c.Quiet {
		// time.Date reads the wall clock in loc on that day, so the
		// instant follows whatever offset the zone has then (a DST change
		// overnight included).
		c.Ends = time.Date(y, mo, d, end/60, end%60, 0, 0, loc).UTC()
		if !c.Ends.After(now) {
			// End falls in a skipped hour and was normalized backwards:
			// the window ends at the first instant after it.
			c.Ends = now.Add(time.Minute).Truncate(time.Minute)
		}
	}
	return c
}

// location is the zone a recipient's window is read in.
func (q *QuietHours) location(profileZone string) (*time.Location, string, bool) {
	if profileZone != "" {
		if loc, ok := loadZone(profileZone); ok {
			return loc, profileZone, true
		}
	}
	if q.TimeZone != "" {
		if loc, ok := loadZone(q.TimeZone); ok {
			return loc, q.TimeZone, false
		}
	}
	return time.UTC, "UTC", false
}

// loadZone loads the IANA zone named name ("Local" is none).
func loadZone(name string) (*time.Location, bool) {
	loc, err := zone.LoadNamed(name)
	return loc, err == nil
}

// ValidZone reports whether name is an IANA zone name ("Local" is not).
func ValidZone(name string) bool {
	_, ok := loadZone(name)
	return ok
}

// clockMinutes reads "HH:MM" (00:00-23:59) as minutes after midnight.
func clockMinutes(s string) (int, bool) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) != 2 || len(m) != 2 {
		return 0, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, false
	}
	return hh*60 + mm, true
}

// checkQuietHours adds q's errors to f under field.
func checkQuietHours(f *derrors.Fields, field string, q *QuietHours) {
	if q == nil {
		return
	}
	s, okS := clockMinutes(q.Start)
	e, okE := clockMinutes(q.End)
	if !okS {
		f.Add(field+".start", "must be a time of day HH:MM, 00:00 to 23:59")
	}
	if !okE {
		f.Add(field+".end", "must be a time of day HH:MM, 00:00 to 23:59")
	}
	if okS && okE && s == e {
		f.Add(field+".end", "must differ from start")
	}
	if q.TimeZone != "" && !ValidZone(q.TimeZone) {
		f.Add(field+".timeZone", "must be an IANA time zone name such as Europe/Paris")
	}
	switch q.Action {
	case "", QuietDefer, QuietDrop:
	default:
		f.Add(field+".action", "must be %s or %s", QuietDefer, QuietDrop)
	}
}

// String describes the window for logs and previews ("21:00-08:00").
func (q *QuietHours) String() string {
	if q == nil {
		return ""
	}
	return fmt.Sprintf("%s-%s", q.Start, q.End)
}
