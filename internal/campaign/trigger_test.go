package campaign_test

import (
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/derrors"
)

func TestTheTriggerRuleIsOneForEveryAPI(t *testing.T) {
	now := time.Date(2026, 7, 14, 12, 0, 0, 0, time.UTC)
	before, after := now.Add(-time.Hour), now.Add(time.Hour)
	tests := []struct {
		name     string
		c        campaign.Campaign
		v        campaign.Version
		want     campaign.Type
		ht       bool   // the high-throughput API
		wantErr  string // "" when it can be triggered
		wantKind derrors.Kind
	}{
		{name: "a live transactional campaign can be triggered by the unitary API",
			c: campaign.Campaign{ID: "c", Status: campaign.StatusLive, LiveVersion: 1},
			v: campaign.Version{CampaignID: "c", Type: campaign.Transactional}, want: campaign.Transactional},
		{name: "a scheduled campaign with a live version is live in all but name",
			c: campaign.Campaign{ID: "c", Status: campaign.StatusScheduled, LiveVersion: 2},
			v: campaign.Version{CampaignID: "c", Type: campaign.Marketing}, want: campaign.Marketing},
		{name: "a draft cannot be triggered", c: campaign.Campaign{ID: "c", Status: campaign.StatusDraft},
			want: campaign.Transactional, wantErr: `campaign "c" is draft; only a live campaign can be triggered`, wantKind: derrors.Conflict},
		{name: "a stopped campaign cannot be triggered", c: campaign.Campaign{ID: "c", Status: campaign.StatusStopped, LiveVersion: 1},
			want: campaign.Transactional, wantErr: "is stopped", wantKind: derrors.Conflict},
		{name: "the audience API does not trigger a transactional campaign",
			c: campaign.Campaign{ID: "c", Status: campaign.StatusLive, LiveVersion: 1},
			v: campaign.Version{CampaignID: "c", Type: campaign.Transactional}, want: campaign.Marketing,
			wantErr: "the audience API triggers marketing campaigns", wantKind: derrors.Conflict},
		{name: "the unitary API does not trigger a marketing campaign",
			c: campaign.Campaign{ID: "c", Status: campaign.StatusLive, LiveVersion: 1},
			v: campaign.Version{CampaignID: "c", Type: campaign.Marketing}, want: campaign.Transactional,
			wantErr: "the unitary API triggers transactional campaigns", wantKind: derrors.Conflict},
		{name: "before its start it cannot be triggered and the message gives the window",
			c:    campaign.Campaign{ID: "c", Status: campaign.StatusLive, LiveVersion: 1},
			v:    campaign.Version{CampaignID: "c", Type: campaign.Marketing, Spec: campaign.Spec{Schedule: campaign.Schedule{Start: &after}}},
			want: campaign.Marketing, wantErr: `campaign "c" starts at 2026-07-14T13:00:00Z; it can be triggered from 2026-07-14T13:00:00Z`, wantKind: derrors.Conflict},
		{name: "at its end it can no longer be triggered",
			c:    campaign.Campaign{ID: "c", Status: campaign.StatusLive, LiveVersion: 1},
			v:    campaign.Version{CampaignID: "c", Type: campaign.Transactional, Spec: campaign.Spec{Schedule: campaign.Schedule{Start: &before, End: &now}}},
			want: campaign.Transactional, wantErr: "ended at 2026-07-14T12:00:00Z; it could be triggered from 2026-07-14T11:00:00Z until 2026-07-14T12:00:00Z", wantKind: derrors.Conflict},
		{name: "a high-throughput campaign is triggered by the high-throughput API",
			c: campaign.Campaign{ID: "c", Status: campaign.StatusLive, LiveVersion: 1},
			v: campaign.Version{CampaignID: "c", Type: campaign.Transactional, HighThroughput: true}, want: campaign.Transactional, ht: true},
		{name: "the unitary API does not trigger a high-throughput campaign",
			c: campaign.Campaign{ID: "c", Status: campaign.StatusLive, LiveVersion: 1},
			v: campaign.Version{CampaignID: "c", Type: campaign.Transactional, HighThroughput: true}, want: campaign.Transactional,
			wantErr: "trigger it with /im/executions/highthroughput", wantKind: derrors.Conflict},
		{name: "the high-throughput API does not trigger another campaign",
			c: campaign.Campaign{ID: "c", Status: campaign.StatusLive, LiveVersion: 1},
			v: campaign.Version{CampaignID: "c", Type: campaign.Transactional}, want: campaign.Transactional, ht: true,
			wantErr: "is not a high-throughput campaign", wantKind: derrors.Conflict},
		{name: "inside its window it can be triggered",
			c:    campaign.Campaign{ID: "c", Status: campaign.StatusLive, LiveVersion: 1},
			v:    campaign.Version{CampaignID: "c", Type: campaign.Transactional, Spec: campaign.Spec{Schedule: campaign.Schedule{Start: &before, End: &after}}},
			want: campaign.Transactional},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.CheckLive()
			if err == nil {
				err = tt.v.CheckTrigger(tt.want, tt.ht, now)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one saying %q", err, tt.wantErr)
			case tt.wantErr != "" && !derrors.Is(err, tt.wantKind):
				t.Errorf("error kind %v, want %v", derrors.KindOf(err), tt.wantKind)
			}
		})
	}
}
