package preview

import (
	"time"

	"github.com/heraldhq/herald/internal/campaign"
)

// QuietHours says how the channel configuration's quiet hours would treat
// the previewed recipient if the campaign sent now.
type QuietHours struct {
	// Start, End and Action are the configuration's window and what it
	// does with a recipient inside it ("defer" or "drop").
	Start  string `json:"start"`
	End    string `json:"end"`
	Action string `json:"action"`
	// Applies is false for a transactional campaign whose configuration
	// does not make transactional sends obey the window.
	Applies bool `json:"applies"`
	// TimeZone is the zone the window is read in, and ZoneFrom where it
	// came from: "profile" (the stored profile's timeZone),
	// "configuration" (its default) or "utc" (neither names one).
	TimeZone string `json:"timeZone"`
	ZoneFrom string `json:"zoneFrom"`
	// Now is the instant of the check; Quiet whether it is inside the
	// window, and EndsAt, then, when the window ends (UTC).
	Now    time.Time `json:"now"`
	Quiet  bool      `json:"quiet"`
	EndsAt time.Time `json:"endsAt,omitzero"`
	// WouldDefer and WouldDrop say what Dispatch would do now: hold the
	// recipient until EndsAt, or record excluded:quiet_hours.
	WouldDefer bool `json:"wouldDefer"`
	WouldDrop  bool `json:"wouldDrop"`
}

// quietHours checks the recipient whose stored profile is in zone
// profileZone ("" when none) against the quiet hours of v's
// configuration; nil when it has none.
func (s *Service) quietHours(cfg campaign.ChannelConfig, v campaign.Version, profileZone string) *QuietHours {
	if cfg.QuietHours == nil {
		return nil
	}
	q := cfg.QuietHours
	now := time.Now().UTC()
	if s.Now != nil {
		now = s.Now().UTC()
	}
	c := q.Check(now, profileZone)
	out := &QuietHours{Start: q.Start, End: q.End, Action: campaign.QuietDefer, Applies: q.Applies(v.Type),
		TimeZone: c.Zone, ZoneFrom: "utc", Now: now, Quiet: c.Quiet, EndsAt: c.Ends}
	if q.Drops() {
		out.Action = campaign.QuietDrop
	}
	switch {
	case c.FromProfile:
		out.ZoneFrom = "profile"
	case q.TimeZone != "" && c.Zone == q.TimeZone:
		out.ZoneFrom = "configuration"
	}
	out.WouldDrop = out.Applies && c.Quiet && q.Drops()
	out.WouldDefer = out.Applies && c.Quiet && !q.Drops()
	return out
}
