package campaign_test

import (
	"testing"

	"github.com/heraldhq/herald/internal/campaign"
)

func TestTrackingFollowsTheCategoryUnlessSet(t *testing.T) {
	on, off := true, false
	tests := []struct {
		name                  string
		cat                   campaign.Type
		opens, clicks         *bool
		wantOpens, wantClicks bool
	}{
		{"marketing tracks both by default", campaign.Marketing, nil, nil, true, true},
		{"transactional tracks neither by default", campaign.Transactional, nil, nil, false, false},
		{"marketing may turn clicks off and keep the opens default", campaign.Marketing, nil, &off, true, false},
		{"marketing may turn both off", campaign.Marketing, &off, &off, false, false},
		{"transactional may turn opens on and keep the clicks default", campaign.Transactional, &on, nil, true, false},
		{"transactional may turn both on", campaign.Transactional, &on, &on, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := campaign.EmailSettings{FromAddress: "news@acme.example", TrackOpens: tt.opens, TrackClicks: tt.clicks}
			opens, clicks := e.Tracking(tt.cat)
			if opens != tt.wantOpens || clicks != tt.wantClicks {
				t.Errorf("Tracking(%s) = (opens %t, clicks %t), want (%t, %t)", tt.cat, opens, clicks, tt.wantOpens, tt.wantClicks)
			}
		})
	}
}
