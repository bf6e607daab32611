package campaign

import (
	"time"

	"github.com/heraldhq/herald/internal/derrors"
)

// The one rule for whether a campaign can be triggered, for every way of
// triggering it (the unitary and audience APIs, events, schedules and
// recurrences): the campaign is live — or scheduled with a live version,
// which it is in all but name once its start has passed, until the start
// schedule flips its status — its live version is of the type the API
// triggers, and the moment is inside the version's schedule window. The
// campaign is checked first (CheckLive): it says which version to read;
// then that version (CheckTrigger).

// triggeredBy names, by campaign type, the API that triggers it.
var triggeredBy = map[Type]string{
	Transactional: "the unitary API triggers transactional campaigns",
	Marketing:     "the audience API triggers marketing campaigns (use /im/executions/unitary)",
}

// CheckLive returns a derrors.Conflict unless c has a live version that
// can be triggered.
func (c Campaign) CheckLive() error {
	started := c.Status == StatusScheduled && c.LiveVersion > 0
	if (c.Status != StatusLive && !started) || c.LiveVersion == 0 {
		return derrors.New(derrors.Conflict, "campaign %q is %s; only a live campaign can be triggered", c.ID, c.Status)
	}
	return nil
}

// CheckTrigger returns a derrors.Conflict unless version v (the live one)
// is of type want, triggered by the API it needs (a high-throughput
// campaign by POST /im/executions/highthroughput only, highThroughput
// true), and at is inside its schedule window.
func (v Version) CheckTrigger(want Type, highThroughput bool, at time.Time) error {
	if v.Type != want {
		return derrors.New(derrors.Conflict, "campaign %q is a %s campaign; %s", v.CampaignID, v.Type, triggeredBy[want])
	}
	switch {
	case v.HighThroughput && !highThroughput:
		return derrors.New(derrors.Conflict, "campaign %q is a high-throughput campaign; trigger it with /im/executions/highthroughput", v.CampaignID)
	case !v.HighThroughput && highThroughput:
		return derrors.New(derrors.Conflict, "campaign %q is not a high-throughput campaign; trigger it with /im/executions/unitary", v.CampaignID)
	}
	s := v.Spec.Schedule
	if s.Start != nil && at.Before(*s.Start) {
		return derrors.New(derrors.Conflict, "campaign %q starts at %s; it can be triggered %s", v.CampaignID, rfc3339(*s.Start), s.Window())
	}
	if s.End != nil && !at.Before(*s.End) {
		return derrors.New(derrors.Conflict, "campaign %q ended at %s; it could be triggered %s", v.CampaignID, rfc3339(*s.End), s.Window())
	}
	return nil
}

// Window describes the schedule's trigger window for messages.
func (s Schedule) Window() string {
	switch {
	case s.Start != nil && s.End != nil:
		return "from " + rfc3339(*s.Start) + " until " + rfc3339(*s.End)
	case s.Start != nil:
		return "from " + rfc3339(*s.Start)
	case s.End != nil:
		return "until " + rfc3339(*s.End)
	}
	return "at any time"
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }
