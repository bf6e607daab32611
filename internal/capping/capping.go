// Package capping holds a tenant's frequency caps — rules such as "at most
// 3 marketing emails per profile per rolling 7 days" — and counts the
// messages each profile got against them, across campaigns.
//
// # Rules
//
// A tenant has one rule set: per channel, at most one rule per window
// (rolling 24 hours, rolling 7 days, calendar month). A calendar month is
// the UTC month: every profile's month starts at the same instant, so a
// rule reads the same whatever time zone a profile keeps (or lacks).
// Only marketing campaigns obey the rules, unless a campaign is exempt
// (campaign.Spec.FrequencyCapExempt); transactional messages and proofs
// are never counted nor capped.
//
// # Counters
//
// A profile's counter (Key: tenant, channel, namespace and userId) is one
// item holding a slot per message counted inside the longest window: the
// recipient's ledger tag and when the slot was reserved, and a revision.
// Every write is a put conditioned on the revision read, so two writers
// that read the same counter cannot both add a slot: the second's
// condition fails, it reads again and decides again (Service.Reserve). A
// slot is reserved before the send and given back when the provider
// certainly did not take the message; a slot is keyed by the ledger tag,
// so the retries of one recipient in one execution reserve it once.
package capping

import (
	"fmt"
	"slices"
	"time"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/derrors"
)

// Window is the span a rule counts messages over.
type Window string

// Windows.
const (
	// Rolling24h counts the messages of the last 24 hours.
	Rolling24h Window = "rolling24h"
	// Rolling7d counts the messages of the last 7 days.
	Rolling7d Window = "rolling7d"
	// CalendarMonth counts the messages since the first of the month,
	// 00:00 UTC.
	CalendarMonth Window = "calendarMonth"
)

// channels are the channels a rule may cap.
var channels = []campaign.Channel{campaign.Email, campaign.SMS, campaign.Push}

// Windows lists the windows a rule may use.
var Windows = []Window{Rolling24h, Rolling7d, CalendarMonth}

// Limits of a rule set.
const (
	// MaxLimit bounds a rule's limit: a counter holds at most this many
	// slots (about 45 bytes each), so its item, written whole on every
	// reservation, stays under 5 KB (5 write units) at worst and under
	// 1 KB (one) for limits up to about 20.
	MaxLimit = 100
)

// longestMonth is how far back a calendar month can start.
const longestMonth = 31 * 24 * time.Hour

// Start is when the window ending now began: a slot reserved at or after
// it counts.
func (w Window) Start(now time.Time) time.Time {
	now = now.UTC()
	switch w {
	case Rolling24h:
		return now.Add(-24 * time.Hour)
	case Rolling7d:
		return now.Add(-7 * 24 * time.Hour)
	case CalendarMonth:
		return time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return now
}

// span is the longest the window can be.
func (w Window) span() time.Duration {
	switch w {
	case Rolling24h:
		return 24 * time.Hour
	case Rolling7d:
		return 7 * 24 * time.Hour
	}
	return longestMonth
}

// Rule caps the messages of one channel a profile gets within a window.
type Rule struct {
	Channel campaign.Channel `json:"channel"`
	// Limit is the most messages a profile gets within Window (1 to
	// MaxLimit).
	Limit  int    `json:"limit"`
	Window Window `json:"window"`
}

// String reads as "at most 3 email per rolling7d".
func (r Rule) String() string {
	return fmt.Sprintf("at most %d %s per %s", r.Limit, r.Channel, r.Window)
}

// RuleSet is a tenant's frequency caps.
type RuleSet struct {
	Rules []Rule `json:"rules"`
	// UpdatedAt is when the set was last stored.
	UpdatedAt time.Time `json:"updatedAt,omitzero"`
}

// Validate checks every rule, naming the field of each problem
// ("rules[1].limit"): a known channel and window, a limit from 1 to
// MaxLimit, and one rule per channel and window.
func (rs RuleSet) Validate() error {
	var fields []derrors.FieldError
	seen := map[Rule]int{}
	for i, r := range rs.Rules {
		at := fmt.Sprintf("rules[%d].", i)
		if !slices.Contains(channels, r.Channel) {
			fields = append(fields, derrors.FieldError{Field: at + "channel", Message: "must be email, sms or push"})
		}
		if !slices.Contains(Windows, r.Window) {
			fields = append(fields, derrors.FieldError{Field: at + "window", Message: "must be rolling24h, rolling7d or calendarMonth"})
		}
		if r.Limit < 1 || r.Limit > MaxLimit {
			fields = append(fields, derrors.FieldError{Field: at + "limit", Message: fmt.Sprintf("must be from 1 to %d", MaxLimit)})
		}
		k := Rule{Channel: r.Channel, Window: r.Window}
		if j, dup := seen[k]; dup {
			fields = append(fields, derrors.FieldError{Field: at + "window",
				Message: fmt.Sprintf("rules[%d] already caps %s per %s", j, r.Channel, r.Window)})
		} else {
			seen[k] = i
		}
	}
	if len(fields) > 0 {
		return derrors.Validation(fields...)
	}
	return nil
}

// For returns the rules of channel ch.
func (rs RuleSet) For(ch campaign.Channel) []Rule {
	var out []Rule
	for _, r := range rs.Rules {
		if r.Channel == ch {
			out = append(out, r)
		}
	}
	return out
}

// Key names one profile's counter on one channel.
type Key struct {
	Channel   campaign.Channel
	Namespace string
	UserID    string
}

// Slot is one message counted: the ledger tag of the recipient it was
// reserved for (one per execution and recipient) and when.
type Slot struct {
	Tag string
	At  time.Time
}

// Counter is a profile's counter as stored.
type Counter struct {
	Slots []Slot
	// Rev is the revision read: 0 for a counter never written. A write
	// stores Rev+1 provided the stored revision is still Rev.
	Rev int
	// ExpiresAt is when the store may delete the item (its TTL): by then
	// every slot is outside every window.
	ExpiresAt time.Time
}

// has reports whether tag holds a slot.
func (c Counter) has(tag string) bool {
	return slices.ContainsFunc(c.Slots, func(s Slot) bool { return s.Tag == tag })
}

// RuleCount is one rule with what a counter holds in its window.
type RuleCount struct {
	Rule
	// Count is the messages counted in the window; Since is when it
	// began.
	Count int       `json:"count"`
	Since time.Time `json:"since"`
	// Full reports that Count reached Limit: one more would exceed it.
	Full bool `json:"full"`
}

// Verdict is what the rules say of one more message to a profile.
type Verdict struct {
	// Capped: a rule is full, the message is not sent.
	Capped bool `json:"capped"`
	// Rule is the first full rule when Capped.
	Rule *Rule `json:"rule,omitempty"`
	// Rules are the channel's rules with their counts before the
	// message.
	Rules []RuleCount `json:"rules"`
	// Reserved reports that the message holds a slot (Reserve only);
	// false when capped or when the channel has no rule.
	Reserved bool `json:"-"`
}

// Judge returns the verdict of rules on one more message at now, given
// the slots already counted. A slot later than now counts: it was
// reserved by a writer whose clock was ahead (another function, or one
// that read the time a moment later), and leaving it out would let this
// message past the limit.
func Judge(rules []Rule, slots []Slot, now time.Time) Verdict {
	v := Verdict{Rules: make([]RuleCount, 0, len(rules))}
	for _, r := range rules {
		since := r.Window.Start(now)
		n := 0
		for _, s := range slots {
			if !s.At.Before(since) {
				n++
			}
		}
		rc := RuleCount{Rule: r, Count: n, Since: since, Full: n >= r.Limit}
		if rc.Full && !v.Capped {
			v.Capped, v.Rule = true, &r
		}
		v.Rules = append(v.Rules, rc)
	}
	return v
}

// keep is the oldest time a slot can count for under rules at now.
func keep(rules []Rule, now time.Time) time.Time {
	oldest := now
	for _, r := range rules {
		if s := r.Window.Start(now); s.Before(oldest) {
			oldest = s
		}
	}
	return oldest
}

// reserve decides one more message for tag at now on counter c: the
// counter to write (its slots pruned to the longest window, the new one
// added) and the verdict. write is false when nothing is to be written:
// tag already holds a slot (a retry of the same recipient), or a rule is
// full.
func reserve(c Counter, rules []Rule, tag string, now time.Time) (next Counter, v Verdict, write bool) {
	if c.has(tag) {
		others := slices.DeleteFunc(slices.Clone(c.Slots), func(s Slot) bool { return s.Tag == tag })
		v = Judge(rules, others, now)
		v.Capped, v.Rule, v.Reserved = false, nil, true
		return c, v, false
	}
	v = Judge(rules, c.Slots, now)
	if v.Capped {
		return c, v, false
	}
	oldest := keep(rules, now)
	next = Counter{Rev: c.Rev, ExpiresAt: c.ExpiresAt}
	for _, s := range c.Slots {
		if !s.At.Before(oldest) {
			next.Slots = append(next.Slots, s)
		}
	}
	next.Slots = append(next.Slots, Slot{Tag: tag, At: now})
	var longest time.Duration
	for _, r := range rules {
		longest = max(longest, r.Window.span())
	}
	// The TTL is a day past the longest window from the newest slot: the
	// store's deletion is late, never early.
	if exp := now.Add(longest + 24*time.Hour).Truncate(time.Second); exp.After(next.ExpiresAt) {
		next.ExpiresAt = exp
	}
	v.Reserved = true
	return next, v, true
}

// release gives tag's slot back: the counter to write, or write=false
// when tag holds none.
func release(c Counter, tag string) (next Counter, write bool) {
	if !c.has(tag) {
		return c, false
	}
	next = c
	next.Slots = slices.DeleteFunc(slices.Clone(c.Slots), func(s Slot) bool { return s.Tag == tag })
	return next, true
}
