package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/tenant"
)

// pages follows a list's cursors from the first page, failing t on an
// error or a page over limit, and returns every item listed.
func pages[T any](t *testing.T, limit int, list func(cursor string) (campaign.Page[T], error)) []T {
	t.Helper()
	var all []T
	cursor := ""
	for range 20 {
		p, err := list(cursor)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) > limit {
			t.Errorf("a page of %d items, over the limit of %d", len(p.Items), limit)
		}
		all = append(all, p.Items...)
		if cursor = p.Next; cursor == "" {
			return all
		}
	}
	t.Fatalf("still a next page after 20 pages")
	return nil
}

// listed is a tenant's campaigns c0 … c6, created a second apart.
func listed() []campaign.Campaign {
	specs := []struct {
		name string
		typ  campaign.Type
		ch   campaign.Channel
		st   campaign.Status
		tags []string
	}{
		{"Receipt 0", campaign.Transactional, campaign.Email, campaign.StatusDraft, []string{"billing"}},
		{"Promo 1", campaign.Marketing, campaign.Email, campaign.StatusDraft, []string{"promo"}},
		{"Receipt 2", campaign.Transactional, campaign.SMS, campaign.StatusDraft, []string{"billing", "x"}},
		{"Promo 3", campaign.Marketing, campaign.SMS, campaign.StatusDraft, nil},
		{"receipt 4", campaign.Transactional, campaign.Email, campaign.StatusDraft, []string{"x", "billing"}},
		{"Promo 5", campaign.Marketing, campaign.Email, campaign.StatusLive, nil},
		{"Welcome 6", campaign.Transactional, campaign.Email, campaign.StatusDraft, nil},
	}
	var out []campaign.Campaign
	for i, sp := range specs {
		c := draftCampaign(fmt.Sprint("c", i), sp.name, t0.Add(time.Duration(i)*time.Second), sp.tags...)
		c.Type, c.Channel, c.Status = sp.typ, sp.ch, sp.st
		if sp.st == campaign.StatusLive {
			c.LiveVersion, c.DraftPending, c.Revision = 1, false, 2
		}
		out = append(out, c)
	}
	return out
}

func runLists(t *testing.T, newStore func(t *testing.T) campaign.Store) {
	ctx := context.Background()
	t.Run("campaigns are listed newest first, filtered, in pages", func(t *testing.T) {
		s := newStore(t)
		cs := listed()
		for _, c := range cs {
			if err := s.CreateCampaign(ctx, acme, c); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.CreateCampaign(ctx, other, draftCampaign("o1", "Receipt other", t0)); err != nil {
			t.Fatal(err)
		}
		var all []campaign.Summary
		for i := len(cs) - 1; i >= 0; i-- {
			all = append(all, cs[i].Summarize())
		}
		if got := pages(t, 100, func(cur string) (campaign.Page[campaign.Summary], error) {
			return s.ListCampaigns(ctx, acme, campaign.ListFilter{Limit: 100, Cursor: cur})
		}); !cmp.Equal(all, got) {
			t.Errorf("the whole list (-want +got):\n%s", cmp.Diff(all, got))
		}
		tests := []struct {
			name string
			f    campaign.ListFilter
			want []string
		}{
			{"no filter", campaign.ListFilter{}, []string{"c6", "c5", "c4", "c3", "c2", "c1", "c0"}},
			{"drafts", campaign.ListFilter{Status: campaign.StatusDraft}, []string{"c6", "c4", "c3", "c2", "c1", "c0"}},
			{"live campaigns", campaign.ListFilter{Status: campaign.StatusLive}, []string{"c5"}},
			{"marketing", campaign.ListFilter{Type: campaign.Marketing}, []string{"c5", "c3", "c1"}},
			{"sms", campaign.ListFilter{Channel: campaign.SMS}, []string{"c3", "c2"}},
			{"a tag", campaign.ListFilter{Tag: "billing"}, []string{"c4", "c2", "c0"}},
			{"a name prefix, whatever the name's case", campaign.ListFilter{NamePrefix: "receipt"}, []string{"c4", "c2", "c0"}},
			{"every filter at once", campaign.ListFilter{Status: campaign.StatusDraft, Type: campaign.Transactional,
				Channel: campaign.Email, Tag: "billing", NamePrefix: "rec"}, []string{"c4", "c0"}},
			{"a filter nothing matches", campaign.ListFilter{Tag: "none"}, nil},
		}
		for _, tt := range tests {
			for _, limit := range []int{1, 2, 3, 100} {
				t.Run(fmt.Sprintf("%s, in pages of %d", tt.name, limit), func(t *testing.T) {
					var got []string
					for _, sum := range pages(t, limit, func(cur string) (campaign.Page[campaign.Summary], error) {
						f := tt.f
						f.Limit, f.Cursor = limit, cur
						return s.ListCampaigns(ctx, acme, f)
					}) {
						got = append(got, sum.ID)
					}
					if diff := cmp.Diff(tt.want, got); diff != "" {
						t.Errorf("ids listed (-want +got):\n%s", diff)
					}
				})
			}
		}
		p, err := s.ListCampaigns(ctx, acme, campaign.ListFilter{Limit: 7})
		if err != nil || p.Next != "" {
			t.Errorf("a page holding the whole list has next %q (%v), want none", p.Next, err)
		}
	})
	t.Run("configurations are listed newest first, filtered, in pages", func(t *testing.T) {
		s := newStore(t)
		var cfgs []campaign.ChannelConfig
		for i, sp := range []struct {
			name string
			ch   campaign.Channel
			cat  campaign.Type
		}{
			{"Mail", campaign.Email, campaign.Transactional},
			{"Marketing mail", campaign.Email, campaign.Marketing},
			{"SMS alerts", campaign.SMS, campaign.Transactional},
			{"mail digest", campaign.Email, campaign.Marketing},
		} {
			c := emailConfig(fmt.Sprint("cfg", i), sp.name, t0.Add(time.Duration(i)*time.Second))
			c.Channel, c.Category = sp.ch, sp.cat
			if sp.ch == campaign.SMS {
				c.Email, c.SMS = nil, &campaign.SMSSettings{SenderID: "ACME", MaxSegments: 3, DefaultRegion: "FR"}
			}
			cfgs = append([]campaign.ChannelConfig{c}, cfgs...)
			if err := s.CreateConfig(ctx, acme, c); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.CreateConfig(ctx, other, emailConfig("o1", "Mail", t0)); err != nil {
			t.Fatal(err)
		}
		if got := pages(t, 100, func(cur string) (campaign.Page[campaign.ChannelConfig], error) {
			return s.ListConfigs(ctx, acme, campaign.ListFilter{Limit: 100, Cursor: cur})
		}); !cmp.Equal(cfgs, got) {
			t.Errorf("the whole list (-want +got):\n%s", cmp.Diff(cfgs, got))
		}
		tests := []struct {
			name string
			f    campaign.ListFilter
			want []string
		}{
			{"no filter", campaign.ListFilter{}, []string{"cfg3", "cfg2", "cfg1", "cfg0"}},
			{"email", campaign.ListFilter{Channel: campaign.Email}, []string{"cfg3", "cfg1", "cfg0"}},
			{"marketing", campaign.ListFilter{Type: campaign.Marketing}, []string{"cfg3", "cfg1"}},
			{"a name prefix, whatever the name's case", campaign.ListFilter{NamePrefix: "mail"}, []string{"cfg3", "cfg0"}},
			{"every filter at once", campaign.ListFilter{Channel: campaign.Email, Type: campaign.Marketing, NamePrefix: "ma"}, []string{"cfg3", "cfg1"}},
		}
		for _, tt := range tests {
			for _, limit := range []int{1, 3, 100} {
				t.Run(fmt.Sprintf("%s, in pages of %d", tt.name, limit), func(t *testing.T) {
					var got []string
					for _, c := range pages(t, limit, func(cur string) (campaign.Page[campaign.ChannelConfig], error) {
						f := tt.f
						f.Limit, f.Cursor = limit, cur
						return s.ListConfigs(ctx, acme, f)
					}) {
						got = append(got, c.ID)
					}
					if diff := cmp.Diff(tt.want, got); diff != "" {
						t.Errorf("ids listed (-want +got):\n%s", diff)
					}
				})
			}
		}
	})
	t.Run("empty lists have no items and no next page", func(t *testing.T) {
		s := newStore(t)
		cs, err := s.ListCampaigns(ctx, acme, campaign.ListFilter{Limit: 10})
		if diff := cmp.Diff(campaign.Page[campaign.Summary]{Items: []campaign.Summary{}}, cs); diff != "" || err != nil {
			t.Errorf("ListCampaigns (-want +got):\n%s (%v)", diff, err)
		}
		cfgs, err := s.ListConfigs(ctx, acme, campaign.ListFilter{Limit: 10})
		if diff := cmp.Diff(campaign.Page[campaign.ChannelConfig]{Items: []campaign.ChannelConfig{}}, cfgs); diff != "" || err != nil {
			t.Errorf("ListConfigs (-want +got):\n%s (%v)", diff, err)
		}
	})
	t.Run("a cursor the list did not issue is invalid", func(t *testing.T) {
		s := newStore(t)
		for i := range 2 {
			for _, tn := range []tenant.Tenant{acme, other} {
				if err := s.CreateCampaign(ctx, tn, draftCampaign(fmt.Sprint("c", i), "C", t0.Add(time.Duration(i)))); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.CreateConfig(ctx, acme, emailConfig(fmt.Sprint("cfg", i), "Mail", t0.Add(time.Duration(i)))); err != nil {
				t.Fatal(err)
			}
		}
		next := func(p campaign.Page[campaign.Summary], err error) string {
			t.Helper()
			if err != nil || p.Next == "" {
				t.Fatalf("first page = %+v, %v; want a next page", p, err)
			}
			return p.Next
		}
		campaigns := next(s.ListCampaigns(ctx, acme, campaign.ListFilter{Limit: 1}))
		theirs := next(s.ListCampaigns(ctx, other, campaign.ListFilter{Limit: 1}))
		p, err := s.ListConfigs(ctx, acme, campaign.ListFilter{Limit: 1})
		if err != nil || p.Next == "" {
			t.Fatalf("first page of configurations = %+v, %v; want a next page", p, err)
		}
		configs := p.Next
		listCampaigns := func(cur string) error {
			_, err := s.ListCampaigns(ctx, acme, campaign.ListFilter{Limit: 1, Cursor: cur})
			return err
		}
		listConfigs := func(cur string) error {
			_, err := s.ListConfigs(ctx, acme, campaign.ListFilter{Limit: 1, Cursor: cur})
			return err
		}
		tests := []struct {
			name string
			list func(string) error
			cur  string
			want derrors.Kind
		}{
			{"the campaign list's own cursor is followed", listCampaigns, campaigns, noError},
			{"the configuration list's own cursor is followed", listConfigs, configs, noError},
			{"a cursor that is not base64 is invalid", listCampaigns, "!!not-a-cursor", derrors.Invalid},
			{"another tenant's campaign cursor is invalid", listCampaigns, theirs, derrors.Invalid},
			{"a configuration cursor on the campaign list is invalid", listCampaigns, configs, derrors.Invalid},
			{"a campaign cursor on the configuration list is invalid", listConfigs, campaigns, derrors.Invalid},
			{"a configuration cursor that is not base64 is invalid", listConfigs, "!!not-a-cursor", derrors.Invalid},
		}
		for _, tt := range tests {
			wantKind(t, tt.name, tt.list(tt.cur), tt.want)
		}
	})
}
