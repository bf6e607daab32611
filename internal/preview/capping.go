package preview

import (
	"context"
	"time"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/capping"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/tenant"
)

// Caps reads what the tenant's frequency caps say of one more message;
// *capping.Service is one.
type Caps interface {
	// Check returns the verdict on one more message to k at now, writing
	// nothing.
	Check(ctx context.Context, t tenant.Tenant, k capping.Key, now time.Time) (capping.Verdict, error)
}

var _ Caps = (*capping.Service)(nil)

// Reasons a campaign's messages are not subject to the frequency caps.
const (
	CapNotMarketing = "transactional"
	CapExempt       = "exempt"
)

// FrequencyCap is what the frequency caps say of one more message of the
// campaign's channel to the previewed profile now, as Dispatch would
// judge it.
type FrequencyCap struct {
	// Applies is false when the campaign's messages are neither capped
	// nor counted; Reason says why (transactional, exempt).
	Applies bool   `json:"applies"`
	Reason  string `json:"reason,omitempty"`
	// Capped: a message now would be excluded:frequency_cap, by Rule.
	Capped bool          `json:"capped"`
	Rule   *capping.Rule `json:"rule,omitempty"`
	// Rules are the channel's rules, each with the messages the profile
	// got in its window (none: no rule caps the channel).
	Rules []capping.RuleCount `json:"rules"`
}

// frequencyCap judges one more message of v to id now; nil without a
// userId or a Caps.
func (s *Service) frequencyCap(ctx context.Context, t tenant.Tenant, v campaign.Version, id profile.Identity) (*FrequencyCap, error) {
	if s.Caps == nil || id.ID == "" {
		return nil, nil
	}
	switch {
	case v.Type != campaign.Marketing:
		return &FrequencyCap{Reason: CapNotMarketing, Rules: []capping.RuleCount{}}, nil
	case v.Spec.FrequencyCapExempt:
		return &FrequencyCap{Reason: CapExempt, Rules: []capping.RuleCount{}}, nil
	}
	now := time.Now().UTC()
	if s.Now != nil {
		now = s.Now().UTC()
	}
	verdict, err := s.Caps.Check(ctx, t, capping.Key{Channel: v.Channel, Namespace: id.Namespace, UserID: id.ID}, now)
	if err != nil {
		return nil, err
	}
	if verdict.Rules == nil {
		verdict.Rules = []capping.RuleCount{}
	}
	return &FrequencyCap{Applies: true, Capped: verdict.Capped, Rule: verdict.Rule, Rules: verdict.Rules}, nil
}
